// SPDX-License-Identifier: GPL-2.0-only
/* tearcomp master: drm_mode_config_cleanup() by hand, before component_unbind_all(). */
#include <linux/component.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>

struct tearcomp {
	struct drm_device drm;
};

static const struct drm_driver tearcomp_driver = {
	.name = "tearcomp",
};

static int tearcomp_bind(struct device *dev)
{
	struct tearcomp *tc;
	int ret;

	tc = devm_drm_dev_alloc(dev, &tearcomp_driver, struct tearcomp, drm);
	if (IS_ERR(tc))
		return PTR_ERR(tc);
	ret = drmm_mode_config_init(&tc->drm);
	if (ret)
		return ret;
	dev_set_drvdata(dev, tc);
	ret = component_bind_all(dev, &tc->drm);
	if (ret)
		return ret;
	return drm_dev_register(&tc->drm, 0);
}

static void tearcomp_unbind(struct device *dev)
{
	struct tearcomp *tc = dev_get_drvdata(dev);

	// ok: unregister-without-unplug
	drm_dev_unregister(&tc->drm);
	drm_atomic_helper_shutdown(&tc->drm);
	// expect: unmanaged-mode-config
	drm_mode_config_cleanup(&tc->drm);
	component_unbind_all(dev, &tc->drm);
}

static const struct component_master_ops tearcomp_master_ops = {
	.bind = tearcomp_bind,
	.unbind = tearcomp_unbind,
};

static int tearcomp_compare(struct device *dev, void *data)
{
	return dev->of_node == data;
}

static int tearcomp_probe(struct platform_device *pdev)
{
	struct component_match *match = NULL;

	component_match_add(&pdev->dev, &match, tearcomp_compare, pdev->dev.of_node);
	return component_master_add_with_match(&pdev->dev, &tearcomp_master_ops, match);
}

static void tearcomp_remove(struct platform_device *pdev)
{
	component_master_del(&pdev->dev, &tearcomp_master_ops);
}

static struct platform_driver tearcomp_platform_driver = {
	.probe = tearcomp_probe,
	.remove = tearcomp_remove,
	.driver = {
		.name = "tearcomp",
	},
};
module_platform_driver(tearcomp_platform_driver);
