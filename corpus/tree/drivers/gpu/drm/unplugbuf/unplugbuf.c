// SPDX-License-Identifier: GPL-2.0-only
/*
 * unplugbuf: a driver that removes with drm_dev_unplug() and then
 * drm_atomic_helper_shutdown(), with devm_ buffers in its drm private struct.
 * After the unplug no ioctl or commit starts, and the shutdown commit runs while
 * devres is alive: a buffer only the commit hooks use is right in devm_ memory.
 * One read by the CRTC's .destroy hook, which runs at the final drm_dev_put(),
 * after devres, is not.
 */
#include <drm/drm_atomic_helper.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_mode_config.h>

#define UNPLUGBUF_LINE	640

struct unplugbuf_device {
	struct drm_device drm;
	struct drm_crtc crtc;
	u8 *line;	/* commit hooks only */
	u32 *stats;	/* also read at the final put */
};

static const struct drm_driver unplugbuf_driver = {
	.name = "unplugbuf",
};

static struct unplugbuf_device *to_ub(struct drm_crtc *crtc)
{
	return container_of(crtc, struct unplugbuf_device, crtc);
}

static void unplugbuf_crtc_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	to_ub(crtc)->line[0] = 1;
}

static void unplugbuf_crtc_flush(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	to_ub(crtc)->line[1] = 2;
}

static void unplugbuf_crtc_disable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	to_ub(crtc)->line[0] = 0;
}

static void unplugbuf_crtc_destroy(struct drm_crtc *crtc)
{
	to_ub(crtc)->stats[0]++;
	drm_crtc_cleanup(crtc);
}

static const struct drm_crtc_helper_funcs unplugbuf_crtc_helpers = {
	.atomic_enable = unplugbuf_crtc_enable,
	.atomic_flush = unplugbuf_crtc_flush,
	.atomic_disable = unplugbuf_crtc_disable,
};

static const struct drm_crtc_funcs unplugbuf_crtc_funcs = {
	.destroy = unplugbuf_crtc_destroy,
	.set_config = drm_atomic_helper_set_config,
	.page_flip = drm_atomic_helper_page_flip,
};

static int unplugbuf_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct unplugbuf_device *ub;
	int ret;

	ub = devm_drm_dev_alloc(dev, &unplugbuf_driver, struct unplugbuf_device, drm);
	if (IS_ERR(ub))
		return PTR_ERR(ub);

	/* used only by the commit hooks: none starts after drm_dev_unplug() */
	// ok: devm-drm-memory
	ub->line = devm_kzalloc(dev, UNPLUGBUF_LINE, GFP_KERNEL);
	if (!ub->line)
		return -ENOMEM;

	/* the CRTC's .destroy reads it at the final put, after devres */
	// expect: devm-drm-memory
	ub->stats = devm_kcalloc(dev, 4, sizeof(*ub->stats), GFP_KERNEL);
	if (!ub->stats)
		return -ENOMEM;

	// ok: unmanaged-mode-config
	ret = drmm_mode_config_init(&ub->drm);
	if (ret)
		return ret;

	ret = drm_crtc_init_with_planes(&ub->drm, &ub->crtc, NULL, NULL, &unplugbuf_crtc_funcs, NULL);
	if (ret)
		return ret;
	drm_crtc_helper_add(&ub->crtc, &unplugbuf_crtc_helpers);

	platform_set_drvdata(pdev, ub);
	return drm_dev_register(&ub->drm, 0);
}

static void unplugbuf_remove(struct platform_device *pdev)
{
	struct unplugbuf_device *ub = platform_get_drvdata(pdev);

	drm_dev_unplug(&ub->drm);
	drm_atomic_helper_shutdown(&ub->drm);
}

static struct platform_driver unplugbuf_platform_driver = {
	.probe = unplugbuf_probe,
	.remove = unplugbuf_remove,
	.driver = { .name = "unplugbuf" },
};
module_platform_driver(unplugbuf_platform_driver);
