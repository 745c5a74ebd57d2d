// SPDX-License-Identifier: GPL-2.0-only
/*
 * mastdisp DSI output, a component module: its encoder is devm_ memory, but the
 * master's drm_mode_config_cleanup() calls its .destroy, which drmm_encoder_init()
 * forbids: no patch until the master is converted.
 */
#include <linux/component.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <drm/drm_encoder.h>

struct mastdisp_dsi {
	struct drm_encoder encoder;
	int lanes;
};

static const struct drm_encoder_funcs mastdisp_dsi_funcs = {
	.destroy = drm_encoder_cleanup,
};

static int mastdisp_dsi_bind(struct device *dev, struct device *master, void *data)
{
	struct drm_device *drm = data;
	struct mastdisp_dsi *dsi;

	// expect: devm-mode-object
	dsi = devm_kzalloc(dev, sizeof(*dsi), GFP_KERNEL);
	if (!dsi)
		return -ENOMEM;
	dsi->lanes = 4;
	return drm_encoder_init(drm, &dsi->encoder, &mastdisp_dsi_funcs,
				DRM_MODE_ENCODER_DSI, NULL);
}

static const struct component_ops mastdisp_dsi_ops = {
	.bind = mastdisp_dsi_bind,
};

static int mastdisp_dsi_probe(struct platform_device *pdev)
{
	return component_add(&pdev->dev, &mastdisp_dsi_ops);
}
