/* SPDX-License-Identifier: MIT */
#ifndef _CORPUS_DRM_PROBE_HELPER_H
#define _CORPUS_DRM_PROBE_HELPER_H

struct drm_device;

void drm_kms_helper_poll_init(struct drm_device *dev);
void drm_kms_helper_poll_fini(struct drm_device *dev);

#endif
