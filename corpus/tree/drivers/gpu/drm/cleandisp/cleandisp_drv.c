// SPDX-License-Identifier: GPL-2.0-only
/* cleandisp: drm-managed memory, locks, mode config and actions; devm_ only for hardware. */
#include <drm/drm_atomic_helper.h>
#include <drm/drm_managed.h>
#include <drm/drm_mode_config.h>
#include <drm/drm_probe_helper.h>
#include "cleandisp.h"

#define CLEANDISP_NUM_SCANOUTS	4

static const struct drm_driver cleandisp_driver = {
	.name = "cleandisp",
	.desc = "fully managed corpus driver",
};

static void cleandisp_fini(struct drm_device *drm, void *data)
{
	drm_kms_helper_poll_fini(drm);
}

static void cleandisp_clk_off(void *data)
{
	struct clk *clk = data;

	clk_disable_unprepare(clk);
}

static int cleandisp_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct cleandisp_device *cd;
	int ret;

	cd = devm_drm_dev_alloc(dev, &cleandisp_driver, struct cleandisp_device, drm);
	if (IS_ERR(cd))
		return PTR_ERR(cd);

	cd->mmio = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(cd->mmio))
		return PTR_ERR(cd->mmio);

	cd->clk = devm_clk_get(dev, NULL);
	if (IS_ERR(cd->clk))
		return PTR_ERR(cd->clk);
	ret = clk_prepare_enable(cd->clk);
	if (ret)
		return ret;
	// ok: devm-action-on-drm
	ret = devm_add_action_or_reset(dev, cleandisp_clk_off, cd->clk);
	if (ret)
		return ret;

	// ok: unmanaged-mutex
	ret = drmm_mutex_init(&cd->drm, &cd->commit_lock);
	if (ret)
		return ret;

	// ok: devm-drm-memory
	cd->label = drmm_kstrdup(&cd->drm, dev_name(dev), GFP_KERNEL);
	if (!cd->label)
		return -ENOMEM;

	// ok: devm-drm-memory
	cd->scanout_offsets = drmm_kmalloc_array(&cd->drm, CLEANDISP_NUM_SCANOUTS,
						 sizeof(u32), GFP_KERNEL);
	if (!cd->scanout_offsets)
		return -ENOMEM;

	// ok: unmanaged-mode-config
	ret = drmm_mode_config_init(&cd->drm);
	if (ret)
		return ret;

	ret = cleandisp_kms_init(cd);
	if (ret)
		return ret;

	drm_kms_helper_poll_init(&cd->drm);
	// ok: devm-action-on-drm
	ret = drmm_add_action_or_reset(&cd->drm, cleandisp_fini, NULL);
	if (ret)
		return ret;

	platform_set_drvdata(pdev, cd);
	return drm_dev_register(&cd->drm, 0);
}

static void cleandisp_remove(struct platform_device *pdev)
{
	struct cleandisp_device *cd = platform_get_drvdata(pdev);

	/* disable the hardware while the guarded paths still run, then cut them off */
	drm_atomic_helper_shutdown(&cd->drm);
	drm_dev_unplug(&cd->drm);
}
