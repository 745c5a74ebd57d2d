// SPDX-License-Identifier: GPL-2.0-only
/*
 * irqdevm: the interrupt is devres-managed on the parent device: devres frees
 * it at unbind, while its dev_id lives until the final drm_dev_put().  The
 * correct shape: silent.
 */
#include <linux/err.h>
#include <linux/interrupt.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>

struct irqdevm {
	struct drm_device drm;
	int irq;
	unsigned int events;
};

static const struct drm_driver irqdevm_driver = {
	.name = "irqdevm",
};

static irqreturn_t irqdevm_irq(int irq, void *arg)
{
	struct irqdevm *id = arg;

	id->events++;
	return IRQ_HANDLED;
}

static int irqdevm_probe(struct platform_device *pdev)
{
	struct irqdevm *id;
	int ret;

	id = devm_drm_dev_alloc(&pdev->dev, &irqdevm_driver, struct irqdevm, drm);
	if (IS_ERR(id))
		return PTR_ERR(id);
	id->irq = platform_get_irq(pdev, 0);
	// ok: irq-outlives-unbind
	ret = devm_request_irq(&pdev->dev, id->irq, irqdevm_irq, 0, "irqdevm", id);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, id);
	return drm_dev_register(&id->drm, 0);
}

static void irqdevm_remove(struct platform_device *pdev)
{
	struct irqdevm *id = platform_get_drvdata(pdev);

	drm_dev_unplug(&id->drm);
}

static struct platform_driver irqdevm_platform_driver = {
	.probe = irqdevm_probe,
	.remove = irqdevm_remove,
	.name = "irqdevm",
};
