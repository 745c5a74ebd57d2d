/* SPDX-License-Identifier: MIT */
#ifndef _CORPUS_DRM_PLANE_H
#define _CORPUS_DRM_PLANE_H

#include <linux/types.h>

struct drm_device;
struct drm_plane;

enum drm_plane_type {
	DRM_PLANE_TYPE_OVERLAY,
	DRM_PLANE_TYPE_PRIMARY,
	DRM_PLANE_TYPE_CURSOR,
};

struct drm_plane_funcs {
	void (*reset)(struct drm_plane *plane);
	void (*destroy)(struct drm_plane *plane);
};

struct drm_plane {
	struct drm_device *dev;
	const struct drm_plane_funcs *funcs;
	enum drm_plane_type type;
};

int drm_universal_plane_init(struct drm_device *dev, struct drm_plane *plane,
			     u32 possible_crtcs, const struct drm_plane_funcs *funcs,
			     const u32 *formats, unsigned int format_count,
			     const unsigned long long *format_modifiers, enum drm_plane_type type,
			     const char *name, ...);
void *__drmm_universal_plane_alloc(struct drm_device *dev, size_t size, size_t offset,
				   u32 possible_crtcs, const struct drm_plane_funcs *funcs,
				   const u32 *formats, unsigned int format_count,
				   const unsigned long long *format_modifiers,
				   enum drm_plane_type plane_type, const char *name, ...);
#define drmm_universal_plane_alloc(dev, type, member, possible_crtcs, funcs, formats, \
				   format_count, format_modifiers, plane_type, name, ...) \
	((type *)__drmm_universal_plane_alloc(dev, sizeof(type), offsetof(type, member), \
					      possible_crtcs, funcs, formats, format_count, \
					      format_modifiers, plane_type, name, ##__VA_ARGS__))
void drm_plane_cleanup(struct drm_plane *plane);
int drm_plane_create_zpos_property(struct drm_plane *plane, unsigned int zpos,
				   unsigned int min, unsigned int max);

#endif
