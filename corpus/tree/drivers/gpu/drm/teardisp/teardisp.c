// SPDX-License-Identifier: GPL-2.0-only
/*
 * teardisp: the CRTC and its registers live in devm_ memory, but remove shuts the
 * pipe down and destroys the CRTC with drm_mode_config_cleanup() before devres
 * frees either: no file reaches the CRTC's hooks after unbind.  The manual
 * cleanup is what is wrong (the objects are torn down at unbind, not at the
 * final drm_dev_put()).
 */
#include <linux/container_of.h>
#include <linux/io.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>

#define TEARDISP_CTRL	0x04

struct teardisp {
	struct drm_device drm;
	struct teardisp_crtc *crtc;
};

struct teardisp_crtc {
	struct drm_crtc base;
	void __iomem *regs;
};

static void teardisp_crtc_atomic_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct teardisp_crtc *tc = container_of(crtc, struct teardisp_crtc, base);

	// ok: unguarded-hw-access
	writel(1, tc->regs + TEARDISP_CTRL);
}

static const struct drm_crtc_funcs teardisp_crtc_funcs = {
	.destroy = drm_crtc_cleanup,
};

static const struct drm_crtc_helper_funcs teardisp_crtc_helper_funcs = {
	.atomic_enable = teardisp_crtc_atomic_enable,
};

static const struct drm_driver teardisp_driver = {
	.name = "teardisp",
};

static int teardisp_probe(struct platform_device *pdev)
{
	struct teardisp_crtc *tc;
	struct teardisp *td;
	int ret;

	td = devm_drm_dev_alloc(&pdev->dev, &teardisp_driver, struct teardisp, drm);
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
	ret = drm_crtc_init_with_planes(&td->drm, &tc->base, NULL, NULL, &teardisp_crtc_funcs, NULL);
	if (ret)
		return ret;
	drm_crtc_helper_add(&tc->base, &teardisp_crtc_helper_funcs);
	platform_set_drvdata(pdev, td);
	return drm_dev_register(&td->drm, 0);
}

static void teardisp_remove(struct platform_device *pdev)
{
	struct teardisp *td = platform_get_drvdata(pdev);

	// ok: unregister-without-unplug
	drm_dev_unregister(&td->drm);
	drm_atomic_helper_shutdown(&td->drm);
	// expect: unmanaged-mode-config
	drm_mode_config_cleanup(&td->drm);
}

static struct platform_driver teardisp_platform_driver = {
	.probe = teardisp_probe,
	.remove = teardisp_remove,
	.driver = {
		.name = "teardisp",
	},
};
module_platform_driver(teardisp_platform_driver);
