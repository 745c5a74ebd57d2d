// SPDX-License-Identifier: GPL-2.0-only
/* rootdemo: devm_drm_dev_alloc() on a root device that never binds a driver: nothing is freed. */
#include <linux/module.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>

struct rootdemo_device {
	struct drm_device drm;
	u32 frame;
};

static const struct drm_driver rootdemo_driver = {
	.name = "rootdemo",
	.desc = "root device corpus driver",
};

static struct device *rootdemo_parent;
static struct rootdemo_device *rootdemo;

static int __init rootdemo_init(void)
{
	struct rootdemo_device *rd;
	struct device *parent;
	int ret;

	parent = root_device_register("rootdemo");
	if (IS_ERR(parent))
		return PTR_ERR(parent);

	// expect: unbound-parent
	rd = devm_drm_dev_alloc(parent, &rootdemo_driver, struct rootdemo_device, drm);
	if (IS_ERR(rd)) {
		ret = PTR_ERR(rd);
		goto err_unregister;
	}

	// ok: unmanaged-mode-config
	ret = drmm_mode_config_init(&rd->drm);
	if (ret)
		goto err_unregister;

	ret = drm_dev_register(&rd->drm, 0);
	if (ret)
		goto err_unregister;

	rootdemo_parent = parent;
	rootdemo = rd;
	return 0;

err_unregister:
	root_device_unregister(parent);
	return ret;
}
module_init(rootdemo_init);

static void __exit rootdemo_exit(void)
{
	drm_dev_unregister(&rootdemo->drm);
	root_device_unregister(rootdemo_parent);
}
module_exit(rootdemo_exit);

MODULE_LICENSE("GPL");
