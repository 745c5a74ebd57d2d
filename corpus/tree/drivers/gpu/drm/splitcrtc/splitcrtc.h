/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _SPLITCRTC_H
#define _SPLITCRTC_H

#include <linux/container_of.h>
#include <linux/device.h>
#include <linux/mutex.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_plane.h>

#define SPLITCRTC_LUT_SIZE	256
#define SPLITCRTC_MAX_PLANES	4

struct splitcrtc_plane {
	struct drm_plane base;
	unsigned int zpos;
	void __iomem *regs;
};

struct splitcrtc_crtc {
	struct drm_crtc base;
	void __iomem *regs;
	u32 *gamma;
	struct mutex gamma_lock;
};

static inline struct splitcrtc_crtc *to_splitcrtc_crtc(struct drm_crtc *crtc)
{
	return container_of(crtc, struct splitcrtc_crtc, base);
}

struct splitcrtc_device {
	struct drm_device drm;
	void __iomem *mmio;
	struct splitcrtc_plane *planes;
	unsigned int num_planes;
	struct splitcrtc_crtc *crtc;
	struct mutex commit_lock;
};

static inline struct splitcrtc_device *to_splitcrtc(struct drm_device *drm)
{
	return container_of(drm, struct splitcrtc_device, drm);
}

/* splitcrtc_crtc.c */
struct splitcrtc_crtc *splitcrtc_crtc_alloc(struct device *dev, void __iomem *regs);
int splitcrtc_crtc_init(struct splitcrtc_device *sdev, struct splitcrtc_crtc *scrtc);
void splitcrtc_release(struct drm_device *drm, void *arg);

/* splitcrtc_plane.c */
int splitcrtc_planes_create(struct splitcrtc_device *sdev, struct device *dev,
			    unsigned int count);

#endif
