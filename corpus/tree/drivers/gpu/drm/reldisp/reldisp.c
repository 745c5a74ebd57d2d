// SPDX-License-Identifier: GPL-2.0-only
/*
 * reldisp: tears its software state down at drm release, in its
 * drm_driver.release hook, where it destroys its locks by hand; the mode config
 * is cleaned up there too, which is right.  The lock it forgot belongs there,
 * by the driver's own convention, not in a drmm_ action: its mutex_destroy()
 * goes beside the hook's own.  The queue's lock is of a struct whose locks the
 * hook never destroys: there is no teardown of its kind to put it beside, and
 * it gets no patch.
 */
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>

struct reldisp_queue {
	struct mutex lock;
	int depth;
};

struct reldisp {
	struct drm_device drm;
	struct reldisp_queue queue;
	struct mutex ring_lock;
	struct mutex reset_lock;
};

static void reldisp_release(struct drm_device *drm)
{
	struct reldisp *rd = container_of(drm, struct reldisp, drm);

	mutex_destroy(&rd->ring_lock);
	// ok: unmanaged-mode-config
	drm_mode_config_cleanup(drm);
}

static const struct drm_driver reldisp_driver = {
	.name = "reldisp",
	.release = reldisp_release,
};

static int reldisp_probe(struct platform_device *pdev)
{
	struct reldisp *rd;

	rd = devm_drm_dev_alloc(&pdev->dev, &reldisp_driver, struct reldisp, drm);
	if (IS_ERR(rd))
		return PTR_ERR(rd);
	// ok: unmanaged-mutex
	mutex_init(&rd->ring_lock);
	// expect: unmanaged-mutex
	mutex_init(&rd->reset_lock);
	// expect: unmanaged-mutex
	mutex_init(&rd->queue.lock);
	return drm_dev_register(&rd->drm, 0);
}
