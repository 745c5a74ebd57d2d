// SPDX-License-Identifier: GPL-2.0-only
/* legacyfb: still on drm_dev_alloc(), with its private struct in devm_ memory. */
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>

struct legacyfb_private {
	struct drm_device *drm;
	void __iomem *fb_base;
};

static const struct drm_driver legacyfb_driver = {
	.name = "legacyfb",
};

static int legacyfb_probe(struct platform_device *pdev)
{
	struct legacyfb_private *priv;
	struct drm_device *drm;
	int ret;

	priv = devm_kzalloc(&pdev->dev, sizeof(*priv), GFP_KERNEL); // expect: devm-drm-private
	if (!priv)
		return -ENOMEM;

	drm = drm_dev_alloc(&legacyfb_driver, &pdev->dev);
	if (IS_ERR(drm))
		return PTR_ERR(drm);
	priv->drm = drm;
	drm->dev_private = priv;

	// ok: unmanaged-mode-config
	drm_mode_config_init(drm);

	ret = drm_dev_register(drm, 0);
	if (ret) {
		drm_mode_config_cleanup(drm); // expect: unmanaged-mode-config
		drm_dev_put(drm); // ok: double-put
		return ret;
	}
	platform_set_drvdata(pdev, priv);
	return 0;
}

static void legacyfb_remove(struct platform_device *pdev)
{
	struct legacyfb_private *priv = platform_get_drvdata(pdev);

	drm_dev_unregister(priv->drm);
	drm_mode_config_cleanup(priv->drm); // expect: unmanaged-mode-config
	drm_dev_put(priv->drm); // ok: double-put
}
