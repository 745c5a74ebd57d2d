/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: register maps, and GPIO descriptors. */
#ifndef _CORPUS_REGMAP_H
#define _CORPUS_REGMAP_H

#include <linux/types.h>

struct device;
struct regmap;
struct regmap_config;
struct gpio_desc;

struct regmap *devm_regmap_init_mmio(struct device *dev, void __iomem *regs,
				     const struct regmap_config *config);
int regmap_read(struct regmap *map, unsigned int reg, unsigned int *val);
int regmap_write(struct regmap *map, unsigned int reg, unsigned int val);
int regmap_update_bits(struct regmap *map, unsigned int reg, unsigned int mask, unsigned int val);

#define GPIOD_OUT_LOW	0
struct gpio_desc *devm_gpiod_get(struct device *dev, const char *con_id, int flags);
void gpiod_set_value_cansleep(struct gpio_desc *desc, int value);
int gpiod_get_value_cansleep(const struct gpio_desc *desc);

#endif
