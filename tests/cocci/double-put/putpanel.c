// SPDX-License-Identifier: GPL-2.0-only
/* putpanel: managed drm device, but the driver still puts it by hand. */
#include <drm/drm_drv.h>

struct putpanel {
	struct drm_device drm;
	int enabled;
};

static const struct drm_driver putpanel_driver = {
	.name = "putpanel",
};

static int putpanel_probe(struct platform_device *pdev)
{
	struct putpanel *pp;
	int ret;

	pp = devm_drm_dev_alloc(&pdev->dev, &putpanel_driver, struct putpanel, drm);
	if (IS_ERR(pp))
		return PTR_ERR(pp);

	platform_set_drvdata(pdev, pp);
	ret = drm_dev_register(&pp->drm, 0);
	if (ret) {
		// expect: double-put
		drm_dev_put(&pp->drm);
		return ret;
	}
	return 0;
}

static void putpanel_remove(struct platform_device *pdev)
{
	struct putpanel *pp = platform_get_drvdata(pdev);
	struct drm_device *drm = &pp->drm;

	drm_dev_unregister(drm);
	// expect: double-put
	drm_dev_put(drm);
}

static void putpanel_flush_work(struct putpanel *pp)
{
	/* A temporary reference, balanced in the same function: fine. */
	drm_dev_get(&pp->drm);
	pp->enabled = 0;
	// ok: double-put
	drm_dev_put(&pp->drm);
}
