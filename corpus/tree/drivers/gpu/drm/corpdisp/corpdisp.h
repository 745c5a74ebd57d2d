/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _CORPDISP_H
#define _CORPDISP_H

#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>

struct corpdisp_crtc {
	struct drm_crtc base;
	void __iomem *regs;
};

struct corpdisp_device {
	struct drm_device drm;
	void __iomem *mmio;
	struct corpdisp_crtc *crtc;
};

int corpdisp_modeset_init(struct corpdisp_device *cdev, struct device *dev);

#endif
