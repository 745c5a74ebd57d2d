// SPDX-License-Identifier: GPL-2.0-only
/*
 * tearioctl: removal destroys the devm_ CRTC before devres frees it, as in
 * teardisp, so the CRTC's hooks are safe; but a driver ioctl writes the same
 * registers, and an open file still calls it after unbind: that ioctl needs a
 * drm_dev_enter() guard, and removal drm_dev_unplug().
 */
#include <linux/container_of.h>
#include <linux/io.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_ioctl.h>
#include <drm/drm_mode_config.h>

#define TEARIOCTL_CTRL	0x04
#define TEARIOCTL_GAMMA	0x08

struct tearioctl {
	struct drm_device drm;
	struct tearioctl_crtc *crtc;
};

struct tearioctl_crtc {
	struct drm_crtc base;
	void __iomem *regs;
};

static void tearioctl_crtc_atomic_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct tearioctl_crtc *tc = container_of(crtc, struct tearioctl_crtc, base);

	// ok: unguarded-hw-access
	writel(1, tc->regs + TEARIOCTL_CTRL);
}

static const struct drm_crtc_funcs tearioctl_crtc_funcs = {
	.destroy = drm_crtc_cleanup,
};

static const struct drm_crtc_helper_funcs tearioctl_crtc_helper_funcs = {
	.atomic_enable = tearioctl_crtc_atomic_enable,
};

static int tearioctl_gamma_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct tearioctl *td = container_of(drm, struct tearioctl, drm);

	// expect: unguarded-hw-access
	writel(*(u32 *)data, td->crtc->regs + TEARIOCTL_GAMMA);
	return 0;
}

static const struct drm_ioctl_desc tearioctl_ioctls[] = {
	DRM_IOCTL_DEF_DRV(TEARIOCTL_GAMMA, tearioctl_gamma_ioctl, DRM_RENDER_ALLOW),
};

static const struct drm_driver tearioctl_driver = {
	.name = "tearioctl",
	.ioctls = tearioctl_ioctls,
	.num_ioctls = ARRAY_SIZE(tearioctl_ioctls),
};

static int tearioctl_probe(struct platform_device *pdev)
{
	struct tearioctl_crtc *tc;
	struct tearioctl *td;
	int ret;

	td = devm_drm_dev_alloc(&pdev->dev, &tearioctl_driver, struct tearioctl, drm);
	if (IS_ERR(td))
		return PTR_ERR(td);
	// ok: devm-mode-object
	tc = devm_kzalloc(&pdev->dev, sizeof(*tc), GFP_KERNEL);
	if (!tc)
		return -ENOMEM;
	tc->regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(tc->regs))
		return PTR_ERR(tc->regs);
	td->crtc = tc;
	ret = drmm_mode_config_init(&td->drm);
	if (ret)
		return ret;
	/* safe while remove destroys it first, but it keeps the manual cleanup from going (low) */
	// expect: unmanaged-mode-object
	ret = drm_crtc_init_with_planes(&td->drm, &tc->base, NULL, NULL, &tearioctl_crtc_funcs, NULL);
	if (ret)
		return ret;
	drm_crtc_helper_add(&tc->base, &tearioctl_crtc_helper_funcs);
	platform_set_drvdata(pdev, td);
	return drm_dev_register(&td->drm, 0);
}

static void tearioctl_remove(struct platform_device *pdev)
{
	struct tearioctl *td = platform_get_drvdata(pdev);

	// expect: unregister-without-unplug
	drm_dev_unregister(&td->drm);
	drm_atomic_helper_shutdown(&td->drm);
	// expect: unmanaged-mode-config
	drm_mode_config_cleanup(&td->drm);
}

static struct platform_driver tearioctl_platform_driver = {
	.probe = tearioctl_probe,
	.remove = tearioctl_remove,
	.driver = {
		.name = "tearioctl",
	},
};
module_platform_driver(tearioctl_platform_driver);
