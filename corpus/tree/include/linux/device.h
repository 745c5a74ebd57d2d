/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: just enough of the driver model for the cases to read like drivers. */
#ifndef _CORPUS_DEVICE_H
#define _CORPUS_DEVICE_H

#include <linux/types.h>
#include <linux/err.h>

struct device {
	struct device *parent;
	void *driver_data;
};

struct platform_device {
	const char *name;
	struct device dev;
};

void *devm_kmalloc(struct device *dev, size_t size, gfp_t gfp);
void *devm_kzalloc(struct device *dev, size_t size, gfp_t gfp);
void *devm_kcalloc(struct device *dev, size_t n, size_t size, gfp_t gfp);
void *devm_kmalloc_array(struct device *dev, size_t n, size_t size, gfp_t gfp);
char *devm_kstrdup(struct device *dev, const char *s, gfp_t gfp);
void *devm_kmemdup(struct device *dev, const void *src, size_t len, gfp_t gfp);
void devm_kfree(struct device *dev, const void *p);
int devm_add_action(struct device *dev, void (*action)(void *), void *data);
int devm_add_action_or_reset(struct device *dev, void (*action)(void *), void *data);

void *devres_open_group(struct device *dev, void *id, gfp_t gfp);
void devres_close_group(struct device *dev, void *id);
int devres_release_group(struct device *dev, void *id);

struct device *root_device_register(const char *name);
void root_device_unregister(struct device *root);

void __iomem *devm_platform_ioremap_resource(struct platform_device *pdev, unsigned int index);
int platform_get_irq(struct platform_device *pdev, unsigned int num);
const char *dev_name(const struct device *dev);
void *dev_get_drvdata(const struct device *dev);
void dev_set_drvdata(struct device *dev, void *data);
void platform_set_drvdata(struct platform_device *pdev, void *data);
void *platform_get_drvdata(const struct platform_device *pdev);

#endif
