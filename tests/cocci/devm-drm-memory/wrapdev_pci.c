// SPDX-License-Identifier: GPL-2.0-only
/* wrapdev PCI front-end: drm device from wrapdev_device_create(), devm_ memory in it. */
#include "wrapdev.h"

static int wrapdev_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct wrapdev_device *wdev;

	wdev = wrapdev_device_create(&pdev->dev, id->driver_data);
	if (IS_ERR(wdev))
		return PTR_ERR(wdev);

	/* the wrapper's struct is this module's drm private struct too */
	// expect: devm-drm-memory
	wdev->label = devm_kstrdup(&pdev->dev, pci_name(pdev), GFP_KERNEL);
	if (!wdev->label)
		return -ENOMEM;

	pci_set_drvdata(pdev, wdev);
	return drm_dev_register(&wdev->drm, 0);
}
