// SPDX-License-Identifier: GPL-2.0-only
/*
 * dsidisp DSI output: a component whose private struct, encoder included, is devm_
 * memory of its own platform device, allocated at probe.  Its register shadow is
 * allocated at bind into that devm_ container, and so is each lane's gamma table (in a
 * struct embedded in it): drmm_ memory there would outlive its only pointer, so both are
 * left alone.
 */
#include <linux/component.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <drm/drm_encoder.h>

struct dsidisp_lane {
	u16 *gamma;
	int index;
};

struct dsidisp_dsi {
	struct drm_encoder encoder;
	struct drm_device *drm;
	u32 *shadow;
	struct dsidisp_lane lane[2];
	int lanes;
};

static const struct drm_encoder_funcs dsidisp_dsi_funcs = {
	.destroy = drm_encoder_cleanup,
};

static int dsidisp_dsi_bind(struct device *dev, struct device *master, void *data)
{
	struct dsidisp_dsi *dsi = dev_get_drvdata(dev);
	struct drm_device *drm = data;

	dsi->drm = drm;
	// ok: devm-drm-memory
	dsi->shadow = devm_kzalloc(dev, 64 * sizeof(u32), GFP_KERNEL);
	if (!dsi->shadow)
		return -ENOMEM;
	// ok: devm-drm-memory
	dsi->lane[0].gamma = devm_kcalloc(dev, 256, sizeof(u16), GFP_KERNEL);
	if (!dsi->lane[0].gamma)
		return -ENOMEM;
	return drm_encoder_init(drm, &dsi->encoder, &dsidisp_dsi_funcs, DRM_MODE_ENCODER_DSI, NULL);
}

static const struct component_ops dsidisp_dsi_ops = {
	.bind = dsidisp_dsi_bind,
};

static int dsidisp_dsi_probe(struct platform_device *pdev)
{
	struct dsidisp_dsi *dsi;

	// expect: devm-mode-object
	dsi = devm_kzalloc(&pdev->dev, sizeof(*dsi), GFP_KERNEL);
	if (!dsi)
		return -ENOMEM;
	dsi->lanes = 4;
	dev_set_drvdata(&pdev->dev, dsi);
	return component_add(&pdev->dev, &dsidisp_dsi_ops);
}

static struct platform_driver dsidisp_dsi_driver = {
	.probe = dsidisp_dsi_probe,
	.driver = {
		.name = "dsidisp-dsi",
	},
};
module_platform_driver(dsidisp_dsi_driver);
