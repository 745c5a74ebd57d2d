/* SPDX-License-Identifier: GPL-2.0-only */
/* Corpus stand-in: a device on an SPI bus and its transfers. */
#ifndef _CORPUS_SPI_H
#define _CORPUS_SPI_H

#include <linux/device.h>

struct spi_device {
	struct device dev;
	u32 max_speed_hz;
};

struct spi_driver {
	int (*probe)(struct spi_device *spi);
	void (*remove)(struct spi_device *spi);
	struct { const char *name; } driver;
};

int spi_write(struct spi_device *spi, const void *buf, size_t len);
int spi_read(struct spi_device *spi, void *buf, size_t len);
void spi_set_drvdata(struct spi_device *spi, void *data);
void *spi_get_drvdata(struct spi_device *spi);

#endif
