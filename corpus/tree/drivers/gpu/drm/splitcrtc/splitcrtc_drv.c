// SPDX-License-Identifier: GPL-2.0-only
/* splitcrtc: drm device here; the CRTC and planes are devm_-allocated in the other two files. */
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_mode_config.h>
#include "splitcrtc.h"

static const struct drm_driver splitcrtc_driver = {
	.name = "splitcrtc",
	.desc = "split CRTC corpus driver",
};

static int splitcrtc_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct splitcrtc_device *sdev;
	struct splitcrtc_crtc *scrtc;
	int ret;

	sdev = devm_drm_dev_alloc(dev, &splitcrtc_driver, struct splitcrtc_device, drm);
	if (IS_ERR(sdev))
		return PTR_ERR(sdev);

	sdev->mmio = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(sdev->mmio))
		return PTR_ERR(sdev->mmio);

	/* destroyed by splitcrtc_release() in splitcrtc_crtc.c */
	// ok: unmanaged-mutex
	mutex_init(&sdev->commit_lock);
	ret = drmm_add_action_or_reset(&sdev->drm, splitcrtc_release, NULL);
	if (ret)
		return ret;

	// ok: unmanaged-mode-config
	ret = drmm_mode_config_init(&sdev->drm);
	if (ret)
		return ret;

	ret = splitcrtc_planes_create(sdev, dev, SPLITCRTC_MAX_PLANES);
	if (ret)
		return ret;

	scrtc = splitcrtc_crtc_alloc(dev, sdev->mmio);
	if (!scrtc)
		return -ENOMEM;

	ret = splitcrtc_crtc_init(sdev, scrtc);
	if (ret)
		return ret;

	platform_set_drvdata(pdev, sdev);
	return drm_dev_register(&sdev->drm, 0);
}

static void splitcrtc_remove(struct platform_device *pdev)
{
	struct splitcrtc_device *sdev = platform_get_drvdata(pdev);

	drm_dev_unplug(&sdev->drm);
}
