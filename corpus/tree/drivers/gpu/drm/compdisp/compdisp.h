/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _COMPDISP_H
#define _COMPDISP_H

#include <linux/clk.h>
#include <linux/platform_device.h>
#include <drm/drm_connector.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_encoder.h>

struct compdisp_crtc {
	struct drm_crtc base;
	u32 background;
};

struct compdisp_device {
	struct drm_device drm;
	void __iomem *mmio;
	struct compdisp_crtc *crtc;
};

/* The HDMI block is its own platform device, bound into the master as a component. */
struct compdisp_hdmi {
	struct device *dev;
	struct drm_encoder encoder;
	struct drm_connector connector;
	void __iomem *regs;
	struct clk *clk;
};

extern struct platform_driver compdisp_hdmi_driver;

#endif
