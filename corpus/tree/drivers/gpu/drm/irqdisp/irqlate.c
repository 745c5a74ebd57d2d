// SPDX-License-Identifier: GPL-2.0-only
/*
 * irqlate: a threaded interrupt whose dev_id is the private struct that
 * embeds the drm_device, freed only in the drm_driver.release hook, at the
 * final drm_dev_put().  Between unbind and the last close the handler runs on
 * the unbound device's interrupts.  Moving the free out of the release hook
 * is left to a person: no patch.
 */
#include <linux/err.h>
#include <linux/interrupt.h>
#include <linux/platform_device.h>
#include <drm/drm_drv.h>

struct irqlate {
	struct drm_device drm;
	int irq;
	unsigned int events;
};

static irqreturn_t irqlate_irq(int irq, void *arg)
{
	return IRQ_WAKE_THREAD;
}

static irqreturn_t irqlate_irq_thread(int irq, void *arg)
{
	struct irqlate *il = arg;

	il->events++;
	return IRQ_HANDLED;
}

static void irqlate_release(struct drm_device *drm)
{
	struct irqlate *il = container_of(drm, struct irqlate, drm);

	free_irq(il->irq, il);
}

static const struct drm_driver irqlate_driver = {
	.name = "irqlate",
	.release = irqlate_release,
};

static int irqlate_probe(struct platform_device *pdev)
{
	struct irqlate *il;
	int ret;

	il = devm_drm_dev_alloc(&pdev->dev, &irqlate_driver, struct irqlate, drm);
	if (IS_ERR(il))
		return PTR_ERR(il);
	il->irq = platform_get_irq(pdev, 0);
	// expect: irq-outlives-unbind
	ret = request_threaded_irq(il->irq, irqlate_irq, irqlate_irq_thread, 0, "irqlate", il);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, il);
	return drm_dev_register(&il->drm, 0);
}

static void irqlate_remove(struct platform_device *pdev)
{
	struct irqlate *il = platform_get_drvdata(pdev);

	drm_dev_unplug(&il->drm);
}

static struct platform_driver irqlate_platform_driver = {
	.probe = irqlate_probe,
	.remove = irqlate_remove,
	.name = "irqlate",
};
