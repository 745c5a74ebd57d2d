// SPDX-License-Identifier: GPL-2.0-only
/*
 * kzdisp: a driver whose mode objects all live in kzalloc() memory freed by their
 * .destroy hooks, and which tears its mode config down by hand at removal and on a
 * probe error.  Every object can move to drm lifetime, so the manual cleanups go in
 * the same commit (the shape upstream used for msm and tidss).
 */
#include <linux/err.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>

#include "kzdisp.h"

static const struct drm_driver kzdisp_driver = {
	.name = "kzdisp",
};

static int kzdisp_probe(struct platform_device *pdev)
{
	struct kzdisp_device *kd;
	int ret;

	kd = devm_drm_dev_alloc(&pdev->dev, &kzdisp_driver, struct kzdisp_device, drm);
	if (IS_ERR(kd))
		return PTR_ERR(kd);

	ret = drm_mode_config_init(&kd->drm);
	if (ret)
		return ret;

	ret = kzdisp_kms_init(kd);
	if (ret)
		goto err_mode_config;

	platform_set_drvdata(pdev, kd);
	ret = drm_dev_register(&kd->drm, 0);
	if (ret)
		goto err_mode_config;
	return 0;

err_mode_config:
	// expect: unmanaged-mode-config
	drm_mode_config_cleanup(&kd->drm);
	return ret;
}

static void kzdisp_remove(struct platform_device *pdev)
{
	struct kzdisp_device *kd = platform_get_drvdata(pdev);

	drm_dev_unregister(&kd->drm);
	// expect: unmanaged-mode-config
	drm_mode_config_cleanup(&kd->drm);
}

static struct platform_driver kzdisp_platform_driver = {
	.probe = kzdisp_probe,
	.remove = kzdisp_remove,
	.driver = { .name = "kzdisp" },
};
module_platform_driver(kzdisp_platform_driver);
