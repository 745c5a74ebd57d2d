/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: devres-managed interrupt handlers. */
#ifndef _CORPUS_INTERRUPT_H
#define _CORPUS_INTERRUPT_H

struct device;

typedef int irqreturn_t;
#define IRQ_NONE 0
#define IRQ_HANDLED 1

typedef irqreturn_t (*irq_handler_t)(int irq, void *dev_id);

int devm_request_irq(struct device *dev, unsigned int irq, irq_handler_t handler,
		     unsigned long irqflags, const char *devname, void *dev_id);

#endif
