/* SPDX-License-Identifier: MIT */
/* Corpus stand-in for the range allocator. */
#ifndef _CORPUS_DRM_MM_H
#define _CORPUS_DRM_MM_H

#include <linux/types.h>

struct drm_mm {
	void *head;
};

void drm_mm_init(struct drm_mm *mm, u64 start, u64 size);
void drm_mm_takedown(struct drm_mm *mm);

#endif
