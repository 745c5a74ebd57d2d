// SPDX-License-Identifier: GPL-2.0-only
/* npudisp device set-up: the drm device is allocated on the parent the caller hands in. */
#include <linux/err.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>
#include "npudisp.h"

struct npudisp_device *npudisp_dev_init(struct platform_device *pdev, const struct drm_driver *driver)
{
	struct device *dev = &pdev->dev;
	struct npudisp_device *nd;
	int ret;

	nd = devm_drm_dev_alloc(dev, driver, struct npudisp_device, drm);
	if (IS_ERR(nd))
		return nd;
	nd->cores = 1;
	ret = drm_dev_register(&nd->drm, 0);
	if (ret)
		return ERR_PTR(ret);
	return nd;
}

void npudisp_dev_fini(struct npudisp_device *nd)
{
	drm_dev_unregister(&nd->drm);
}
