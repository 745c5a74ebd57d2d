/* SPDX-License-Identifier: MIT */
#ifndef _CORPUS_DRM_CRTC_H
#define _CORPUS_DRM_CRTC_H

#include <linux/types.h>

struct drm_device;
struct drm_plane;
struct drm_crtc;
struct drm_atomic_state;

struct drm_crtc_funcs {
	void (*reset)(struct drm_crtc *crtc);
	void (*destroy)(struct drm_crtc *crtc);
};

struct drm_crtc_helper_funcs {
	void (*atomic_enable)(struct drm_crtc *crtc, struct drm_atomic_state *state);
	void (*atomic_disable)(struct drm_crtc *crtc, struct drm_atomic_state *state);
};

struct drm_crtc {
	struct drm_device *dev;
	const struct drm_crtc_funcs *funcs;
	const struct drm_crtc_helper_funcs *helper_private;
	unsigned int index;
};

int drm_crtc_init_with_planes(struct drm_device *dev, struct drm_crtc *crtc,
			      struct drm_plane *primary, struct drm_plane *cursor,
			      const struct drm_crtc_funcs *funcs, const char *name, ...);
int drmm_crtc_init_with_planes(struct drm_device *dev, struct drm_crtc *crtc,
			       struct drm_plane *primary, struct drm_plane *cursor,
			       const struct drm_crtc_funcs *funcs, const char *name, ...);
void *__drmm_crtc_alloc_with_planes(struct drm_device *dev, size_t size, size_t offset,
				    struct drm_plane *primary, struct drm_plane *cursor,
				    const struct drm_crtc_funcs *funcs, const char *name, ...);
#define drmm_crtc_alloc_with_planes(dev, type, member, primary, cursor, funcs, name...) \
	((type *)__drmm_crtc_alloc_with_planes(dev, sizeof(type), offsetof(type, member), \
					       primary, cursor, funcs, name))
void drm_crtc_cleanup(struct drm_crtc *crtc);
void drm_crtc_helper_add(struct drm_crtc *crtc, const struct drm_crtc_helper_funcs *funcs);
bool drm_crtc_handle_vblank(struct drm_crtc *crtc);

#endif
