// SPDX-License-Identifier: GPL-2.0-only
/* compdisp HDMI component: its encoder and connector live in the component's devm_ memory. */
#include <linux/clk.h>
#include <linux/component.h>
#include "compdisp.h"

static const struct drm_encoder_funcs compdisp_hdmi_encoder_funcs = {
	.destroy = drm_encoder_cleanup,
};

static const struct drm_connector_funcs compdisp_hdmi_connector_funcs = {
	.destroy = drm_connector_cleanup,
};

static int compdisp_hdmi_bind(struct device *dev, struct device *master, void *data)
{
	struct compdisp_hdmi *hdmi = dev_get_drvdata(dev);
	struct drm_device *drm = data;
	int ret;

	ret = drm_encoder_init(drm, &hdmi->encoder, &compdisp_hdmi_encoder_funcs,
			       DRM_MODE_ENCODER_TMDS, NULL);
	if (ret)
		return ret;
	hdmi->encoder.possible_crtcs = 1;

	ret = drm_connector_init(drm, &hdmi->connector, &compdisp_hdmi_connector_funcs,
				 DRM_MODE_CONNECTOR_HDMIA);
	if (ret)
		return ret;

	return drm_connector_attach_encoder(&hdmi->connector, &hdmi->encoder);
}

static void compdisp_hdmi_unbind(struct device *dev, struct device *master, void *data)
{
	/* the encoder and connector are cleaned up by their .destroy callbacks */
}

static const struct component_ops compdisp_hdmi_ops = {
	.bind = compdisp_hdmi_bind,
	.unbind = compdisp_hdmi_unbind,
};

static void compdisp_hdmi_clk_off(void *data)
{
	struct clk *clk = data;

	clk_disable_unprepare(clk);
}

static int compdisp_hdmi_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct compdisp_hdmi *hdmi;
	int ret;

	// expect: devm-mode-object
	hdmi = devm_kzalloc(dev, sizeof(*hdmi), GFP_KERNEL);
	if (!hdmi)
		return -ENOMEM;
	hdmi->dev = dev;

	hdmi->regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(hdmi->regs))
		return PTR_ERR(hdmi->regs);

	hdmi->clk = devm_clk_get(dev, "pixel");
	if (IS_ERR(hdmi->clk))
		return PTR_ERR(hdmi->clk);

	ret = clk_prepare_enable(hdmi->clk);
	if (ret)
		return ret;

	/* a hardware-only action: the clock dies with the device, as it should */
	// ok: devm-action-on-drm
	ret = devm_add_action_or_reset(dev, compdisp_hdmi_clk_off, hdmi->clk);
	if (ret)
		return ret;

	platform_set_drvdata(pdev, hdmi);
	return component_add(dev, &compdisp_hdmi_ops);
}

static void compdisp_hdmi_remove(struct platform_device *pdev)
{
	component_del(&pdev->dev, &compdisp_hdmi_ops);
}

struct platform_driver compdisp_hdmi_driver = {
	.probe = compdisp_hdmi_probe,
	.remove = compdisp_hdmi_remove,
	.name = "compdisp-hdmi",
};
