/* SPDX-License-Identifier: MIT */
#ifndef _CORPUS_DRM_CONNECTOR_H
#define _CORPUS_DRM_CONNECTOR_H

struct drm_device;
struct drm_connector_funcs;

struct drm_connector {
	struct drm_device *dev;
};

int drm_connector_init(struct drm_device *dev, struct drm_connector *connector,
		       const struct drm_connector_funcs *funcs, int connector_type);
int drmm_connector_init(struct drm_device *dev, struct drm_connector *connector,
			const struct drm_connector_funcs *funcs, int connector_type, void *ddc);
void drm_connector_cleanup(struct drm_connector *connector);

#endif
