/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef _CORPUS_TYPES_H
#define _CORPUS_TYPES_H
typedef unsigned long __kernel_size_t;
typedef __kernel_size_t size_t;
typedef unsigned int gfp_t;
typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef _Bool bool;
#define true 1
#define false 0
#define GFP_KERNEL 0u
#define __GFP_ZERO 0x100u
#define __iomem
#define NULL ((void *)0)
#define ENOMEM 12
#define ENODEV 19
#define EINVAL 22
#define offsetof(type, member) __builtin_offsetof(type, member)
#define ARRAY_SIZE(arr) (sizeof(arr) / sizeof((arr)[0]))
#endif
