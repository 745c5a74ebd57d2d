/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _CORPUS_TYPES_H
#define _CORPUS_TYPES_H
typedef unsigned long size_t;
typedef unsigned int gfp_t;
typedef unsigned int u32;
#define GFP_KERNEL 0u
#define __iomem
#define NULL ((void *)0)
#define ENOMEM 12
#define ENODEV 19
#define offsetof(type, member) __builtin_offsetof(type, member)
#endif
