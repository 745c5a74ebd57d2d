/* SPDX-License-Identifier: MIT */
/* Corpus stand-in: one CRTC, one plane and one encoder in a single core struct. */
#ifndef _CORPUS_DRM_SIMPLE_KMS_HELPER_H
#define _CORPUS_DRM_SIMPLE_KMS_HELPER_H

#include <drm/drm_crtc.h>
#include <drm/drm_encoder.h>
#include <drm/drm_plane.h>

struct drm_connector;
struct drm_simple_display_pipe;

struct drm_simple_display_pipe_funcs {
	void (*enable)(struct drm_simple_display_pipe *pipe);
	void (*disable)(struct drm_simple_display_pipe *pipe);
};

struct drm_simple_display_pipe {
	struct drm_crtc crtc;
	struct drm_plane plane;
	struct drm_encoder encoder;
	struct drm_connector *connector;
	const struct drm_simple_display_pipe_funcs *funcs;
};

int drm_simple_display_pipe_init(struct drm_device *dev, struct drm_simple_display_pipe *pipe,
				 const struct drm_simple_display_pipe_funcs *funcs,
				 const u32 *formats, unsigned int format_count,
				 const unsigned long long *format_modifiers,
				 struct drm_connector *connector);

#endif
