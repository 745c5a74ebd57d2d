// SPDX-License-Identifier: GPL-2.0-only
/*
 * irqwait: the interrupt is requested at probe with the drm_device as dev_id
 * and never freed, like irqnever; but the teardown of the device runs from
 * the drm_driver.release hook and waits for the device to hand its buffers
 * back, which the handler reports: it queues the reaper work, and the reaper
 * wakes the queue the teardown sleeps on.  Freeing the IRQ at unbind would
 * leave that wait to time out at the last close, so the devm_request_irq()
 * fix is refused until the teardown moves to remove.
 */
#include <linux/err.h>
#include <linux/interrupt.h>
#include <linux/platform_device.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <drm/drm_drv.h>

struct irqwait {
	struct drm_device drm;
	void __iomem *regs;
	int irq;
	atomic_t held;
	wait_queue_head_t returned;
	struct work_struct reap;
};

static void irqwait_release(struct drm_device *drm);

static const struct drm_driver irqwait_driver = {
	.name = "irqwait",
	.release = irqwait_release,
};

static void irqwait_reap(struct work_struct *work)
{
	struct irqwait *iw = container_of(work, struct irqwait, reap);

	atomic_set(&iw->held, readl(iw->regs + 0x10));
	wake_up_all(&iw->returned);
}

static void irqwait_kick_reaper(struct irqwait *iw)
{
	schedule_work(&iw->reap);
}

static irqreturn_t irqwait_irq_handler(int irq, void *arg)
{
	struct irqwait *iw = container_of(arg, struct irqwait, drm);

	if (!readl(iw->regs + 0x04))
		return IRQ_NONE;
	irqwait_kick_reaper(iw);
	return IRQ_HANDLED;
}

static void irqwait_device_fini(struct irqwait *iw)
{
	writel(1, iw->regs + 0x08);	/* ask the device for every buffer back */
	wait_event_timeout(iw->returned, atomic_read(&iw->held) == 0, HZ);
	flush_work(&iw->reap);
}

static void irqwait_release(struct drm_device *drm)
{
	struct irqwait *iw = container_of(drm, struct irqwait, drm);

	irqwait_device_fini(iw);
}

static int irqwait_probe(struct platform_device *pdev)
{
	struct irqwait *iw;
	int ret;

	iw = devm_drm_dev_alloc(&pdev->dev, &irqwait_driver, struct irqwait, drm);
	if (IS_ERR(iw))
		return PTR_ERR(iw);
	iw->regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(iw->regs))
		return PTR_ERR(iw->regs);
	init_waitqueue_head(&iw->returned);
	INIT_WORK(&iw->reap, irqwait_reap);
	iw->irq = platform_get_irq(pdev, 0);
	// expect: irq-outlives-unbind
	ret = request_irq(iw->irq, irqwait_irq_handler, IRQF_SHARED, "irqwait", &iw->drm);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, iw);
	return drm_dev_register(&iw->drm, 0);
}

static void irqwait_remove(struct platform_device *pdev)
{
	struct irqwait *iw = platform_get_drvdata(pdev);

	drm_dev_unplug(&iw->drm);
}

static struct platform_driver irqwait_platform_driver = {
	.probe = irqwait_probe,
	.remove = irqwait_remove,
	.name = "irqwait",
};
