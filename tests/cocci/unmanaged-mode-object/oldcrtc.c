// SPDX-License-Identifier: GPL-2.0-only
/* oldcrtc: unmanaged mode config torn down by a devm_ action, a kzalloc'd CRTC, a bare mutex. */
#include <linux/clk.h>
#include <linux/container_of.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>
#include <drm/drm_probe_helper.h>

struct oldcrtc_crtc {
	struct drm_crtc base;
	void __iomem *regs;
};

struct oldcrtc_device {
	struct drm_device drm;
	void __iomem *mmio;
	struct clk *clk;
	struct oldcrtc_crtc *crtc;
	struct mutex reg_lock;
};

static inline struct oldcrtc_crtc *to_oldcrtc_crtc(struct drm_crtc *crtc)
{
	return container_of(crtc, struct oldcrtc_crtc, base);
}

static const struct drm_driver oldcrtc_driver = {
	.name = "oldcrtc",
};

static const struct drm_crtc_funcs oldcrtc_crtc_funcs = {
};

static void oldcrtc_mode_config_fini(void *data)
{
	struct drm_device *drm = data;

	drm_kms_helper_poll_fini(drm);
}

static void oldcrtc_clk_off(void *data)
{
	clk_disable_unprepare(data);
}

static int oldcrtc_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct oldcrtc_device *odev;
	struct oldcrtc_crtc *ocrtc;
	int ret;

	odev = devm_drm_dev_alloc(dev, &oldcrtc_driver, struct oldcrtc_device, drm);
	if (IS_ERR(odev))
		return PTR_ERR(odev);

	// expect: unmanaged-mutex
	mutex_init(&odev->reg_lock);

	odev->mmio = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(odev->mmio))
		return PTR_ERR(odev->mmio);

	odev->clk = devm_clk_get(dev, NULL);
	if (IS_ERR(odev->clk))
		return PTR_ERR(odev->clk);
	ret = clk_prepare_enable(odev->clk);
	if (ret)
		return ret;
	// ok: devm-action-on-drm
	ret = devm_add_action_or_reset(dev, oldcrtc_clk_off, odev->clk);
	if (ret)
		return ret;

	// ok: unmanaged-mode-config
	ret = drm_mode_config_init(&odev->drm);
	if (ret)
		return ret;
	// expect: devm-action-on-drm
	ret = devm_add_action_or_reset(dev, oldcrtc_mode_config_fini, &odev->drm);
	if (ret)
		return ret;

	// ok: devm-mode-object
	ocrtc = kzalloc(sizeof(*ocrtc), GFP_KERNEL);
	if (!ocrtc)
		return -ENOMEM;
	ocrtc->regs = odev->mmio;
	// expect: unmanaged-mode-object
	ret = drm_crtc_init_with_planes(&odev->drm, &ocrtc->base, NULL, NULL,
					&oldcrtc_crtc_funcs, NULL);
	if (ret) {
		kfree(ocrtc);
		return ret;
	}
	odev->crtc = ocrtc;

	drm_kms_helper_poll_init(&odev->drm);
	platform_set_drvdata(pdev, odev);
	return drm_dev_register(&odev->drm, 0);
}

static void oldcrtc_remove(struct platform_device *pdev)
{
	struct oldcrtc_device *odev = platform_get_drvdata(pdev);

	drm_dev_unregister(&odev->drm);
}
