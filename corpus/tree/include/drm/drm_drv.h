/* SPDX-License-Identifier: MIT */
/* Corpus stand-in for the drm device life cycle API. */
#ifndef _CORPUS_DRM_DRV_H
#define _CORPUS_DRM_DRV_H

#include <linux/device.h>

struct drm_driver {
	const char *name;
	const char *desc;
	u32 driver_features;
};

/* Reference-counted: lives until the last drm_dev_put(), not until unbind. */
struct drm_device {
	struct device *dev;
	const struct drm_driver *driver;
	void *dev_private;
	bool registered;
	bool unplugged;
};

void *__devm_drm_dev_alloc(struct device *parent, const struct drm_driver *driver,
			   size_t size, size_t offset);

/* Allocates @type, which embeds a struct drm_device as @member; freed on the last put. */
#define devm_drm_dev_alloc(parent, driver, type, member) \
	((type *)__devm_drm_dev_alloc(parent, driver, sizeof(type), \
				      offsetof(type, member)))

struct drm_device *drm_dev_alloc(const struct drm_driver *driver, struct device *parent);
int drm_dev_register(struct drm_device *dev, unsigned long flags);
void drm_dev_unregister(struct drm_device *dev);
void drm_dev_unplug(struct drm_device *dev);
void drm_dev_get(struct drm_device *dev);
void drm_dev_put(struct drm_device *dev);
bool drm_dev_enter(struct drm_device *dev, int *idx);
void drm_dev_exit(int idx);

#endif
