/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: just enough of the driver model for the cases to read like drivers. */
#ifndef _CORPUS_DEVICE_H
#define _CORPUS_DEVICE_H

#include <linux/types.h>

struct device;
struct platform_device {
	struct device dev;
};

void *devm_kzalloc(struct device *dev, size_t size, gfp_t gfp);
void *devm_kcalloc(struct device *dev, size_t n, size_t size, gfp_t gfp);
char *devm_kstrdup(struct device *dev, const char *s, gfp_t gfp);
void devm_kfree(struct device *dev, const void *p);
int devm_add_action_or_reset(struct device *dev, void (*action)(void *), void *data);
void __iomem *devm_platform_ioremap_resource(struct platform_device *pdev, unsigned int index);
void *dev_get_drvdata(const struct device *dev);
void dev_set_drvdata(struct device *dev, void *data);
void platform_set_drvdata(struct platform_device *pdev, void *data);
void *platform_get_drvdata(const struct platform_device *pdev);

#endif
