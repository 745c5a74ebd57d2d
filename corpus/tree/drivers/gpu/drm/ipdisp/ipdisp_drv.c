// SPDX-License-Identifier: GPL-2.0-only
/* ipdisp core: the IP blocks are torn down from the drm_driver.release hook. */
#include <linux/err.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>
#include "ipdisp.h"

static void ipdisp_fini_sw(struct ipdisp *ip)
{
	ip->ip->sw_fini(ip);
}

static void ipdisp_release(struct drm_device *drm)
{
	struct ipdisp *ip = container_of(drm, struct ipdisp, drm);

	ipdisp_fini_sw(ip);
}

static const struct drm_driver ipdisp_driver = {
	.name = "ipdisp",
	.release = ipdisp_release,
};

static int ipdisp_probe(struct platform_device *pdev)
{
	struct ipdisp *ip;
	int ret;

	ip = devm_drm_dev_alloc(&pdev->dev, &ipdisp_driver, struct ipdisp, drm);
	if (IS_ERR(ip))
		return PTR_ERR(ip);
	ip->ip = &ipdisp_dce_funcs;
	ret = ip->ip->sw_init(ip);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, ip);
	return drm_dev_register(&ip->drm, 0);
}

static void ipdisp_remove(struct platform_device *pdev)
{
	struct ipdisp *ip = platform_get_drvdata(pdev);

	drm_dev_unplug(&ip->drm);
}

static struct platform_driver ipdisp_platform_driver = {
	.probe = ipdisp_probe,
	.remove = ipdisp_remove,
	.driver = {
		.name = "ipdisp",
	},
};
module_platform_driver(ipdisp_platform_driver);
