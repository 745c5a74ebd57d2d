// SPDX-License-Identifier: GPL-2.0-only
/*
 * npudisp: the module registers a platform device "npudisp-top" for its drm device and a
 * platform driver for its cores ("npudisp-core").  No driver of that name exists, so the
 * top device never binds, and the drm device that npudisp_dev_init() allocates on it
 * with devm_drm_dev_alloc() is never freed.
 */
#include <linux/err.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>
#include "npudisp.h"

static struct platform_device *npudisp_top;
static struct npudisp_device *npudisp;

static const struct drm_driver npudisp_driver = {
	.name = "npudisp",
	.desc = "corpus accelerator on a device that never binds",
};

static int npudisp_core_probe(struct platform_device *pdev)
{
	if (npudisp)
		return 0;
	// expect: unbound-parent
	npudisp = npudisp_dev_init(npudisp_top, &npudisp_driver);
	if (IS_ERR(npudisp))
		return PTR_ERR(npudisp);
	return 0;
}

static void npudisp_core_remove(struct platform_device *pdev)
{
	npudisp_dev_fini(npudisp);
}

static struct platform_driver npudisp_core_driver = {
	.probe = npudisp_core_probe,
	.remove = npudisp_core_remove,
	.name = "npudisp-core",
};

static int __init npudisp_init(void)
{
	npudisp_top = platform_device_register_simple("npudisp-top", -1, NULL, 0);
	if (IS_ERR(npudisp_top))
		return PTR_ERR(npudisp_top);
	return platform_driver_register(&npudisp_core_driver);
}
module_init(npudisp_init);

static void __exit npudisp_exit(void)
{
	platform_driver_unregister(&npudisp_core_driver);
	platform_device_unregister(npudisp_top);
}
module_exit(npudisp_exit);
