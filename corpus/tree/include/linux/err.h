/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: error pointers. */
#ifndef _CORPUS_ERR_H
#define _CORPUS_ERR_H

#include <linux/types.h>

void *ERR_PTR(long error);
long PTR_ERR(const void *ptr);
bool IS_ERR(const void *ptr);
bool IS_ERR_OR_NULL(const void *ptr);
void *ERR_CAST(const void *ptr);

#endif
