/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _WRAPDEV_H
#define _WRAPDEV_H

#include <linux/pci.h>
#include <drm/drm_drv.h>

struct wrapdev_device {
	struct drm_device drm;
	int model;
	const char *label;
};

struct wrapdev_device *wrapdev_device_create(struct device *parent, int model);

#endif
