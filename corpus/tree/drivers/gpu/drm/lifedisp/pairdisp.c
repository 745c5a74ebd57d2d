// SPDX-License-Identifier: GPL-2.0-only
/*
 * pairdisp: its enable takes a clock between two register writes, so no guard can skip
 * the writes and keep the clock count: the whole driver is refused, plane update too.
 */
#include <linux/clk.h>
#include <linux/container_of.h>
#include <linux/io.h>
#include <linux/platform_device.h>
#include <linux/pm_runtime.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_plane.h>

#define PAIRDISP_CTRL		0x00
#define PAIRDISP_TIMING		0x04
#define PAIRDISP_SCANOUT	0x08

struct pairdisp_device {
	struct drm_device drm;
	void __iomem *mmio;
	struct clk *pclk;
	struct drm_crtc crtc;
	struct drm_plane plane;
};

static inline struct pairdisp_device *to_pairdisp(struct drm_device *drm)
{
	return container_of(drm, struct pairdisp_device, drm);
}

static void pairdisp_crtc_atomic_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct pairdisp_device *pd = to_pairdisp(crtc->dev);

	pm_runtime_get_sync(crtc->dev->dev);
	// expect: unguarded-hw-access
	writel(1, pd->mmio + PAIRDISP_TIMING);
	clk_prepare_enable(pd->pclk);
	writel(1, pd->mmio + PAIRDISP_CTRL);
}

static void pairdisp_crtc_atomic_disable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct pairdisp_device *pd = to_pairdisp(crtc->dev);

	// ok: unguarded-hw-access
	writel(0, pd->mmio + PAIRDISP_CTRL);
	clk_disable_unprepare(pd->pclk);
	pm_runtime_put(crtc->dev->dev);
}

static const struct drm_crtc_helper_funcs pairdisp_crtc_helper_funcs = {
	.atomic_enable = pairdisp_crtc_atomic_enable,
	.atomic_disable = pairdisp_crtc_atomic_disable,
};

static void pairdisp_plane_atomic_update(struct drm_plane *plane, struct drm_atomic_state *state)
{
	struct pairdisp_device *pd = to_pairdisp(plane->dev);

	// expect: unguarded-hw-access
	writel(plane->state->src_x, pd->mmio + PAIRDISP_SCANOUT);
}

static const struct drm_plane_helper_funcs pairdisp_plane_helper_funcs = {
	.atomic_update = pairdisp_plane_atomic_update,
};

static const struct drm_driver pairdisp_driver = {
	.name = "pairdisp",
	.desc = "corpus driver with a clock taken between register writes",
};

static int pairdisp_probe(struct platform_device *pdev)
{
	struct pairdisp_device *pd;

	pd = devm_drm_dev_alloc(&pdev->dev, &pairdisp_driver, struct pairdisp_device, drm);
	if (IS_ERR(pd))
		return PTR_ERR(pd);
	pd->mmio = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(pd->mmio))
		return PTR_ERR(pd->mmio);
	pd->pclk = devm_clk_get(&pdev->dev, NULL);
	if (IS_ERR(pd->pclk))
		return PTR_ERR(pd->pclk);
	drm_crtc_helper_add(&pd->crtc, &pairdisp_crtc_helper_funcs);
	drm_plane_helper_add(&pd->plane, &pairdisp_plane_helper_funcs);
	platform_set_drvdata(pdev, pd);
	return drm_dev_register(&pd->drm, 0);
}

/* already upstream's order once unregister becomes unplug: that patch is made */
static void pairdisp_remove(struct platform_device *pdev)
{
	struct pairdisp_device *pd = platform_get_drvdata(pdev);

	// expect: unregister-without-unplug
	drm_dev_unregister(&pd->drm);
	drm_atomic_helper_shutdown(&pd->drm);
}

static struct platform_driver pairdisp_platform_driver = {
	.probe = pairdisp_probe,
	.remove = pairdisp_remove,
	.driver = {
		.name = "pairdisp",
	},
};
module_platform_driver(pairdisp_platform_driver);
