/* SPDX-License-Identifier: MIT */
#ifndef _CORPUS_DRM_MODE_CONFIG_H
#define _CORPUS_DRM_MODE_CONFIG_H

struct drm_device;

int drmm_mode_config_init(struct drm_device *dev);
/* as in every tree since the managed helpers came: a wrapper of the managed init */
static inline int drm_mode_config_init(struct drm_device *dev)
{
	return drmm_mode_config_init(dev);
}
void drm_mode_config_cleanup(struct drm_device *dev);
void drm_mode_config_reset(struct drm_device *dev);

#endif
