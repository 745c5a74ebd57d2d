// SPDX-License-Identifier: GPL-2.0-only
/*
 * irqunwind: probe frees the interrupt when a later step fails, but nothing
 * frees it at unbind.  A devm_request_irq() would be freed twice by that
 * unwind: no patch, the free must go with the conversion.
 */
#include <linux/err.h>
#include <linux/interrupt.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>

struct irqunwind {
	struct drm_device drm;
	int irq;
	unsigned int events;
};

static const struct drm_driver irqunwind_driver = {
	.name = "irqunwind",
};

static irqreturn_t irqunwind_irq(int irq, void *arg)
{
	struct irqunwind *iu = arg;

	iu->events++;
	return IRQ_HANDLED;
}

static int irqunwind_probe(struct platform_device *pdev)
{
	struct irqunwind *iu;
	int ret;

	iu = devm_drm_dev_alloc(&pdev->dev, &irqunwind_driver, struct irqunwind, drm);
	if (IS_ERR(iu))
		return PTR_ERR(iu);
	iu->irq = platform_get_irq(pdev, 0);
	// expect: irq-outlives-unbind
	ret = request_irq(iu->irq, irqunwind_irq, 0, "irqunwind", iu);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, iu);
	ret = drm_dev_register(&iu->drm, 0);
	if (ret)
		goto err_irq;
	return 0;

err_irq:
	free_irq(iu->irq, iu);
	return ret;
}

static void irqunwind_remove(struct platform_device *pdev)
{
	struct irqunwind *iu = platform_get_drvdata(pdev);

	drm_dev_unplug(&iu->drm);
}

static struct platform_driver irqunwind_platform_driver = {
	.probe = irqunwind_probe,
	.remove = irqunwind_remove,
	.name = "irqunwind",
};
