// SPDX-License-Identifier: GPL-2.0-only
/* handobj: the device, managed by devm_drm_dev_alloc(); see handobj_kms.c for the objects. */
#include <linux/err.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>

#include "handobj.h"

static const struct drm_driver handobj_driver = {
	.name = "handobj",
};

static int handobj_probe(struct platform_device *pdev)
{
	struct handobj_device *hdev;
	int ret;

	hdev = devm_drm_dev_alloc(&pdev->dev, &handobj_driver, struct handobj_device, drm);
	if (IS_ERR(hdev))
		return PTR_ERR(hdev);
	ret = drmm_mode_config_init(&hdev->drm);
	if (ret)
		return ret;
	ret = handobj_kms_init(hdev);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, hdev);
	return drm_dev_register(&hdev->drm, 0);
}

static void handobj_remove(struct platform_device *pdev)
{
	struct handobj_device *hdev = platform_get_drvdata(pdev);

	drm_dev_unplug(&hdev->drm);
	handobj_kms_fini(hdev);
}

static struct platform_driver handobj_platform_driver = {
	.probe = handobj_probe,
	.remove = handobj_remove,
	.driver = { .name = "handobj" },
};
module_platform_driver(handobj_platform_driver);
