// SPDX-License-Identifier: GPL-2.0-only
/*
 * spidisp: a panel on SPI.  Its plane update sends every frame with spi_write() to the
 * spi_device it is bound to, its CRTC enable raises a GPIO: both are hardware hooks and
 * one guard patch covers both (the SPI transfer counts as hardware access, as in the
 * mipi-dbi helpers).
 */
#include <linux/container_of.h>
#include <linux/err.h>
#include <linux/gpio/consumer.h>
#include <linux/spi/spi.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_mode_config.h>
#include <drm/drm_plane.h>

struct spidisp {
	struct drm_device drm;
	struct spi_device *spi;
	struct gpio_desc *enable;
	u8 line[64];
	struct drm_crtc crtc;
	struct drm_plane plane;
};

static int spidisp_send(struct spidisp *sd)
{
	return spi_write(sd->spi, sd->line, sizeof(sd->line));
}

static void spidisp_plane_atomic_update(struct drm_plane *plane, struct drm_atomic_state *state)
{
	struct spidisp *sd = container_of(plane->dev, struct spidisp, drm);

	// expect: unguarded-hw-access
	spidisp_send(sd);
}

static const struct drm_plane_helper_funcs spidisp_plane_helper_funcs = {
	.atomic_update = spidisp_plane_atomic_update,
};

static void spidisp_crtc_atomic_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct spidisp *sd = container_of(crtc->dev, struct spidisp, drm);

	// expect: unguarded-hw-access
	gpiod_set_value(sd->enable, 1);
}

static const struct drm_crtc_helper_funcs spidisp_crtc_helper_funcs = {
	.atomic_enable = spidisp_crtc_atomic_enable,
};

static const struct drm_driver spidisp_driver = {
	.name = "spidisp",
	.desc = "corpus SPI panel driver",
};

static int spidisp_probe(struct spi_device *spi)
{
	struct spidisp *sd;
	int ret;

	sd = devm_drm_dev_alloc(&spi->dev, &spidisp_driver, struct spidisp, drm);
	if (IS_ERR(sd))
		return PTR_ERR(sd);
	sd->spi = spi;
	sd->enable = devm_gpiod_get(&spi->dev, "enable", GPIOD_OUT_LOW);
	if (IS_ERR(sd->enable))
		return PTR_ERR(sd->enable);
	ret = drmm_mode_config_init(&sd->drm);
	if (ret)
		return ret;
	drm_plane_helper_add(&sd->plane, &spidisp_plane_helper_funcs);
	drm_crtc_helper_add(&sd->crtc, &spidisp_crtc_helper_funcs);
	spi_set_drvdata(spi, sd);
	return drm_dev_register(&sd->drm, 0);
}

static void spidisp_remove(struct spi_device *spi)
{
	struct spidisp *sd = spi_get_drvdata(spi);

	drm_dev_unplug(&sd->drm);
	drm_atomic_helper_shutdown(&sd->drm);
}

static struct spi_driver spidisp_spi_driver = {
	.probe = spidisp_probe,
	.remove = spidisp_remove,
	.driver = {
		.name = "spidisp",
	},
};
module_spi_driver(spidisp_spi_driver);
