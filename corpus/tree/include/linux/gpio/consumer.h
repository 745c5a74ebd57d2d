/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: GPIO lines a driver drives. */
#ifndef _CORPUS_GPIO_CONSUMER_H
#define _CORPUS_GPIO_CONSUMER_H

struct device;
struct gpio_desc;

enum gpiod_flags { GPIOD_ASIS, GPIOD_IN, GPIOD_OUT_LOW, GPIOD_OUT_HIGH };

struct gpio_desc *devm_gpiod_get(struct device *dev, const char *con_id, enum gpiod_flags flags);
void gpiod_set_value(struct gpio_desc *desc, int value);

#endif
