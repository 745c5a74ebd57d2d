/* SPDX-License-Identifier: MIT */
#ifndef _CORPUS_DRM_PLANE_H
#define _CORPUS_DRM_PLANE_H

#include <linux/types.h>

struct drm_device;
struct drm_plane_funcs;

struct drm_plane {
	struct drm_device *dev;
};

int drm_universal_plane_init(struct drm_device *dev, struct drm_plane *plane,
			     u32 possible_crtcs, const struct drm_plane_funcs *funcs,
			     const u32 *formats, unsigned int format_count,
			     const unsigned long long *format_modifiers, int type,
			     const char *name, ...);
void *__drmm_universal_plane_alloc(struct drm_device *dev, size_t size, size_t offset,
				   u32 possible_crtcs, const struct drm_plane_funcs *funcs,
				   const u32 *formats, unsigned int format_count,
				   const unsigned long long *format_modifiers, int plane_type,
				   const char *name, ...);
#define drmm_universal_plane_alloc(dev, type, member, possible_crtcs, funcs, formats, \
				   format_count, format_modifiers, plane_type, name, ...) \
	((type *)__drmm_universal_plane_alloc(dev, sizeof(type), offsetof(type, member), \
					      possible_crtcs, funcs, formats, format_count, \
					      format_modifiers, plane_type, name, ##__VA_ARGS__))
void drm_plane_cleanup(struct drm_plane *plane);

#endif
