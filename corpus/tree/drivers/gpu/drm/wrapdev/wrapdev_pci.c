// SPDX-License-Identifier: GPL-2.0-only
/* wrapdev PCI front-end: gets its drm device from wrapdev_device_create(). */
#include "wrapdev.h"

static int wrapdev_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct wrapdev_device *wdev;

	wdev = wrapdev_device_create(&pdev->dev, id->driver_data);
	if (IS_ERR(wdev))
		return PTR_ERR(wdev);

	pci_set_drvdata(pdev, wdev);
	return drm_dev_register(&wdev->drm, 0);
}
