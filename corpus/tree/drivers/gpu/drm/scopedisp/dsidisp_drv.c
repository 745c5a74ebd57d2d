// SPDX-License-Identifier: GPL-2.0-only
/*
 * dsidisp master: its CRTC hooks touch registers unguarded, but its DSI output (a component
 * platform driver of the same module) keeps its encoder in probe-time devm_ memory, so
 * removal cannot switch to drm_dev_unplug(): the guards and the unplug are refused.
 */
#include <linux/component.h>
#include <linux/container_of.h>
#include <linux/err.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>

#define DSIDISP_CTRL	0x10

struct dsidisp {
	struct drm_device drm;
	void __iomem *base;
	struct drm_crtc crtc;
};

static void dsidisp_crtc_atomic_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct dsidisp *dd = container_of(crtc->dev, struct dsidisp, drm);

	// expect: unguarded-hw-access
	writel(1, dd->base + DSIDISP_CTRL);
}

static const struct drm_crtc_helper_funcs dsidisp_crtc_helper_funcs = {
	.atomic_enable = dsidisp_crtc_atomic_enable,
};

static const struct drm_driver dsidisp_driver = {
	.name = "dsidisp",
	.desc = "corpus master whose DSI encoder lives in devm_ memory",
};

static int dsidisp_bind(struct device *dev)
{
	struct platform_device *pdev = to_platform_device(dev);
	struct dsidisp *dd;
	int ret;

	dd = devm_drm_dev_alloc(dev, &dsidisp_driver, struct dsidisp, drm);
	if (IS_ERR(dd))
		return PTR_ERR(dd);
	dd->base = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(dd->base))
		return PTR_ERR(dd->base);
	ret = drmm_mode_config_init(&dd->drm);
	if (ret)
		return ret;
	drm_crtc_helper_add(&dd->crtc, &dsidisp_crtc_helper_funcs);
	dev_set_drvdata(dev, &dd->drm);
	ret = component_bind_all(dev, &dd->drm);
	if (ret)
		return ret;
	return drm_dev_register(&dd->drm, 0);
}

static void dsidisp_unbind(struct device *dev)
{
	struct drm_device *drm = dev_get_drvdata(dev);

	// expect: unregister-without-unplug
	drm_dev_unregister(drm);
	component_unbind_all(dev, drm);
}

static const struct component_master_ops dsidisp_master_ops = {
	.bind = dsidisp_bind,
	.unbind = dsidisp_unbind,
};

static int dsidisp_probe(struct platform_device *pdev)
{
	return component_master_add_with_match(&pdev->dev, &dsidisp_master_ops, NULL);
}

static void dsidisp_shutdown(struct platform_device *pdev)
{
	struct drm_device *drm = platform_get_drvdata(pdev);

	drm_atomic_helper_shutdown(drm);
}

static struct platform_driver dsidisp_platform_driver = {
	.probe = dsidisp_probe,
	.shutdown = dsidisp_shutdown,
	.driver = {
		.name = "dsidisp",
	},
};
module_platform_driver(dsidisp_platform_driver);
