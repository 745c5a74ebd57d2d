/* SPDX-License-Identifier: MIT */
#ifndef _CORPUS_DRM_ENCODER_H
#define _CORPUS_DRM_ENCODER_H

struct drm_device;
struct drm_encoder_funcs;

struct drm_encoder {
	struct drm_device *dev;
};

int drm_encoder_init(struct drm_device *dev, struct drm_encoder *encoder,
		     const struct drm_encoder_funcs *funcs, int encoder_type, const char *name, ...);
int drmm_encoder_init(struct drm_device *dev, struct drm_encoder *encoder,
		      const struct drm_encoder_funcs *funcs, int encoder_type, const char *name, ...);
void drm_encoder_cleanup(struct drm_encoder *encoder);

#endif
