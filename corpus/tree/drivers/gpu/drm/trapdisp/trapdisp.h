/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _TRAPDISP_H
#define _TRAPDISP_H

#include <linux/mutex.h>
#include <drm/drm_drv.h>
#include <drm/drm_plane.h>
#include <drm/drm_encoder.h>
#include <drm/drm_connector.h>

struct trapdisp_primary {
	struct drm_plane base;
	unsigned int zpos;
};

struct trapdisp_cursor {
	struct drm_plane base;
	u32 max_width;
};

struct trapdisp_overlay {
	struct drm_plane base;
	void __iomem *window;
};

struct trapdisp_output {
	struct drm_encoder encoder;
	struct drm_connector connector;
	struct mutex hpd_lock;
	int port;
};

struct trapdisp_device {
	struct drm_device drm;
	void __iomem *mmio;
	struct mutex commit_lock;
	struct trapdisp_primary *primary;
	struct trapdisp_cursor *cursor;
	struct trapdisp_output *output;
};

struct trapdisp_primary *trapdisp_primary_create(struct drm_device *drm, u32 crtcs);
struct trapdisp_cursor *trapdisp_cursor_create(struct drm_device *drm);
int trapdisp_overlay_create(struct trapdisp_device *tdev);
int trapdisp_output_create(struct trapdisp_device *tdev);
int trapdisp_bare_encoder(struct trapdisp_device *tdev);

#endif
