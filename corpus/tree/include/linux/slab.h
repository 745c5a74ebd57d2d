/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: unmanaged heap memory. */
#ifndef _CORPUS_SLAB_H
#define _CORPUS_SLAB_H

#include <linux/types.h>

void *kmalloc(size_t size, gfp_t flags);
void *kzalloc(size_t size, gfp_t flags);
void *kcalloc(size_t n, size_t size, gfp_t flags);
void kfree(const void *objp);

/* One zeroed object of the type of P (GFP_KERNEL unless given), as in Linux 7.x. */
#define kzalloc_obj(P, ...) ((typeof(P) *)kzalloc(sizeof(P), GFP_KERNEL))

#endif
