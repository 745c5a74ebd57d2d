// SPDX-License-Identifier: GPL-2.0-only
/* mastdisp master: drm_mode_config_cleanup() by hand in the aggregate unbind. */
#include <linux/component.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>

struct mastdisp {
	struct drm_device drm;
};

static const struct drm_driver mastdisp_driver = {
	.name = "mastdisp",
};

static int mastdisp_bind(struct device *dev)
{
	struct mastdisp *md;
	int ret;

	md = devm_drm_dev_alloc(dev, &mastdisp_driver, struct mastdisp, drm);
	if (IS_ERR(md))
		return PTR_ERR(md);
	// ok: unmanaged-mode-config
	ret = drmm_mode_config_init(&md->drm);
	if (ret)
		return ret;
	dev_set_drvdata(dev, md);
	ret = component_bind_all(dev, &md->drm);
	if (ret)
		return ret;
	return drm_dev_register(&md->drm, 0);
}

static void mastdisp_unbind(struct device *dev)
{
	struct mastdisp *md = dev_get_drvdata(dev);

	drm_dev_unregister(&md->drm);
	component_unbind_all(dev, &md->drm);
	// expect: unmanaged-mode-config
	drm_mode_config_cleanup(&md->drm);
}

static const struct component_master_ops mastdisp_master_ops = {
	.bind = mastdisp_bind,
	.unbind = mastdisp_unbind,
};
