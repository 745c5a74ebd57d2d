// SPDX-License-Identifier: GPL-2.0-only
/*
 * gotodisp: the probe's first error check already jumps to a label that takes
 * down the range allocator, which is only set up further on.  The error check
 * a new drmm_ call would copy leads there too, so the patch would add one more
 * way to tear down an allocator that was never initialised: the generator
 * refuses it as unsafe (the armada shape).
 */
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_mm.h>
#include <drm/drm_mode_config.h>

struct gotodisp {
	struct drm_device drm;
	struct mutex linear_lock;
	struct drm_mm linear;
};

static const struct drm_driver gotodisp_driver = {
	.name = "gotodisp",
};

static int gotodisp_setup(struct gotodisp *gd)
{
	return 0;
}

static int gotodisp_probe(struct platform_device *pdev)
{
	struct gotodisp *gd;
	int ret;

	gd = devm_drm_dev_alloc(&pdev->dev, &gotodisp_driver, struct gotodisp, drm);
	if (IS_ERR(gd))
		return PTR_ERR(gd);

	// expect: unmanaged-mutex
	mutex_init(&gd->linear_lock);
	ret = gotodisp_setup(gd);
	if (ret)
		goto err_mm;

	drm_mm_init(&gd->linear, 0, 4096);
	ret = drm_dev_register(&gd->drm, 0);
	if (ret)
		goto err_mm;
	return 0;

err_mm:
	drm_mm_takedown(&gd->linear);
	return ret;
}
