// SPDX-License-Identifier: GPL-2.0-only
/* compdisp master: devm_drm_dev_alloc() in the aggregate bind; its CRTC is drmm_ memory. */
#include <linux/component.h>
#include <linux/module.h>
#include <drm/drm_managed.h>
#include <drm/drm_mode_config.h>
#include "compdisp.h"

static const struct drm_driver compdisp_driver = {
	.name = "compdisp",
	.desc = "component corpus driver",
};

static const struct drm_crtc_funcs compdisp_crtc_funcs = {
	.destroy = drm_crtc_cleanup,
};

static int compdisp_bind(struct device *dev)
{
	struct compdisp_device *cdev;
	struct compdisp_crtc *ccrtc;
	int ret;

	cdev = devm_drm_dev_alloc(dev, &compdisp_driver, struct compdisp_device, drm);
	if (IS_ERR(cdev))
		return PTR_ERR(cdev);

	// ok: unmanaged-mode-config
	ret = drmm_mode_config_init(&cdev->drm);
	if (ret)
		return ret;

	/* drm-managed memory with a plain init and .destroy: not a devm_ lifetime bug */
	// ok: devm-mode-object
	ccrtc = drmm_kzalloc(&cdev->drm, sizeof(*ccrtc), GFP_KERNEL);
	if (!ccrtc)
		return -ENOMEM;

	ret = drm_crtc_init_with_planes(&cdev->drm, &ccrtc->base, NULL, NULL,
					&compdisp_crtc_funcs, NULL);
	if (ret)
		return ret;
	cdev->crtc = ccrtc;

	dev_set_drvdata(dev, cdev);
	ret = component_bind_all(dev, &cdev->drm);
	if (ret)
		return ret;

	return drm_dev_register(&cdev->drm, 0);
}

static void compdisp_unbind(struct device *dev)
{
	struct compdisp_device *cdev = dev_get_drvdata(dev);

	drm_dev_unplug(&cdev->drm);
	component_unbind_all(dev, &cdev->drm);
}

static const struct component_master_ops compdisp_master_ops = {
	.bind = compdisp_bind,
	.unbind = compdisp_unbind,
};

static int compdisp_compare_child(struct device *dev, void *data)
{
	return dev->parent == data;
}

static int compdisp_probe(struct platform_device *pdev)
{
	struct component_match *match = NULL;

	component_match_add(&pdev->dev, &match, compdisp_compare_child, &pdev->dev);
	return component_master_add_with_match(&pdev->dev, &compdisp_master_ops, match);
}

static void compdisp_remove(struct platform_device *pdev)
{
	component_master_del(&pdev->dev, &compdisp_master_ops);
}

static struct platform_driver compdisp_platform_driver = {
	.probe = compdisp_probe,
	.remove = compdisp_remove,
	.name = "compdisp",
};

static int __init compdisp_init(void)
{
	int ret;

	ret = platform_driver_register(&compdisp_hdmi_driver);
	if (ret)
		return ret;

	ret = platform_driver_register(&compdisp_platform_driver);
	if (ret)
		platform_driver_unregister(&compdisp_hdmi_driver);
	return ret;
}
module_init(compdisp_init);

static void __exit compdisp_exit(void)
{
	platform_driver_unregister(&compdisp_platform_driver);
	platform_driver_unregister(&compdisp_hdmi_driver);
}
module_exit(compdisp_exit);

MODULE_LICENSE("GPL");
