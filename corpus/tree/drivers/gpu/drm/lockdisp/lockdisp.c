// SPDX-License-Identifier: GPL-2.0-only
/*
 * lockdisp: the device struct has three locks; two are destroyed by hand in
 * the fini helper, one never is.  Managing the one means managing
 * its siblings too, whose mutex_destroy() calls go.  The session struct is
 * kzalloc'd and kfree'd by the driver (also on an error path), so a drmm_
 * release action on its lock would run on freed memory: no patch.
 */
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>

struct lockdisp_session {
	struct mutex lock;
	int id;
};

struct lockdisp {
	struct drm_device drm;
	struct mutex commit_lock;
	struct mutex vblank_lock;
	struct mutex hpd_lock;
	struct lockdisp_session *session;
};

static const struct drm_driver lockdisp_driver = {
	.name = "lockdisp",
};

static int lockdisp_session_start(struct lockdisp *ld)
{
	struct lockdisp_session *s;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	// expect: unmanaged-mutex
	mutex_init(&s->lock);
	if (ld->session) {
		kfree(s);
		return -EBUSY;
	}
	ld->session = s;
	return 0;
}

static void lockdisp_fini(struct lockdisp *ld)
{
	mutex_destroy(&ld->vblank_lock);
	mutex_destroy(&ld->hpd_lock);
}

static int lockdisp_probe(struct platform_device *pdev)
{
	struct lockdisp *ld;
	int ret;

	ld = devm_drm_dev_alloc(&pdev->dev, &lockdisp_driver, struct lockdisp, drm);
	if (IS_ERR(ld))
		return PTR_ERR(ld);

	// expect: unmanaged-mutex
	mutex_init(&ld->commit_lock);
	// ok: unmanaged-mutex
	mutex_init(&ld->vblank_lock);
	// ok: unmanaged-mutex
	mutex_init(&ld->hpd_lock);

	ret = drmm_mode_config_init(&ld->drm);
	if (ret)
		return ret;
	ret = lockdisp_session_start(ld);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, ld);
	return drm_dev_register(&ld->drm, 0);
}

static void lockdisp_remove(struct platform_device *pdev)
{
	struct lockdisp *ld = platform_get_drvdata(pdev);

	drm_dev_unregister(&ld->drm);
	lockdisp_fini(ld);
}
