// SPDX-License-Identifier: GPL-2.0-only
/*
 * tearcomp LCD controller, a component: its CRTC and registers come from devm_
 * memory of its own device in bind, so its devres group.  Unbind destroys the
 * CRTC before that group is released, and the CRTC's hooks are then out of reach;
 * but when a later component's bind fails, the group is released while the CRTC
 * is still on the mode config's list.
 */
#include <linux/component.h>
#include <linux/container_of.h>
#include <linux/io.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <drm/drm_crtc.h>

#define TEARCOMP_LCD_CTRL	0x00

struct tearcomp_lcd {
	struct drm_crtc crtc;
	void __iomem *regs;
};

static void tearcomp_lcd_atomic_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct tearcomp_lcd *lcd = container_of(crtc, struct tearcomp_lcd, crtc);

	// ok: unguarded-hw-access
	writel(1, lcd->regs + TEARCOMP_LCD_CTRL);
}

static const struct drm_crtc_funcs tearcomp_lcd_crtc_funcs = {
	.destroy = drm_crtc_cleanup,
};

static const struct drm_crtc_helper_funcs tearcomp_lcd_helper_funcs = {
	.atomic_enable = tearcomp_lcd_atomic_enable,
};

static int tearcomp_lcd_bind(struct device *dev, struct device *master, void *data)
{
	struct platform_device *pdev = to_platform_device(dev);
	struct drm_device *drm = data;
	struct tearcomp_lcd *lcd;
	int ret;

	// expect: devm-mode-object
	lcd = devm_kzalloc(dev, sizeof(*lcd), GFP_KERNEL);
	if (!lcd)
		return -ENOMEM;
	lcd->regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(lcd->regs))
		return PTR_ERR(lcd->regs);
	ret = drm_crtc_init_with_planes(drm, &lcd->crtc, NULL, NULL, &tearcomp_lcd_crtc_funcs, NULL);
	if (ret)
		return ret;
	drm_crtc_helper_add(&lcd->crtc, &tearcomp_lcd_helper_funcs);
	return 0;
}

static const struct component_ops tearcomp_lcd_ops = {
	.bind = tearcomp_lcd_bind,
};

static int tearcomp_lcd_probe(struct platform_device *pdev)
{
	return component_add(&pdev->dev, &tearcomp_lcd_ops);
}

static void tearcomp_lcd_remove(struct platform_device *pdev)
{
	component_del(&pdev->dev, &tearcomp_lcd_ops);
}

static struct platform_driver tearcomp_lcd_driver = {
	.probe = tearcomp_lcd_probe,
	.remove = tearcomp_lcd_remove,
	.driver = {
		.name = "tearcomp-lcd",
	},
};
module_platform_driver(tearcomp_lcd_driver);
