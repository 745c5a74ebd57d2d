// SPDX-License-Identifier: GPL-2.0-only
/*
 * tearcomp output, a component: its encoder comes from devm_ memory of its own
 * device at probe.  That memory is freed only after component_del() has run the
 * master's unbind, which destroys the encoder first: no devm-mode-object finding;
 * unmanaged-mode-object (low) notes that the master's manual cleanup cannot go
 * while the encoder lives in devm_ memory.
 */
#include <linux/component.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <drm/drm_encoder.h>

struct tearcomp_out {
	struct drm_encoder encoder;
	int lanes;
};

static const struct drm_encoder_funcs tearcomp_out_funcs = {
	.destroy = drm_encoder_cleanup,
};

static int tearcomp_out_bind(struct device *dev, struct device *master, void *data)
{
	struct tearcomp_out *out = dev_get_drvdata(dev);
	struct drm_device *drm = data;

	/* safe while remove destroys it first, but it keeps the manual cleanup from going (low) */
	// expect: unmanaged-mode-object
	return drm_encoder_init(drm, &out->encoder, &tearcomp_out_funcs, DRM_MODE_ENCODER_DSI, NULL);
}

static const struct component_ops tearcomp_out_ops = {
	.bind = tearcomp_out_bind,
};

static int tearcomp_out_probe(struct platform_device *pdev)
{
	struct tearcomp_out *out;

	// ok: devm-mode-object
	out = devm_kzalloc(&pdev->dev, sizeof(*out), GFP_KERNEL);
	if (!out)
		return -ENOMEM;
	out->lanes = 4;
	platform_set_drvdata(pdev, out);
	return component_add(&pdev->dev, &tearcomp_out_ops);
}

static void tearcomp_out_remove(struct platform_device *pdev)
{
	component_del(&pdev->dev, &tearcomp_out_ops);
}

static struct platform_driver tearcomp_out_driver = {
	.probe = tearcomp_out_probe,
	.remove = tearcomp_out_remove,
	.driver = {
		.name = "tearcomp-out",
	},
};
module_platform_driver(tearcomp_out_driver);
