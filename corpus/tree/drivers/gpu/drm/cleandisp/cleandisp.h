/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _CLEANDISP_H
#define _CLEANDISP_H

#include <linux/clk.h>
#include <linux/container_of.h>
#include <linux/mutex.h>
#include <drm/drm_connector.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_encoder.h>
#include <drm/drm_plane.h>
#include <drm/drm_writeback.h>

struct cleandisp_plane {
	struct drm_plane base;
	u32 stride;
};

struct cleandisp_crtc {
	struct drm_crtc base;
	void __iomem *regs;
	u32 *gamma;
};

static inline struct cleandisp_crtc *to_cleandisp_crtc(struct drm_crtc *crtc)
{
	return container_of(crtc, struct cleandisp_crtc, base);
}

struct cleandisp_encoder {
	struct drm_encoder base;
	int port;
};

struct cleandisp_device {
	struct drm_device drm;
	void __iomem *mmio;
	struct clk *clk;
	struct cleandisp_plane *primary;
	struct cleandisp_crtc *crtc;
	struct cleandisp_crtc *wb_crtc;
	struct cleandisp_encoder *encoder;
	struct drm_connector connector;
	struct drm_encoder wb_encoder;
	struct drm_writeback_connector wb;
	const char *label;
	u32 *scanout_offsets;
	struct mutex commit_lock;
};

int cleandisp_kms_init(struct cleandisp_device *cd);

#endif
