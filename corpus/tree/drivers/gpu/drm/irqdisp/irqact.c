// SPDX-License-Identifier: GPL-2.0-only
/*
 * irqact: request_irq() at probe with a devm_ action that frees it, so
 * devres frees it at unbind (before the drm_device's own devres reference,
 * registered earlier, is dropped).  The correct shape: silent.
 */
#include <linux/device.h>
#include <linux/err.h>
#include <linux/interrupt.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>

struct irqact {
	struct drm_device drm;
	int irq;
	unsigned int events;
};

static const struct drm_driver irqact_driver = {
	.name = "irqact",
};

static irqreturn_t irqact_irq(int irq, void *arg)
{
	struct irqact *ia = arg;

	ia->events++;
	return IRQ_HANDLED;
}

static void irqact_free_irq(void *data)
{
	struct irqact *ia = data;

	free_irq(ia->irq, ia);
}

static int irqact_probe(struct platform_device *pdev)
{
	struct irqact *ia;
	int ret;

	ia = devm_drm_dev_alloc(&pdev->dev, &irqact_driver, struct irqact, drm);
	if (IS_ERR(ia))
		return PTR_ERR(ia);
	ia->irq = platform_get_irq(pdev, 0);
	// ok: irq-outlives-unbind
	ret = request_irq(ia->irq, irqact_irq, 0, "irqact", ia);
	if (ret)
		return ret;
	ret = devm_add_action_or_reset(&pdev->dev, irqact_free_irq, ia);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, ia);
	return drm_dev_register(&ia->drm, 0);
}

static struct platform_driver irqact_platform_driver = {
	.probe = irqact_probe,
	.name = "irqact",
};
