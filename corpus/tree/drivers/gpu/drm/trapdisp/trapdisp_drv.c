// SPDX-License-Identifier: GPL-2.0-only
/*
 * trapdisp: a devm_drm_dev_alloc() driver with a goto-based probe and a manual
 * drm_mode_config_cleanup() that the drmm_ helpers make redundant.
 */
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_mode_config.h>
#include "trapdisp.h"

static const struct drm_driver trapdisp_driver = {
	.name = "trapdisp",
};

int trapdisp_power_up(struct trapdisp_device *tdev)
{
	return 0;
}

void trapdisp_power_down(struct trapdisp_device *tdev)
{
}

static int trapdisp_probe(struct platform_device *pdev)
{
	struct trapdisp_device *tdev;
	struct drm_device *drm;
	int ret;

	tdev = devm_drm_dev_alloc(&pdev->dev, &trapdisp_driver, struct trapdisp_device, drm);
	if (IS_ERR(tdev))
		return PTR_ERR(tdev);
	drm = &tdev->drm;

	ret = drmm_mode_config_init(drm);
	if (ret)
		return ret;

	ret = trapdisp_power_up(tdev);
	if (ret)
		return ret;

	/* serialises commits against the register window */
	// expect: unmanaged-mutex
	mutex_init(&tdev->commit_lock);
	tdev->mmio = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(tdev->mmio)) {
		ret = PTR_ERR(tdev->mmio);
		goto err_power;
	}

	tdev->primary = trapdisp_primary_create(drm, 1);
	if (IS_ERR(tdev->primary)) {
		ret = PTR_ERR(tdev->primary);
		goto err_cleanup;
	}
	tdev->cursor = trapdisp_cursor_create(drm);
	if (!tdev->cursor) {
		ret = -ENOMEM;
		goto err_cleanup;
	}
	ret = trapdisp_overlay_create(tdev);
	if (ret)
		goto err_cleanup;
	ret = trapdisp_output_create(tdev);
	if (ret)
		goto err_cleanup;

	platform_set_drvdata(pdev, tdev);
	ret = drm_dev_register(drm, 0);
	if (ret)
		goto err_cleanup;
	return 0;

err_cleanup:
	// expect: unmanaged-mode-config
	drm_mode_config_cleanup(drm);
err_power:
	trapdisp_power_down(tdev);
	return ret;
}

static void trapdisp_remove(struct platform_device *pdev)
{
	struct trapdisp_device *tdev = platform_get_drvdata(pdev);

	drm_dev_unregister(&tdev->drm);
	trapdisp_power_down(tdev);
}
