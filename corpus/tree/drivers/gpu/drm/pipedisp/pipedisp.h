/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _PIPEDISP_H
#define _PIPEDISP_H

#include <drm/drm_atomic.h>
#include <drm/drm_connector.h>
#include <drm/drm_drv.h>
#include <drm/drm_encoder.h>
#include <drm/drm_simple_kms_helper.h>
#include <drm/drm_writeback.h>

#define PIPEDISP_NUM_LAYERS	3

/* the CRTC, plane and encoder sit inside the helper's core struct */
struct pipedisp_output {
	struct drm_simple_display_pipe pipe;
	u32 format;
};

/* the plane sits one driver struct further down */
struct pipedisp_layer_hw {
	struct drm_plane plane;
	u32 offset;
};

struct pipedisp_layer {
	struct pipedisp_layer_hw hw;
	unsigned int id;
};

struct pipedisp_encoder {
	struct drm_encoder base;
	int port;
};

/* two connectors as an array member */
struct pipedisp_dual_conn {
	struct drm_connector conn[2];
	void __iomem *ddc;
};

struct pipedisp_wb {
	struct drm_writeback_connector wb;
	unsigned int pending;
};

struct pipedisp_bw_state {
	struct drm_private_state base;
	u32 used;
};

struct pipedisp_bw {
	struct drm_private_obj obj;
	u32 max_bw;
};

/* only points at a CRTC; owns no mode object */
struct pipedisp_irq_ctx {
	struct drm_crtc *crtc;
	void __iomem *regs;
	int irq;
};

struct pipedisp_device {
	struct drm_device drm;
	void __iomem *mmio;
	struct pipedisp_output *out;
	struct pipedisp_layer *layers;
	struct pipedisp_encoder *aux;
	struct pipedisp_dual_conn *conns;
	struct pipedisp_wb *wb;
	struct pipedisp_bw *bw;
	u32 *state_cache;
};

int pipedisp_outputs_create(struct pipedisp_device *pdd, struct device *dev);

#endif
