/* SPDX-License-Identifier: MIT */
#ifndef _CORPUS_DRM_ATOMIC_HELPER_H
#define _CORPUS_DRM_ATOMIC_HELPER_H

struct drm_device;

void drm_atomic_helper_shutdown(struct drm_device *dev);

#endif
