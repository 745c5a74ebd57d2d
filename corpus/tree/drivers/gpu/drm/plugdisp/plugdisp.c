// SPDX-License-Identifier: GPL-2.0-only
/* plugdisp: a simple display pipe whose registers sit behind a regmap. */
#include <linux/container_of.h>
#include <linux/platform_device.h>
#include <linux/regmap.h>
#include <drm/drm_connector.h>
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_mode_config.h>
#include <drm/drm_probe_helper.h>
#include <drm/drm_simple_kms_helper.h>

#define PLUGDISP_CTRL		0x00
#define PLUGDISP_CTRL_EN	0x1
#define PLUGDISP_ADDR		0x04
#define PLUGDISP_HPD		0x08

struct plugdisp_device {
	struct drm_device drm;
	struct drm_simple_display_pipe pipe;
	struct drm_connector connector;
	struct regmap *regmap;
	struct gpio_desc *reset;
};

static const struct regmap_config plugdisp_regmap_config = {
	.reg_bits = 32,
	.val_bits = 32,
	.reg_stride = 4,
};

static const u32 plugdisp_formats[] = {
	0x34325258,	/* XR24 */
};

static inline struct plugdisp_device *to_plugdisp(struct drm_device *drm)
{
	return container_of(drm, struct plugdisp_device, drm);
}

static void plugdisp_pipe_enable(struct drm_simple_display_pipe *pipe,
				 struct drm_crtc_state *crtc_state,
				 struct drm_plane_state *plane_state)
{
	struct plugdisp_device *pd = to_plugdisp(pipe->crtc.dev);

	// expect: unguarded-hw-access
	gpiod_set_value_cansleep(pd->reset, 0);
	regmap_update_bits(pd->regmap, PLUGDISP_CTRL, PLUGDISP_CTRL_EN, PLUGDISP_CTRL_EN);
}

/* a disable hook: the shutdown after drm_dev_unplug() must still run it, never guarded */
static void plugdisp_pipe_disable(struct drm_simple_display_pipe *pipe)
{
	struct plugdisp_device *pd = to_plugdisp(pipe->crtc.dev);

	// ok: unguarded-hw-access
	regmap_update_bits(pd->regmap, PLUGDISP_CTRL, PLUGDISP_CTRL_EN, 0);
	gpiod_set_value_cansleep(pd->reset, 1);
}

static void plugdisp_pipe_update(struct drm_simple_display_pipe *pipe,
				 struct drm_plane_state *old_state)
{
	struct plugdisp_device *pd = to_plugdisp(pipe->crtc.dev);
	struct drm_plane_state *state = pipe->plane.state;

	if (!state->fb)
		return;
	// expect: unguarded-hw-access
	regmap_write(pd->regmap, PLUGDISP_ADDR, state->src_x);
}

static const struct drm_simple_display_pipe_funcs plugdisp_pipe_funcs = {
	.enable = plugdisp_pipe_enable,
	.disable = plugdisp_pipe_disable,
	.update = plugdisp_pipe_update,
};

static int plugdisp_hpd(struct plugdisp_device *pd)
{
	unsigned int val;
	int ret;

	ret = regmap_read(pd->regmap, PLUGDISP_HPD, &val);
	return ret ? ret : !!val;
}

static enum drm_connector_status plugdisp_detect(struct drm_connector *connector, bool force)
{
	struct plugdisp_device *pd = to_plugdisp(connector->dev);

	// expect: unguarded-hw-access
	if (plugdisp_hpd(pd) > 0)
		return connector_status_connected;
	return connector_status_disconnected;
}

/* returns what a register read gives: the driver's whole guard set is refused */
static int plugdisp_get_modes(struct drm_connector *connector)
{
	struct plugdisp_device *pd = to_plugdisp(connector->dev);

	// expect: unguarded-hw-access
	return plugdisp_hpd(pd) > 0 ? drm_add_modes_noedid(connector, 800, 480) : 0;
}

static const struct drm_connector_funcs plugdisp_connector_funcs = {
	.detect = plugdisp_detect,
	.fill_modes = drm_helper_probe_single_connector_modes,
};

static const struct drm_connector_helper_funcs plugdisp_connector_helper_funcs = {
	.get_modes = plugdisp_get_modes,
};

static const struct drm_driver plugdisp_driver = {
	.name = "plugdisp",
	.desc = "corpus driver behind a regmap",
};

static int plugdisp_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct plugdisp_device *pd;
	void __iomem *base;
	int ret;

	pd = devm_drm_dev_alloc(dev, &plugdisp_driver, struct plugdisp_device, drm);
	if (IS_ERR(pd))
		return PTR_ERR(pd);

	base = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(base))
		return PTR_ERR(base);
	pd->regmap = devm_regmap_init_mmio(dev, base, &plugdisp_regmap_config);
	if (IS_ERR(pd->regmap))
		return PTR_ERR(pd->regmap);
	pd->reset = devm_gpiod_get(dev, "reset", GPIOD_OUT_LOW);
	if (IS_ERR(pd->reset))
		return PTR_ERR(pd->reset);

	ret = drmm_mode_config_init(&pd->drm);
	if (ret)
		return ret;
	ret = drmm_connector_init(&pd->drm, &pd->connector, &plugdisp_connector_funcs,
				  DRM_MODE_CONNECTOR_DPI, NULL);
	if (ret)
		return ret;
	drm_connector_helper_add(&pd->connector, &plugdisp_connector_helper_funcs);
	ret = drm_simple_display_pipe_init(&pd->drm, &pd->pipe, &plugdisp_pipe_funcs,
					   plugdisp_formats, ARRAY_SIZE(plugdisp_formats),
					   NULL, &pd->connector);
	if (ret)
		return ret;

	platform_set_drvdata(pdev, pd);
	return drm_dev_register(&pd->drm, 0);
}

/* no drm_atomic_helper_shutdown(): the disable paths must stay unguarded */
static void plugdisp_remove(struct platform_device *pdev)
{
	struct plugdisp_device *pd = platform_get_drvdata(pdev);

	// expect: unregister-without-unplug
	drm_dev_unregister(&pd->drm);
}

static struct platform_driver plugdisp_platform_driver = {
	.probe = plugdisp_probe,
	.remove = plugdisp_remove,
	.driver = {
		.name = "plugdisp",
	},
};
module_platform_driver(plugdisp_platform_driver);
