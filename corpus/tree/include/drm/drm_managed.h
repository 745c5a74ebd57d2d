/* SPDX-License-Identifier: MIT */
/* Corpus stand-in for the drm-managed resource helpers. */
#ifndef _CORPUS_DRM_MANAGED_H
#define _CORPUS_DRM_MANAGED_H

#include <linux/types.h>

struct drm_device;
struct mutex;

typedef void (*drmres_release_t)(struct drm_device *dev, void *res);

int __drmm_add_action_or_reset(struct drm_device *dev, drmres_release_t action,
			       void *data, const char *name);
#define drmm_add_action_or_reset(dev, action, data) \
	__drmm_add_action_or_reset(dev, action, data, #action)

void *drmm_kmalloc(struct drm_device *dev, size_t size, gfp_t gfp);
static inline void *drmm_kzalloc(struct drm_device *dev, size_t size, gfp_t gfp)
{
	return drmm_kmalloc(dev, size, gfp);
}
static inline void *drmm_kmalloc_array(struct drm_device *dev, size_t n, size_t size,
				       gfp_t flags)
{
	return drmm_kmalloc(dev, n * size, flags);
}
void *drmm_kcalloc(struct drm_device *dev, size_t n, size_t size, gfp_t flags);
char *drmm_kstrdup(struct drm_device *dev, const char *s, gfp_t gfp);
void drmm_kfree(struct drm_device *dev, void *data);
int drmm_mutex_init(struct drm_device *dev, struct mutex *lock);

#endif
