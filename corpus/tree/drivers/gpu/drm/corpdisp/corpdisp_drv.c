// SPDX-License-Identifier: GPL-2.0-only
/* corpdisp: the drm device is allocated here; mode objects live in corpdisp_kms.c. */
#include <drm/drm_drv.h>
#include "corpdisp.h"

static const struct drm_driver corpdisp_driver = {
	.name = "corpdisp",
};

static int corpdisp_probe(struct platform_device *pdev)
{
	struct corpdisp_device *cdev;
	int ret;

	cdev = devm_drm_dev_alloc(&pdev->dev, &corpdisp_driver, struct corpdisp_device, drm);
	if (IS_ERR(cdev))
		return PTR_ERR(cdev);

	cdev->mmio = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(cdev->mmio))
		return PTR_ERR(cdev->mmio);

	ret = corpdisp_modeset_init(cdev, &pdev->dev);
	if (ret)
		return ret;

	platform_set_drvdata(pdev, cdev);
	return drm_dev_register(&cdev->drm, 0);
}

static void corpdisp_remove(struct platform_device *pdev)
{
	struct corpdisp_device *cdev = platform_get_drvdata(pdev);

	drm_dev_unregister(&cdev->drm);
}
