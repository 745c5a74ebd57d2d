// SPDX-License-Identifier: GPL-2.0-only
/* legacylcd: on drm_dev_alloc(), its private struct kzalloc'd and kfree'd by the last put. */
#include <linux/slab.h>
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_mode_config.h>

struct legacylcd_private {
	struct drm_device *drm;
	void __iomem *regs;
	u32 bpp;
};

static const struct drm_driver legacylcd_driver = {
	.name = "legacylcd",
};

/* runs on the final drm_dev_put(), not at unbind */
static void legacylcd_release(struct drm_device *drm, void *data)
{
	kfree(data);
}

static int legacylcd_probe(struct platform_device *pdev)
{
	struct legacylcd_private *priv;
	struct drm_device *drm;
	int ret;

	// ok: devm-drm-private
	priv = kzalloc(sizeof(*priv), GFP_KERNEL);
	if (!priv)
		return -ENOMEM;

	priv->regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(priv->regs)) {
		ret = PTR_ERR(priv->regs);
		kfree(priv);
		return ret;
	}
	priv->bpp = 16;

	drm = drm_dev_alloc(&legacylcd_driver, &pdev->dev);
	if (IS_ERR(drm)) {
		kfree(priv);
		return PTR_ERR(drm);
	}
	priv->drm = drm;
	drm->dev_private = priv;

	/* from here on, the last drm_dev_put() frees priv */
	ret = drmm_add_action_or_reset(drm, legacylcd_release, priv);
	if (ret)
		goto err_put;

	// ok: unmanaged-mode-config
	ret = drmm_mode_config_init(drm);
	if (ret)
		goto err_put;

	ret = drm_dev_register(drm, 0);
	if (ret)
		goto err_put;

	platform_set_drvdata(pdev, priv);
	return 0;

err_put:
	// ok: double-put
	drm_dev_put(drm);
	return ret;
}

static void legacylcd_remove(struct platform_device *pdev)
{
	struct legacylcd_private *priv = platform_get_drvdata(pdev);
	struct drm_device *drm = priv->drm;

	drm_dev_unplug(drm);
	// ok: double-put
	drm_dev_put(drm);
}
