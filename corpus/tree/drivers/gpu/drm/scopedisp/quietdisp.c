// SPDX-License-Identifier: GPL-2.0-only
/*
 * quietdisp: an atomic driver whose removal unregisters without shutting the pipeline
 * down (only its .shutdown hook does).  The unplug that the guards need comes with a
 * drm_atomic_helper_shutdown() after it, so that nothing scans out once it returns.
 */
#include <linux/container_of.h>
#include <linux/err.h>
#include <linux/io.h>
#include <linux/platform_device.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>

#define QUIETDISP_SCAN	0x04

struct quietdisp {
	struct drm_device drm;
	void __iomem *regs;
	struct drm_crtc crtc;
};

static void quietdisp_crtc_atomic_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct quietdisp *qd = container_of(crtc->dev, struct quietdisp, drm);

	// expect: unguarded-hw-access
	writel(1, qd->regs + QUIETDISP_SCAN);
}

static void quietdisp_crtc_atomic_disable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct quietdisp *qd = container_of(crtc->dev, struct quietdisp, drm);

	// ok: unguarded-hw-access
	writel(0, qd->regs + QUIETDISP_SCAN);
}

static const struct drm_crtc_helper_funcs quietdisp_crtc_helper_funcs = {
	.atomic_enable = quietdisp_crtc_atomic_enable,
	.atomic_disable = quietdisp_crtc_atomic_disable,
};

static const struct drm_driver quietdisp_driver = {
	.name = "quietdisp",
	.desc = "corpus driver whose removal does not shut the pipeline down",
	.driver_features = DRIVER_MODESET | DRIVER_ATOMIC,
};

static int quietdisp_probe(struct platform_device *pdev)
{
	struct quietdisp *qd;
	int ret;

	qd = devm_drm_dev_alloc(&pdev->dev, &quietdisp_driver, struct quietdisp, drm);
	if (IS_ERR(qd))
		return PTR_ERR(qd);
	qd->regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(qd->regs))
		return PTR_ERR(qd->regs);
	ret = drmm_mode_config_init(&qd->drm);
	if (ret)
		return ret;
	drm_crtc_helper_add(&qd->crtc, &quietdisp_crtc_helper_funcs);
	platform_set_drvdata(pdev, qd);
	return drm_dev_register(&qd->drm, 0);
}

static void quietdisp_remove(struct platform_device *pdev)
{
	struct quietdisp *qd = platform_get_drvdata(pdev);

	// expect: unregister-without-unplug
	drm_dev_unregister(&qd->drm);
}

static void quietdisp_shutdown(struct platform_device *pdev)
{
	struct quietdisp *qd = platform_get_drvdata(pdev);

	drm_atomic_helper_shutdown(&qd->drm);
}

static struct platform_driver quietdisp_platform_driver = {
	.probe = quietdisp_probe,
	.remove = quietdisp_remove,
	.shutdown = quietdisp_shutdown,
	.driver = {
		.name = "quietdisp",
	},
};
module_platform_driver(quietdisp_platform_driver);
