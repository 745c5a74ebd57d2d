/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _NPUDISP_H
#define _NPUDISP_H

#include <drm/drm_drv.h>

struct npudisp_device {
	struct drm_device drm;
	u32 cores;
};

struct npudisp_device *npudisp_dev_init(struct platform_device *pdev, const struct drm_driver *driver);
void npudisp_dev_fini(struct npudisp_device *nd);

#endif
