/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _HANDOBJ_H
#define _HANDOBJ_H

#include <drm/drm_connector.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_encoder.h>
#include <drm/drm_plane.h>

struct handobj_encoder {
	struct drm_encoder base;
	int port;
};

struct handobj_overlay {
	struct drm_plane base;
	unsigned int zpos;
};

struct handobj_cursor {
	struct drm_plane base;
	int size;
};

struct handobj_panel_out {
	struct drm_connector connector;
	int width_mm;
};

struct handobj_device {
	struct drm_device drm;
	void __iomem *mmio;
	struct drm_crtc crtc;
	struct drm_connector hdmi;
	struct drm_encoder tmds;
	struct handobj_overlay *overlay;
	struct handobj_panel_out *panel;
};

int handobj_kms_init(struct handobj_device *hdev);
void handobj_kms_fini(struct handobj_device *hdev);

#endif
