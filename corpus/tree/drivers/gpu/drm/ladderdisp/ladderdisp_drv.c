// SPDX-License-Identifier: GPL-2.0-only
/*
 * ladderdisp: the probe unwinds its errors with a goto ladder, and the range
 * allocator's helper by hand (the v3d_gem_init shape).  A new
 * drmm_mutex_init() in the helper undoes what the check after it undoes, its
 * message and error code left out; the poll lock, set up after the last check
 * of the probe, copies the exit of the check of the managed irq request just
 * before it.
 */
#include <linux/err.h>
#include <linux/interrupt.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>
#include "ladderdisp.h"

static const struct drm_driver ladderdisp_driver = {
	.name = "ladderdisp",
};

static irqreturn_t ladderdisp_irq(int irq, void *arg)
{
	return IRQ_HANDLED;
}

static int ladderdisp_vram_init(struct ladderdisp *ld)
{
	drm_mm_init(&ld->vram, 0, 4096);
	// expect: unmanaged-mutex
	mutex_init(&ld->vram_lock);
	ld->ring = kzalloc(64, GFP_KERNEL);
	if (!ld->ring) {
		drm_mm_takedown(&ld->vram);
		dev_err(ld->drm.dev, "no ring\n");
		return -ENOMEM;
	}
	return 0;
}

static void ladderdisp_reset(struct ladderdisp *ld)
{
	ladderdisp_hpd_init(ld);
}

static int ladderdisp_probe(struct platform_device *pdev)
{
	struct ladderdisp *ld;
	int ret;

	ld = devm_drm_dev_alloc(&pdev->dev, &ladderdisp_driver, struct ladderdisp, drm);
	if (IS_ERR(ld))
		return PTR_ERR(ld);

	ret = ladderdisp_vram_init(ld);
	if (ret)
		return ret;
	ladderdisp_irq_init(ld);
	ret = drmm_mode_config_init(&ld->drm);
	if (ret)
		goto err_vram;
	ladderdisp_hpd_init(ld);
	ret = devm_request_irq(&pdev->dev, 0, ladderdisp_irq, 0, "ladderdisp", ld);
	if (ret)
		goto err_vram;
	// expect: unmanaged-mutex
	mutex_init(&ld->poll_lock);
	platform_set_drvdata(pdev, ld);
	ret = drm_dev_register(&ld->drm, 0);
	if (ret)
		goto err_vram;
	return 0;

err_vram:
	kfree(ld->ring);
	drm_mm_takedown(&ld->vram);
	return ret;
}

static void ladderdisp_remove(struct platform_device *pdev)
{
	struct ladderdisp *ld = platform_get_drvdata(pdev);

	drm_dev_unregister(&ld->drm);
	ladderdisp_reset(ld);
}
