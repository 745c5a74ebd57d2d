// SPDX-License-Identifier: GPL-2.0-only
/* compdisp LVDS: a separate module whose component bind() allocates its encoder. */
#include <linux/component.h>
#include <linux/platform_device.h>
#include <drm/drm_encoder.h>
#include <drm/drm_managed.h>

struct compdisp_lvds {
	struct device *dev;
	void __iomem *regs;
	struct drm_encoder encoder;
};

struct compdisp_lvds_timing {
	u32 lanes;
	u32 clock_khz;
};

static const struct drm_encoder_funcs compdisp_lvds_encoder_funcs = {
	.destroy = drm_encoder_cleanup,
};

static int compdisp_lvds_bind(struct device *dev, struct device *master, void *data)
{
	struct drm_device *drm = data;
	struct compdisp_lvds *lvds;
	struct compdisp_lvds_timing *timing;

	/* read once to program the bridge, never kept: fine */
	// ok: devm-drm-memory
	timing = devm_kzalloc(dev, sizeof(*timing), GFP_KERNEL);
	if (!timing)
		return -ENOMEM;
	timing->lanes = 4;

	// expect: devm-mode-object
	lvds = devm_kzalloc(dev, sizeof(*lvds), GFP_KERNEL);
	if (!lvds)
		return -ENOMEM;
	lvds->dev = dev;
	dev_set_drvdata(dev, lvds);

	return drm_encoder_init(drm, &lvds->encoder, &compdisp_lvds_encoder_funcs,
				DRM_MODE_ENCODER_LVDS, NULL);
}

static void compdisp_lvds_unbind(struct device *dev, struct device *master, void *data)
{
}

static const struct component_ops compdisp_lvds_ops = {
	.bind = compdisp_lvds_bind,
	.unbind = compdisp_lvds_unbind,
};

static int compdisp_lvds_probe(struct platform_device *pdev)
{
	return component_add(&pdev->dev, &compdisp_lvds_ops);
}

static void compdisp_lvds_remove(struct platform_device *pdev)
{
	component_del(&pdev->dev, &compdisp_lvds_ops);
}

struct platform_driver compdisp_lvds_driver = {
	.probe = compdisp_lvds_probe,
	.remove = compdisp_lvds_remove,
	.name = "compdisp-lvds",
};
