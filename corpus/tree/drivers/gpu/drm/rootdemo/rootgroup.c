// SPDX-License-Identifier: GPL-2.0-only
/* rootgroup: the same idea done right: the drm device's devres lives in a group released on exit. */
#include <linux/module.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>

struct rootgroup_device {
	struct drm_device drm;
	u32 frame;
};

static const struct drm_driver rootgroup_driver = {
	.name = "rootgroup",
	.desc = "devres group corpus driver",
};

static struct platform_device *rootgroup_pdev;
static struct rootgroup_device *rootgroup;

static int __init rootgroup_init(void)
{
	struct rootgroup_device *rg;
	struct platform_device *pdev;
	int ret;

	pdev = platform_device_register_simple("rootgroup", -1, NULL, 0);
	if (IS_ERR(pdev))
		return PTR_ERR(pdev);

	if (!devres_open_group(&pdev->dev, NULL, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto err_unregister;
	}

	// ok: unbound-parent
	rg = devm_drm_dev_alloc(&pdev->dev, &rootgroup_driver, struct rootgroup_device, drm);
	if (IS_ERR(rg)) {
		ret = PTR_ERR(rg);
		goto err_release;
	}

	// ok: unmanaged-mode-config
	ret = drmm_mode_config_init(&rg->drm);
	if (ret)
		goto err_release;

	ret = drm_dev_register(&rg->drm, 0);
	if (ret)
		goto err_release;

	rootgroup_pdev = pdev;
	rootgroup = rg;
	return 0;

err_release:
	devres_release_group(&pdev->dev, NULL);
err_unregister:
	platform_device_unregister(pdev);
	return ret;
}
module_init(rootgroup_init);

static void __exit rootgroup_exit(void)
{
	drm_dev_unplug(&rootgroup->drm);
	devres_release_group(&rootgroup_pdev->dev, NULL);
	platform_device_unregister(rootgroup_pdev);
}
module_exit(rootgroup_exit);

MODULE_LICENSE("GPL");
