// SPDX-License-Identifier: GPL-2.0-only
/*
 * halfdisp: its status ioctl is guarded already, but its CRTC enable takes a clock
 * between two register writes and cannot be guarded safely: the unplug that would make
 * the existing guard work is refused too, since it would leave the enable open (a
 * partial guard set).
 */
#include <linux/clk.h>
#include <linux/container_of.h>
#include <linux/err.h>
#include <linux/io.h>
#include <linux/platform_device.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>

#define HALFDISP_CTRL	0x00
#define HALFDISP_STAT	0x04

struct halfdisp {
	struct drm_device drm;
	void __iomem *mmio;
	struct clk *clk;
	struct drm_crtc crtc;
};

static void halfdisp_crtc_atomic_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct halfdisp *hd = container_of(crtc->dev, struct halfdisp, drm);

	// expect: unguarded-hw-access
	writel(1, hd->mmio + HALFDISP_CTRL);
	clk_prepare_enable(hd->clk);
	writel(3, hd->mmio + HALFDISP_CTRL);
}

static void halfdisp_crtc_atomic_disable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct halfdisp *hd = container_of(crtc->dev, struct halfdisp, drm);

	writel(0, hd->mmio + HALFDISP_CTRL);
	clk_disable_unprepare(hd->clk);
}

static const struct drm_crtc_helper_funcs halfdisp_crtc_helper_funcs = {
	.atomic_enable = halfdisp_crtc_atomic_enable,
	.atomic_disable = halfdisp_crtc_atomic_disable,
};

static int halfdisp_status_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct halfdisp *hd = container_of(drm, struct halfdisp, drm);
	u32 *out = data;
	int idx;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	// ok: unguarded-hw-access
	*out = readl(hd->mmio + HALFDISP_STAT);
	drm_dev_exit(idx);
	return 0;
}

static const struct drm_ioctl_desc halfdisp_ioctls[] = {
	DRM_IOCTL_DEF_DRV(HALFDISP_STATUS, halfdisp_status_ioctl, DRM_RENDER_ALLOW),
};

static const struct drm_driver halfdisp_driver = {
	.name = "halfdisp",
	.desc = "corpus driver with one guard and one unguardable hook",
	.ioctls = halfdisp_ioctls,
};

static int halfdisp_probe(struct platform_device *pdev)
{
	struct halfdisp *hd;
	int ret;

	hd = devm_drm_dev_alloc(&pdev->dev, &halfdisp_driver, struct halfdisp, drm);
	if (IS_ERR(hd))
		return PTR_ERR(hd);
	hd->mmio = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(hd->mmio))
		return PTR_ERR(hd->mmio);
	hd->clk = devm_clk_get(&pdev->dev, NULL);
	if (IS_ERR(hd->clk))
		return PTR_ERR(hd->clk);
	ret = drmm_mode_config_init(&hd->drm);
	if (ret)
		return ret;
	drm_crtc_helper_add(&hd->crtc, &halfdisp_crtc_helper_funcs);
	platform_set_drvdata(pdev, hd);
	return drm_dev_register(&hd->drm, 0);
}

static void halfdisp_remove(struct platform_device *pdev)
{
	struct halfdisp *hd = platform_get_drvdata(pdev);

	// expect: unregister-without-unplug
	drm_dev_unregister(&hd->drm);
	drm_atomic_helper_shutdown(&hd->drm);
}

static struct platform_driver halfdisp_platform_driver = {
	.probe = halfdisp_probe,
	.remove = halfdisp_remove,
	.driver = {
		.name = "halfdisp",
	},
};
module_platform_driver(halfdisp_platform_driver);
