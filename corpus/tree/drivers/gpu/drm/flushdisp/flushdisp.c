// SPDX-License-Identifier: GPL-2.0-only
/*
 * flushdisp: a USB-style display that unplugs at disconnect.  Its transfer buffers
 * are freed by a devm_ action, and every use of them sits inside drm_dev_enter():
 * once drm_dev_unplug() has returned nothing reaches them, so freeing them at
 * unbind is right.  Its statistics buffer, freed by another action, is read by an
 * ioctl without a guard: that one is freed while an open file can still use it.
 */
#include <linux/err.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <drm/drm_drv.h>
#include <drm/drm_ioctl.h>

struct flushdisp {
	struct drm_device drm;
	void *xfer_buf;
	void *bulk_buf;
	u32 *stats;
};

static void flushdisp_flush(struct flushdisp *fd, size_t len)
{
	int idx;

	if (!drm_dev_enter(&fd->drm, &idx))
		return;
	memset(fd->xfer_buf, 0, len);
	memcpy(fd->bulk_buf, fd->xfer_buf, len);
	drm_dev_exit(idx);
}

static int flushdisp_stats_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct flushdisp *fd = container_of(drm, struct flushdisp, drm);

	*(u32 *)data = fd->stats[0];
	flushdisp_flush(fd, 64);
	return 0;
}

static const struct drm_ioctl_desc flushdisp_ioctls[] = {
	DRM_IOCTL_DEF_DRV(FLUSHDISP_STATS, flushdisp_stats_ioctl, DRM_RENDER_ALLOW),
};

static const struct drm_driver flushdisp_driver = {
	.name = "flushdisp",
	.ioctls = flushdisp_ioctls,
	.num_ioctls = ARRAY_SIZE(flushdisp_ioctls),
};

static void flushdisp_free_bufs(void *data)
{
	struct flushdisp *fd = data;

	vfree(fd->xfer_buf);
	kfree(fd->bulk_buf);
}

static void flushdisp_free_stats(void *data)
{
	struct flushdisp *fd = data;

	kfree(fd->stats);
}

static int flushdisp_probe(struct platform_device *pdev)
{
	struct flushdisp *fd;
	int ret;

	fd = devm_drm_dev_alloc(&pdev->dev, &flushdisp_driver, struct flushdisp, drm);
	if (IS_ERR(fd))
		return PTR_ERR(fd);
	fd->xfer_buf = vmalloc(4096);
	fd->bulk_buf = kmalloc(4096, GFP_KERNEL);
	if (!fd->xfer_buf || !fd->bulk_buf)
		return -ENOMEM;
	// ok: devm-action-on-drm
	ret = devm_add_action_or_reset(&pdev->dev, flushdisp_free_bufs, fd);
	if (ret)
		return ret;
	fd->stats = kcalloc(4, sizeof(*fd->stats), GFP_KERNEL);
	if (!fd->stats)
		return -ENOMEM;
	// expect: devm-action-on-drm
	ret = devm_add_action_or_reset(&pdev->dev, flushdisp_free_stats, fd);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, fd);
	return drm_dev_register(&fd->drm, 0);
}

static void flushdisp_remove(struct platform_device *pdev)
{
	struct flushdisp *fd = platform_get_drvdata(pdev);

	drm_dev_unplug(&fd->drm);
}

static struct platform_driver flushdisp_platform_driver = {
	.probe = flushdisp_probe,
	.remove = flushdisp_remove,
	.driver = {
		.name = "flushdisp",
	},
};
module_platform_driver(flushdisp_platform_driver);
