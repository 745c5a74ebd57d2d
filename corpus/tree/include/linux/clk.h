/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: clocks, a hardware resource that devm_ may own. */
#ifndef _CORPUS_CLK_H
#define _CORPUS_CLK_H

struct device;
struct clk;

struct clk *devm_clk_get(struct device *dev, const char *id);
int clk_prepare_enable(struct clk *clk);
void clk_disable_unprepare(struct clk *clk);
unsigned long clk_get_rate(struct clk *clk);
long clk_round_rate(struct clk *clk, unsigned long rate);

#endif
