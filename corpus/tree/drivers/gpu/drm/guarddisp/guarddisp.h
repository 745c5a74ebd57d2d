/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _GUARDDISP_H
#define _GUARDDISP_H

#include <linux/clk.h>
#include <linux/container_of.h>
#include <linux/io.h>
#include <linux/slab.h>
#include <drm/drm_connector.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_encoder.h>
#include <drm/drm_plane.h>

#define GUARDDISP_CTRL		0x00
#define GUARDDISP_CTRL_EN	0x1
#define GUARDDISP_STATUS	0x04
#define GUARDDISP_STATUS_ERR	0x8
#define GUARDDISP_FRAMES	0x08
#define GUARDDISP_TIMING(n)	(0x10 + 4 * (n))
#define GUARDDISP_SCANOUT	0x20

struct guarddisp_device {
	struct drm_device drm;
	void __iomem *mmio;
	struct clk *pclk;
	struct drm_crtc crtc;
	struct drm_plane plane;
	struct drm_encoder encoder;
	struct drm_connector connector;
};

struct drm_guarddisp_status {
	u32 status;
	u32 frames;
};

static inline struct guarddisp_device *to_guarddisp(struct drm_device *drm)
{
	return container_of(drm, struct guarddisp_device, drm);
}

int guarddisp_kms_init(struct guarddisp_device *gd);
int guarddisp_sysfs_init(struct guarddisp_device *gd);
void guarddisp_postclose(struct drm_device *drm, struct drm_file *file);
int guarddisp_status_ioctl(struct drm_device *drm, void *data, struct drm_file *file);

#endif
