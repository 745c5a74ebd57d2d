/* SPDX-License-Identifier: MIT */
/* Corpus stand-in: driver-private atomic state objects. */
#ifndef _CORPUS_DRM_ATOMIC_H
#define _CORPUS_DRM_ATOMIC_H

struct drm_device;
struct drm_private_obj;
struct drm_private_state;
struct drm_atomic_state;

struct drm_private_state_funcs {
	struct drm_private_state *(*atomic_duplicate_state)(struct drm_private_obj *obj);
	void (*atomic_destroy_state)(struct drm_private_obj *obj, struct drm_private_state *state);
};

struct drm_private_state {
	struct drm_private_obj *obj;
};

struct drm_private_obj {
	struct drm_private_state *state;
	const struct drm_private_state_funcs *funcs;
};

void drm_atomic_private_obj_init(struct drm_device *dev, struct drm_private_obj *obj,
				 struct drm_private_state *state,
				 const struct drm_private_state_funcs *funcs);
void drm_atomic_private_obj_fini(struct drm_private_obj *obj);

#endif
