/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: just enough of PCI for a bus front-end. */
#ifndef _CORPUS_PCI_H
#define _CORPUS_PCI_H

#include <linux/device.h>

struct pci_dev {
	struct device dev;
	u16 vendor;
	u16 device;
};

struct pci_device_id {
	u32 vendor, device;
	unsigned long driver_data;
};

const char *pci_name(const struct pci_dev *pdev);
void pci_set_drvdata(struct pci_dev *pdev, void *data);
void *pci_get_drvdata(struct pci_dev *pdev);

#endif
