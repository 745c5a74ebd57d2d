/* SPDX-License-Identifier: MIT */
#ifndef _CORPUS_DRM_ENCODER_H
#define _CORPUS_DRM_ENCODER_H

#include <linux/types.h>

struct drm_device;
struct drm_encoder;

#define DRM_MODE_ENCODER_NONE	0
#define DRM_MODE_ENCODER_DAC	1
#define DRM_MODE_ENCODER_TMDS	2
#define DRM_MODE_ENCODER_LVDS	3
#define DRM_MODE_ENCODER_VIRTUAL	5

struct drm_encoder_funcs {
	void (*reset)(struct drm_encoder *encoder);
	void (*destroy)(struct drm_encoder *encoder);
};

struct drm_encoder {
	struct drm_device *dev;
	const struct drm_encoder_funcs *funcs;
	u32 possible_crtcs;
};

int drm_encoder_init(struct drm_device *dev, struct drm_encoder *encoder,
		     const struct drm_encoder_funcs *funcs, int encoder_type, const char *name, ...);
int drmm_encoder_init(struct drm_device *dev, struct drm_encoder *encoder,
		      const struct drm_encoder_funcs *funcs, int encoder_type, const char *name, ...);
void *__drmm_encoder_alloc(struct drm_device *dev, size_t size, size_t offset,
			   const struct drm_encoder_funcs *funcs, int encoder_type,
			   const char *name, ...);
#define drmm_encoder_alloc(dev, type, member, funcs, encoder_type, name, ...) \
	((type *)__drmm_encoder_alloc(dev, sizeof(type), offsetof(type, member), \
				      funcs, encoder_type, name, ##__VA_ARGS__))
void drm_encoder_cleanup(struct drm_encoder *encoder);

#endif
