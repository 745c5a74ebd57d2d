/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _CORPUS_CONTAINER_OF_H
#define _CORPUS_CONTAINER_OF_H

#include <linux/types.h>

/* The structure of type @type whose member @member is at @ptr. */
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif
