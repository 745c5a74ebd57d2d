// SPDX-License-Identifier: GPL-2.0-only
/*
 * latedisp: removal gates the clock before the shutdown commit, which then writes
 * registers of an unclocked block: the unplug (and so the guards) are refused until the
 * shutdown moves first.
 */
#include <linux/clk.h>
#include <linux/container_of.h>
#include <linux/io.h>
#include <linux/platform_device.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>

#define LATEDISP_CTRL	0x00

struct latedisp_device {
	struct drm_device drm;
	void __iomem *mmio;
	struct clk *clk;
	struct drm_crtc crtc;
};

static void latedisp_crtc_atomic_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct latedisp_device *ld = container_of(crtc->dev, struct latedisp_device, drm);

	// expect: unguarded-hw-access
	writel(1, ld->mmio + LATEDISP_CTRL);
}

static const struct drm_crtc_helper_funcs latedisp_crtc_helper_funcs = {
	.atomic_enable = latedisp_crtc_atomic_enable,
};

static const struct drm_driver latedisp_driver = {
	.name = "latedisp",
	.desc = "corpus driver that gates its clock before the shutdown",
};

static int latedisp_probe(struct platform_device *pdev)
{
	struct latedisp_device *ld;

	ld = devm_drm_dev_alloc(&pdev->dev, &latedisp_driver, struct latedisp_device, drm);
	if (IS_ERR(ld))
		return PTR_ERR(ld);
	ld->mmio = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(ld->mmio))
		return PTR_ERR(ld->mmio);
	ld->clk = devm_clk_get_enabled(&pdev->dev, NULL);
	if (IS_ERR(ld->clk))
		return PTR_ERR(ld->clk);
	drm_crtc_helper_add(&ld->crtc, &latedisp_crtc_helper_funcs);
	platform_set_drvdata(pdev, ld);
	return drm_dev_register(&ld->drm, 0);
}

static void latedisp_remove(struct platform_device *pdev)
{
	struct latedisp_device *ld = platform_get_drvdata(pdev);

	clk_disable_unprepare(ld->clk);
	// expect: unregister-without-unplug
	drm_dev_unregister(&ld->drm);
	drm_atomic_helper_shutdown(&ld->drm);
}

static struct platform_driver latedisp_platform_driver = {
	.probe = latedisp_probe,
	.remove = latedisp_remove,
	.driver = {
		.name = "latedisp",
	},
};
module_platform_driver(latedisp_platform_driver);
