/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef LADDERDISP_H
#define LADDERDISP_H

#include <linux/mutex.h>
#include <drm/drm_drv.h>
#include <drm/drm_mm.h>

struct ladderdisp_hpd {
	struct mutex lock;
	int state;
};

struct ladderdisp {
	struct drm_device drm;
	struct drm_mm vram;
	struct mutex vram_lock;
	struct mutex irq_lock;
	struct ladderdisp_hpd hpd;
	struct mutex poll_lock;
	void *ring;
};

void ladderdisp_irq_init(struct ladderdisp *ld);
void ladderdisp_hpd_init(struct ladderdisp *ld);

#endif
