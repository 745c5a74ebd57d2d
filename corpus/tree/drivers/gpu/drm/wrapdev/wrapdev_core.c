// SPDX-License-Identifier: GPL-2.0-only
/* wrapdev core: creates the drm device on behalf of the bus drivers. */
#include "wrapdev.h"

static const struct drm_driver wrapdev_driver = {
	.name = "wrapdev",
};

struct wrapdev_device *wrapdev_device_create(struct device *parent, int model)
{
	struct wrapdev_device *wdev;

	wdev = devm_drm_dev_alloc(parent, &wrapdev_driver, struct wrapdev_device, drm);
	if (IS_ERR(wdev))
		return wdev;
	wdev->model = model;
	return wdev;
}
EXPORT_SYMBOL_GPL(wrapdev_device_create);
