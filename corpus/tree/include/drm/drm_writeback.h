/* SPDX-License-Identifier: MIT */
/* Corpus stand-in: a writeback connector embeds its connector and encoder. */
#ifndef _CORPUS_DRM_WRITEBACK_H
#define _CORPUS_DRM_WRITEBACK_H

#include <drm/drm_connector.h>
#include <drm/drm_encoder.h>

struct drm_writeback_connector {
	struct drm_connector base;
	struct drm_encoder encoder;
	u32 possible_formats;
};

int drm_writeback_connector_init(struct drm_device *dev,
				 struct drm_writeback_connector *wb_connector,
				 const struct drm_connector_funcs *con_funcs,
				 const void *enc_helper_funcs, const u32 *formats,
				 int n_formats, u32 possible_crtcs);
int drmm_writeback_connector_init(struct drm_device *dev,
				  struct drm_writeback_connector *wb_connector,
				  const struct drm_connector_funcs *con_funcs,
				  struct drm_encoder *enc, const u32 *formats, int n_formats);

#endif
