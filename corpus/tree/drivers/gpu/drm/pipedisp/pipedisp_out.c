// SPDX-License-Identifier: GPL-2.0-only
/* pipedisp outputs: every struct here embeds a mode object somewhere, all in devm_ memory. */
#include "pipedisp.h"

static const u32 pipedisp_formats[] = {
	0x34325258,	/* XR24 */
};

static const u32 pipedisp_wb_formats[] = {
	0x34325258,	/* XR24 */
	0x36314752,	/* RG16 */
};

static const struct drm_simple_display_pipe_funcs pipedisp_pipe_funcs = {
	.enable = NULL,
};

static const struct drm_plane_funcs pipedisp_layer_funcs = {
	.destroy = drm_plane_cleanup,
};

static const struct drm_encoder_funcs pipedisp_encoder_funcs = {
	.destroy = drm_encoder_cleanup,
};

static const struct drm_connector_funcs pipedisp_connector_funcs = {
	.destroy = drm_connector_cleanup,
};

static struct drm_private_state *pipedisp_bw_duplicate(struct drm_private_obj *obj)
{
	return NULL;
}

static void pipedisp_bw_destroy(struct drm_private_obj *obj, struct drm_private_state *state)
{
}

static const struct drm_private_state_funcs pipedisp_bw_funcs = {
	.atomic_duplicate_state = pipedisp_bw_duplicate,
	.atomic_destroy_state = pipedisp_bw_destroy,
};

static int pipedisp_connectors_create(struct pipedisp_device *pdd, struct device *dev)
{
	struct pipedisp_dual_conn *conns;
	int i, ret;

	// expect: devm-mode-object
	conns = devm_kzalloc(dev, sizeof(*conns), GFP_KERNEL);
	if (!conns)
		return -ENOMEM;

	for (i = 0; i < 2; i++) {
		ret = drm_connector_init(&pdd->drm, &conns->conn[i], &pipedisp_connector_funcs,
					 DRM_MODE_CONNECTOR_DPI);
		if (ret)
			return ret;
	}
	conns->ddc = pdd->mmio + 0x800;
	pdd->conns = conns;
	return 0;
}

static int pipedisp_layers_create(struct pipedisp_device *pdd, struct device *dev)
{
	struct pipedisp_layer *layers;
	unsigned int i;
	int ret;

	// expect: devm-mode-object
	layers = devm_kmalloc_array(dev, PIPEDISP_NUM_LAYERS, sizeof(*layers), GFP_KERNEL | __GFP_ZERO);
	if (!layers)
		return -ENOMEM;

	for (i = 0; i < PIPEDISP_NUM_LAYERS; i++) {
		layers[i].id = i;
		layers[i].hw.offset = 0x1000 * i;
		ret = drm_universal_plane_init(&pdd->drm, &layers[i].hw.plane, 1,
					       &pipedisp_layer_funcs, pipedisp_formats,
					       ARRAY_SIZE(pipedisp_formats), NULL,
					       DRM_PLANE_TYPE_OVERLAY, NULL);
		if (ret)
			return ret;
	}
	pdd->layers = layers;
	return 0;
}

int pipedisp_outputs_create(struct pipedisp_device *pdd, struct device *dev)
{
	struct pipedisp_output *out;
	struct pipedisp_encoder *aux;
	struct pipedisp_wb *wb;
	int ret;

	ret = pipedisp_connectors_create(pdd, dev);
	if (ret)
		return ret;

	// expect: devm-mode-object
	out = devm_kzalloc(dev, sizeof(*out), GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	out->format = pipedisp_formats[0];
	ret = drm_simple_display_pipe_init(&pdd->drm, &out->pipe, &pipedisp_pipe_funcs,
					   pipedisp_formats, ARRAY_SIZE(pipedisp_formats), NULL,
					   &pdd->conns->conn[0]);
	if (ret)
		return ret;
	pdd->out = out;

	ret = pipedisp_layers_create(pdd, dev);
	if (ret)
		return ret;

	// expect: devm-mode-object
	aux = devm_kzalloc(dev, sizeof(struct pipedisp_encoder), GFP_KERNEL);
	if (!aux)
		return -ENOMEM;
	aux->port = 1;
	ret = drm_encoder_init(&pdd->drm, &aux->base, &pipedisp_encoder_funcs,
			       DRM_MODE_ENCODER_DAC, NULL);
	if (ret)
		return ret;
	pdd->aux = aux;

	// expect: devm-mode-object
	wb = devm_kmalloc(dev, sizeof(*wb), GFP_KERNEL | __GFP_ZERO);
	if (!wb)
		return -ENOMEM;
	ret = drm_writeback_connector_init(&pdd->drm, &wb->wb, &pipedisp_connector_funcs, NULL,
					   pipedisp_wb_formats, ARRAY_SIZE(pipedisp_wb_formats), 1);
	if (ret)
		return ret;
	pdd->wb = wb;

	// expect: devm-mode-object
	pdd->bw = devm_kzalloc(dev, sizeof(*pdd->bw), GFP_KERNEL);
	if (!pdd->bw)
		return -ENOMEM;
	pdd->bw->max_bw = 1000;
	drm_atomic_private_obj_init(&pdd->drm, &pdd->bw->obj, NULL, &pipedisp_bw_funcs);
	return 0;
}
