// SPDX-License-Identifier: GPL-2.0-only
/* tinypanel: a single-file SPI panel driver with its buffers in devm_ memory. */
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>

struct tinypanel {
	struct drm_device drm;
	u32 *tx_buf;
};

static const struct drm_driver tinypanel_driver = {
	.name = "tinypanel",
};

static int tinypanel_probe(struct spi_device *spi)
{
	struct device *dev = &spi->dev;
	struct tinypanel *tp;

	tp = devm_drm_dev_alloc(dev, &tinypanel_driver, typeof(*tp), drm);
	if (IS_ERR(tp))
		return PTR_ERR(tp);

	// expect: devm-drm-memory
	tp->tx_buf = devm_kzalloc(dev, 4096, GFP_KERNEL);
	if (!tp->tx_buf)
		return -ENOMEM;

	spi_set_drvdata(spi, tp);
	return drm_dev_register(&tp->drm, 0);
}
