/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: platform devices created by code rather than firmware. */
#ifndef _CORPUS_PLATFORM_DEVICE_H
#define _CORPUS_PLATFORM_DEVICE_H

#include <linux/device.h>

struct resource;

struct platform_device *platform_device_register_simple(const char *name, int id,
							 const struct resource *res,
							 unsigned int num);
void platform_device_unregister(struct platform_device *pdev);

struct platform_driver {
	int (*probe)(struct platform_device *pdev);
	void (*remove)(struct platform_device *pdev);
	const char *name;
};

int platform_driver_register(struct platform_driver *drv);
void platform_driver_unregister(struct platform_driver *drv);

#endif
