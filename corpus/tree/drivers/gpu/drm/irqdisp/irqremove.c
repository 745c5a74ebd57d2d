// SPDX-License-Identifier: GPL-2.0-only
/*
 * irqremove: request_irq() at probe, free_irq() in an uninstall helper that
 * the remove callback calls, before devres drops the drm_device: the handler
 * is gone at unbind.  The correct shape: silent.
 */
#include <linux/err.h>
#include <linux/interrupt.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>

struct irqremove {
	struct drm_device drm;
	int irq;
	unsigned int events;
};

static const struct drm_driver irqremove_driver = {
	.name = "irqremove",
};

static irqreturn_t irqremove_irq(int irq, void *arg)
{
	struct drm_device *drm = arg;
	struct irqremove *ir = container_of(drm, struct irqremove, drm);

	ir->events++;
	return IRQ_HANDLED;
}

static void irqremove_irq_uninstall(struct drm_device *drm)
{
	struct irqremove *ir = container_of(drm, struct irqremove, drm);

	free_irq(ir->irq, drm);
}

static int irqremove_probe(struct platform_device *pdev)
{
	struct irqremove *ir;
	int ret;

	ir = devm_drm_dev_alloc(&pdev->dev, &irqremove_driver, struct irqremove, drm);
	if (IS_ERR(ir))
		return PTR_ERR(ir);
	ir->irq = platform_get_irq(pdev, 0);
	// ok: irq-outlives-unbind
	ret = request_irq(ir->irq, irqremove_irq, 0, "irqremove", &ir->drm);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, ir);
	return drm_dev_register(&ir->drm, 0);
}

static void irqremove_remove(struct platform_device *pdev)
{
	struct irqremove *ir = platform_get_drvdata(pdev);

	drm_dev_unplug(&ir->drm);
	irqremove_irq_uninstall(&ir->drm);
}

static struct platform_driver irqremove_platform_driver = {
	.probe = irqremove_probe,
	.remove = irqremove_remove,
	.name = "irqremove",
};
