// SPDX-License-Identifier: GPL-2.0-only
/* corpdisp mode setting: the CRTC is allocated against the parent device. */
#include <drm/drm_crtc.h>
#include <drm/drm_mode_config.h>
#include "corpdisp.h"

static const struct drm_crtc_funcs corpdisp_crtc_funcs = {
	.destroy = drm_crtc_cleanup,
};

int corpdisp_modeset_init(struct corpdisp_device *cdev, struct device *dev)
{
	struct corpdisp_crtc *ccrtc;
	int ret;

	// ok: unmanaged-mode-config
	ret = drmm_mode_config_init(&cdev->drm);
	if (ret)
		return ret;

	// expect: devm-mode-object
	ccrtc = devm_kzalloc(dev, sizeof(*ccrtc), GFP_KERNEL);
	if (!ccrtc)
		return -ENOMEM;

	ret = drm_crtc_init_with_planes(&cdev->drm, &ccrtc->base, NULL, NULL,
					&corpdisp_crtc_funcs, NULL);
	if (ret)
		return ret;

	cdev->crtc = ccrtc;
	return 0;
}
