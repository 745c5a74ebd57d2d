/* SPDX-License-Identifier: MIT */
#ifndef _CORPUS_DRM_CONNECTOR_H
#define _CORPUS_DRM_CONNECTOR_H

#include <linux/types.h>

struct drm_device;
struct drm_connector;
struct drm_encoder;
struct i2c_adapter;

#define DRM_MODE_CONNECTOR_Unknown	0
#define DRM_MODE_CONNECTOR_VGA		1
#define DRM_MODE_CONNECTOR_HDMIA	11
#define DRM_MODE_CONNECTOR_DPI		17
#define DRM_MODE_CONNECTOR_WRITEBACK	18
#define DRM_MODE_CONNECTOR_SPI		19

struct drm_connector_funcs {
	void (*reset)(struct drm_connector *connector);
	void (*destroy)(struct drm_connector *connector);
};

struct drm_connector {
	struct drm_device *dev;
	const struct drm_connector_funcs *funcs;
	int connector_type;
};

int drm_connector_init(struct drm_device *dev, struct drm_connector *connector,
		       const struct drm_connector_funcs *funcs, int connector_type);
int drmm_connector_init(struct drm_device *dev, struct drm_connector *connector,
			const struct drm_connector_funcs *funcs, int connector_type,
			struct i2c_adapter *ddc);
void drm_connector_cleanup(struct drm_connector *connector);
void drm_connector_unregister(struct drm_connector *connector);
int drm_connector_attach_encoder(struct drm_connector *connector, struct drm_encoder *encoder);

#endif
