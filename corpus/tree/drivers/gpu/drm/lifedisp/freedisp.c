// SPDX-License-Identifier: GPL-2.0-only
/*
 * freedisp: removal clears dev_private while files may be open (every callback reaches
 * the device through it), so drm_dev_unplug() would promise what the teardown breaks: refused, and
 * with it the guards, which would never fail.
 */
#include <linux/container_of.h>
#include <linux/io.h>
#include <linux/platform_device.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>

#define FREEDISP_CTRL	0x00

struct freedisp_device {
	struct drm_device drm;
	void __iomem *mmio;
	struct drm_crtc crtc;
};

static void freedisp_crtc_atomic_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct freedisp_device *fd = container_of(crtc->dev, struct freedisp_device, drm);

	// expect: unguarded-hw-access
	writel(1, fd->mmio + FREEDISP_CTRL);
}

static const struct drm_crtc_helper_funcs freedisp_crtc_helper_funcs = {
	.atomic_enable = freedisp_crtc_atomic_enable,
};

static const struct drm_driver freedisp_driver = {
	.name = "freedisp",
	.desc = "corpus driver whose teardown frees what open files reach",
};

static int freedisp_probe(struct platform_device *pdev)
{
	struct freedisp_device *fd;

	fd = devm_drm_dev_alloc(&pdev->dev, &freedisp_driver, struct freedisp_device, drm);
	if (IS_ERR(fd))
		return PTR_ERR(fd);
	fd->mmio = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(fd->mmio))
		return PTR_ERR(fd->mmio);
	fd->drm.dev_private = fd;
	drm_crtc_helper_add(&fd->crtc, &freedisp_crtc_helper_funcs);
	platform_set_drvdata(pdev, fd);
	return drm_dev_register(&fd->drm, 0);
}

static void freedisp_remove(struct platform_device *pdev)
{
	struct freedisp_device *fd = platform_get_drvdata(pdev);

	// expect: unregister-without-unplug
	drm_dev_unregister(&fd->drm);
	drm_atomic_helper_shutdown(&fd->drm);
	fd->drm.dev_private = NULL;
}

static struct platform_driver freedisp_platform_driver = {
	.probe = freedisp_probe,
	.remove = freedisp_remove,
	.driver = {
		.name = "freedisp",
	},
};
module_platform_driver(freedisp_platform_driver);
