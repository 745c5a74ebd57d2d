// SPDX-License-Identifier: GPL-2.0-only
/*
 * trapdisp output: an encoder and a connector in one struct.  The error path's
 * drm_encoder_cleanup() goes with the switch to drmm_encoder_init().
 */
#include <linux/slab.h>
#include "trapdisp.h"

/* Only cleans up: drmm_encoder_init() does that, so the hook goes. */
static void trapdisp_encoder_destroy(struct drm_encoder *encoder)
{
	drm_encoder_cleanup(encoder);
}

static const struct drm_encoder_funcs trapdisp_encoder_funcs = {
	.destroy = trapdisp_encoder_destroy,
};

static const struct drm_connector_funcs trapdisp_connector_funcs = {
	.fill_modes = NULL,
	.destroy = drm_connector_cleanup,
};

/* No variable for an error code yet: the patch declares one. */
static int trapdisp_output_locks(struct trapdisp_device *tdev)
{
	struct trapdisp_output *out = tdev->output;

	// expect: unmanaged-mutex
	mutex_init(&out->hpd_lock);
	return 0;
}

static const struct drm_encoder_funcs trapdisp_bare_funcs = {
	.destroy = drm_encoder_cleanup,
};

/* A bare encoder, allocated on its own and initialised through the same pointer. */
int trapdisp_bare_encoder(struct trapdisp_device *tdev)
{
	struct drm_encoder *encoder;

	// expect: devm-mode-object
	encoder = devm_kzalloc(tdev->drm.dev, sizeof(*encoder), GFP_KERNEL);
	if (!encoder)
		return -ENOMEM;
	return drm_encoder_init(&tdev->drm, encoder, &trapdisp_bare_funcs,
				DRM_MODE_ENCODER_TMDS, NULL);
}

int trapdisp_output_create(struct trapdisp_device *tdev)
{
	struct trapdisp_output *out;
	int ret;

	// expect: devm-mode-object
	out = devm_kzalloc(tdev->drm.dev, sizeof(*out), GFP_KERNEL);
	if (!out)
		return -ENOMEM;

	out->port = 0;
	ret = drm_encoder_init(&tdev->drm, &out->encoder, &trapdisp_encoder_funcs,
			       DRM_MODE_ENCODER_TMDS, NULL);
	if (ret)
		return ret;

	/* no DDC adapter on this board */
	ret = drm_connector_init(&tdev->drm, &out->connector, &trapdisp_connector_funcs,
				 DRM_MODE_CONNECTOR_HDMIA);
	if (ret)
		goto err_encoder;

	tdev->output = out;
	return trapdisp_output_locks(tdev);

err_encoder:
	drm_encoder_cleanup(&out->encoder);
	return ret;
}
