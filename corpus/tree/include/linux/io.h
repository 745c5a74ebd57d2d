/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: MMIO accessors, for registers mapped with devm_ helpers. */
#ifndef _CORPUS_IO_H
#define _CORPUS_IO_H

#include <linux/types.h>

u32 readl(const void __iomem *addr);
void writel(u32 value, void __iomem *addr);

#endif
