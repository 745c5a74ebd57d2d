/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _KZDISP_H
#define _KZDISP_H

#include <drm/drm_connector.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_encoder.h>
#include <drm/drm_plane.h>

struct kzdisp_crtc {
	struct drm_crtc base;
	unsigned int port;
};

struct kzdisp_plane {
	struct drm_plane base;
	unsigned int hw_id;
};

struct kzdisp_encoder {
	struct drm_encoder base;
	int lanes;
};

struct kzdisp_connector {
	struct drm_connector base;
	bool hotplug;
};

struct kzdisp_device {
	struct drm_device drm;
	void __iomem *regs;
	struct kzdisp_crtc *crtc;
};

int kzdisp_kms_init(struct kzdisp_device *kd);

#endif
