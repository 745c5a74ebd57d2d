// SPDX-License-Identifier: GPL-2.0-only
/* cleandisp mode objects: every one allocated or initialised with a drmm_ helper. */
#include <drm/drm_managed.h>
#include "cleandisp.h"

#define CLEANDISP_LUT_SIZE	256

static const u32 cleandisp_formats[] = {
	0x34325258,	/* XR24 */
};

static const struct drm_plane_funcs cleandisp_plane_funcs = {
	.reset = NULL,
};

static const struct drm_crtc_funcs cleandisp_crtc_funcs = {
	.reset = NULL,
};

static const struct drm_connector_funcs cleandisp_connector_funcs = {
	.reset = NULL,
};

static void cleandisp_crtc_atomic_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct cleandisp_crtc *ccrtc = to_cleandisp_crtc(crtc);
	unsigned int i;
	int idx;

	if (!drm_dev_enter(crtc->dev, &idx))
		return;
	for (i = 0; i < CLEANDISP_LUT_SIZE; i++)
		ccrtc->gamma[i] = i;
	drm_dev_exit(idx);
}

static const struct drm_crtc_helper_funcs cleandisp_crtc_helper_funcs = {
	.atomic_enable = cleandisp_crtc_atomic_enable,
};

static int cleandisp_wb_init(struct cleandisp_device *cd)
{
	struct cleandisp_plane *wb_plane;
	struct cleandisp_crtc *wb_crtc;
	int ret;

	// ok: devm-mode-object
	wb_plane = drmm_universal_plane_alloc(&cd->drm, struct cleandisp_plane, base, 2,
					      &cleandisp_plane_funcs, cleandisp_formats,
					      ARRAY_SIZE(cleandisp_formats), NULL,
					      DRM_PLANE_TYPE_PRIMARY, NULL);
	if (IS_ERR(wb_plane))
		return PTR_ERR(wb_plane);

	// ok: devm-mode-object
	wb_crtc = drmm_kzalloc(&cd->drm, sizeof(*wb_crtc), GFP_KERNEL);
	if (!wb_crtc)
		return -ENOMEM;
	// ok: devm-mode-object
	ret = drmm_crtc_init_with_planes(&cd->drm, &wb_crtc->base, &wb_plane->base, NULL,
					 &cleandisp_crtc_funcs, NULL);
	if (ret)
		return ret;
	cd->wb_crtc = wb_crtc;

	// ok: devm-mode-object
	ret = drmm_encoder_init(&cd->drm, &cd->wb_encoder, NULL, DRM_MODE_ENCODER_VIRTUAL, NULL);
	if (ret)
		return ret;
	cd->wb_encoder.possible_crtcs = 2;

	// ok: devm-mode-object
	return drmm_writeback_connector_init(&cd->drm, &cd->wb, &cleandisp_connector_funcs,
					     &cd->wb_encoder, cleandisp_formats,
					     ARRAY_SIZE(cleandisp_formats));
}

int cleandisp_kms_init(struct cleandisp_device *cd)
{
	struct cleandisp_encoder *encoder;
	struct cleandisp_plane *primary;
	struct cleandisp_crtc *crtc;
	int ret;

	// ok: devm-mode-object
	primary = drmm_universal_plane_alloc(&cd->drm, struct cleandisp_plane, base, 1,
					     &cleandisp_plane_funcs, cleandisp_formats,
					     ARRAY_SIZE(cleandisp_formats), NULL,
					     DRM_PLANE_TYPE_PRIMARY, NULL);
	if (IS_ERR(primary))
		return PTR_ERR(primary);
	cd->primary = primary;

	// ok: devm-mode-object
	crtc = drmm_crtc_alloc_with_planes(&cd->drm, struct cleandisp_crtc, base, &primary->base,
					   NULL, &cleandisp_crtc_funcs, NULL);
	if (IS_ERR(crtc))
		return PTR_ERR(crtc);
	crtc->regs = cd->mmio;
	drm_crtc_helper_add(&crtc->base, &cleandisp_crtc_helper_funcs);

	// ok: devm-drm-memory
	crtc->gamma = drmm_kcalloc(&cd->drm, CLEANDISP_LUT_SIZE, sizeof(*crtc->gamma), GFP_KERNEL);
	if (!crtc->gamma)
		return -ENOMEM;
	cd->crtc = crtc;

	// ok: devm-mode-object
	encoder = drmm_encoder_alloc(&cd->drm, struct cleandisp_encoder, base, NULL,
				     DRM_MODE_ENCODER_TMDS, NULL);
	if (IS_ERR(encoder))
		return PTR_ERR(encoder);
	encoder->base.possible_crtcs = 1;
	cd->encoder = encoder;

	// ok: devm-mode-object
	ret = drmm_connector_init(&cd->drm, &cd->connector, &cleandisp_connector_funcs,
				  DRM_MODE_CONNECTOR_HDMIA, NULL);
	if (ret)
		return ret;
	ret = drm_connector_attach_encoder(&cd->connector, &encoder->base);
	if (ret)
		return ret;

	return cleandisp_wb_init(cd);
}
