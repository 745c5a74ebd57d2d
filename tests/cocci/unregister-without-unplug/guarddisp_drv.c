// SPDX-License-Identifier: GPL-2.0-only
/* guarddisp: drm-managed objects, devm_ registers and clock, an ioctl of its own. */
#include <linux/platform_device.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_managed.h>
#include <drm/drm_mode_config.h>
#include "guarddisp.h"

static const struct drm_ioctl_desc guarddisp_ioctls[] = {
	DRM_IOCTL_DEF_DRV(GUARDDISP_STATUS, guarddisp_status_ioctl, DRM_RENDER_ALLOW),
};

static const struct drm_driver guarddisp_driver = {
	.name = "guarddisp",
	.desc = "corpus driver with registers touched from callbacks",
	.ioctls = guarddisp_ioctls,
	.num_ioctls = ARRAY_SIZE(guarddisp_ioctls),
	.postclose = guarddisp_postclose,
};

static int guarddisp_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct guarddisp_device *gd;
	int ret;

	gd = devm_drm_dev_alloc(dev, &guarddisp_driver, struct guarddisp_device, drm);
	if (IS_ERR(gd))
		return PTR_ERR(gd);

	gd->mmio = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(gd->mmio))
		return PTR_ERR(gd->mmio);
	gd->pclk = devm_clk_get(dev, "pixel");
	if (IS_ERR(gd->pclk))
		return PTR_ERR(gd->pclk);

	ret = drmm_mode_config_init(&gd->drm);
	if (ret)
		return ret;
	ret = guarddisp_kms_init(gd);
	if (ret)
		return ret;

	platform_set_drvdata(pdev, gd);
	ret = drm_dev_register(&gd->drm, 0);
	if (ret)
		return ret;
	ret = guarddisp_sysfs_init(gd);
	if (ret) {
		/* probe unwinding, not a removal path */
		// ok: unregister-without-unplug
		drm_dev_unregister(&gd->drm);
		return ret;
	}
	return 0;
}

/* shuts down before it unregisters: drm_dev_unplug() moves before the shutdown */
static void guarddisp_remove(struct platform_device *pdev)
{
	struct guarddisp_device *gd = platform_get_drvdata(pdev);

	drm_atomic_helper_shutdown(&gd->drm);
	// expect: unregister-without-unplug
	drm_dev_unregister(&gd->drm);
}

static struct platform_driver guarddisp_platform_driver = {
	.probe = guarddisp_probe,
	.remove = guarddisp_remove,
	.driver = {
		.name = "guarddisp",
	},
};
module_platform_driver(guarddisp_platform_driver);
