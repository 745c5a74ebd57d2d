// SPDX-License-Identifier: GPL-2.0-only
/*
 * irqnever: the interrupt is requested in a setup helper called from probe,
 * with the drm_device as dev_id, and no code ever frees it.  After unbind
 * the handler stays on the (shared) line; after the last close it reads the
 * freed struct irqnever.  The fix requests it with devm_request_irq() on the
 * parent device.
 */
#include <linux/err.h>
#include <linux/interrupt.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>

struct irqnever {
	struct drm_device drm;
	void __iomem *regs;
	int irq;
	unsigned int events;
};

static const struct drm_driver irqnever_driver = {
	.name = "irqnever",
};

static irqreturn_t irqnever_irq_handler(int irq, void *arg)
{
	struct drm_device *drm = arg;
	struct irqnever *in = container_of(drm, struct irqnever, drm);

	in->events++;
	return IRQ_HANDLED;
}

static int irqnever_irq_init(struct irqnever *in)
{
	struct drm_device *drm = &in->drm;
	int ret;

	// expect: irq-outlives-unbind
	ret = request_irq(in->irq, irqnever_irq_handler, IRQF_SHARED, drm->driver->name, drm);
	if (ret)
		return ret;
	return 0;
}

static int irqnever_probe(struct platform_device *pdev)
{
	struct irqnever *in;
	int ret;

	in = devm_drm_dev_alloc(&pdev->dev, &irqnever_driver, struct irqnever, drm);
	if (IS_ERR(in))
		return PTR_ERR(in);
	in->irq = platform_get_irq(pdev, 0);
	ret = irqnever_irq_init(in);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, in);
	return drm_dev_register(&in->drm, 0);
}

static void irqnever_remove(struct platform_device *pdev)
{
	struct irqnever *in = platform_get_drvdata(pdev);

	drm_dev_unplug(&in->drm);
}

static struct platform_driver irqnever_platform_driver = {
	.probe = irqnever_probe,
	.remove = irqnever_remove,
	.name = "irqnever",
};
