// SPDX-License-Identifier: GPL-2.0-only
/* bufdisp: devm_ memory kept in the drm private struct, next to devm_ memory that is fine. */
#include <linux/clk.h>
#include <linux/mutex.h>
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_mode_config.h>

#define BUFDISP_LUT_SIZE	256
#define BUFDISP_FB_SIZE		(320 * 240 * 2)
#define BUFDISP_CMD_LEN		16
#define BUFDISP_NUM_TILES	8

struct regulator;
struct reset_control;
struct gpio_desc;
struct regmap;
struct phy;

/* Hardware handles and plain scalars only: may die with the device. */
struct bufdisp_hw {
	void __iomem *regs;
	struct clk *clk;
	struct regulator *vdd;
	struct reset_control *rst;
	struct gpio_desc *enable_gpio;
	struct regmap *map;
	struct phy *phy;
	u32 flags;
	int irq;
};

struct bufdisp_mode {
	u16 hdisplay;
	u16 vdisplay;
	u32 clock;
};

struct bufdisp_panel {
	const struct bufdisp_mode *modes;
	unsigned int num_modes;
};

struct bufdisp_tiles {
	u32 *offsets;
	unsigned int count;
};

/* A probe-time helper, never reachable from the drm device. */
struct bufdisp_cmd_seq {
	struct mutex lock;
	unsigned int len;
};

struct bufdisp_device {
	struct drm_device drm;
	struct bufdisp_hw *hw;
	struct bufdisp_panel panel;	/* embedded */
	struct bufdisp_tiles *tiles;	/* reached through a pointer */
	u32 *lut;
	void *shadow;
	struct mutex fb_lock;
	/* power domains: attached at probe, detached by a devm action at unbind */
	int pd_count;
	struct device **pd_devs;
	struct device_link **pd_links;
	u32 *pd_state;	/* also read by a connector hook */
};

static const struct bufdisp_mode bufdisp_modes[] = {
	{ .hdisplay = 320, .vdisplay = 240, .clock = 6400 },
	{ .hdisplay = 240, .vdisplay = 320, .clock = 6400 },
};

static const struct drm_driver bufdisp_driver = {
	.name = "bufdisp",
};

static void bufdisp_write(struct bufdisp_hw *hw, const u8 *buf, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		hw->flags |= buf[i];
}

static int bufdisp_panel_on(struct bufdisp_device *bdev, struct device *dev)
{
	struct bufdisp_cmd_seq seq;
	u8 *cmd;

	/* only used during probe and freed before it returns */
	// ok: devm-drm-memory
	cmd = devm_kcalloc(dev, BUFDISP_CMD_LEN, sizeof(*cmd), GFP_KERNEL);
	if (!cmd)
		return -ENOMEM;
	cmd[0] = 0x11;
	cmd[1] = 0x29;

	// ok: unmanaged-mutex
	mutex_init(&seq.lock);
	seq.len = 2;
	mutex_lock(&seq.lock);
	bufdisp_write(bdev->hw, cmd, seq.len);
	mutex_unlock(&seq.lock);

	devm_kfree(dev, cmd);
	return 0;
}

static void bufdisp_detach_pd(void *res)
{
	struct bufdisp_device *bdev = res;
	int i;

	for (i = bdev->pd_count - 1; i >= 0; i--) {
		if (bdev->pd_links[i])
			device_link_del(bdev->pd_links[i]);
		if (!IS_ERR_OR_NULL(bdev->pd_devs[i]))
			dev_pm_domain_detach(bdev->pd_devs[i], true);
		bdev->pd_state[i] = 0;
	}
}

static int bufdisp_pd_modes(struct drm_connector *connector)
{
	struct bufdisp_device *bdev = container_of(connector->dev, struct bufdisp_device, drm);

	return bdev->pd_state[0] ? 1 : 0;
}

static const struct drm_connector_helper_funcs bufdisp_connector_helpers = {
	.get_modes = bufdisp_pd_modes,
};

/* only the probe and the devm action (also run on the probe's error path) use them */
static int bufdisp_attach_pd(struct bufdisp_device *bdev, struct device *dev)
{
	int i;

	bdev->pd_count = of_count_phandle_with_args(dev->of_node, "power-domains", "#power-domain-cells");
	if (bdev->pd_count <= 1)
		return 0;
	// ok: devm-drm-memory
	bdev->pd_devs = devm_kcalloc(dev, bdev->pd_count, sizeof(*bdev->pd_devs), GFP_KERNEL);
	if (!bdev->pd_devs)
		return -ENOMEM;
	// ok: devm-drm-memory
	bdev->pd_links = devm_kcalloc(dev, bdev->pd_count, sizeof(*bdev->pd_links), GFP_KERNEL);
	if (!bdev->pd_links)
		return -ENOMEM;
	/* read by the connector's .get_modes after unbind */
	// expect: devm-drm-memory
	bdev->pd_state = devm_kcalloc(dev, bdev->pd_count, sizeof(u32), GFP_KERNEL);
	if (!bdev->pd_state)
		return -ENOMEM;
	for (i = 0; i < bdev->pd_count; i++) {
		bdev->pd_devs[i] = dev_pm_domain_attach_by_id(dev, i);
		if (IS_ERR(bdev->pd_devs[i])) {
			if (PTR_ERR(bdev->pd_devs[i]) == -EPROBE_DEFER) {
				bufdisp_detach_pd(bdev);
				return -EPROBE_DEFER;
			}
			continue;
		}
		bdev->pd_links[i] = device_link_add(dev, bdev->pd_devs[i], DL_FLAG_STATELESS);
		bdev->pd_state[i] = 1;
	}
	return devm_add_action_or_reset(dev, bufdisp_detach_pd, bdev);
}

static int bufdisp_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct bufdisp_device *bdev;
	struct bufdisp_hw *hw;
	void *shadow;
	int ret;

	bdev = devm_drm_dev_alloc(dev, &bufdisp_driver, struct bufdisp_device, drm);
	if (IS_ERR(bdev))
		return PTR_ERR(bdev);

	// expect: unmanaged-mutex
	ret = devm_mutex_init(dev, &bdev->fb_lock);
	if (ret)
		return ret;

	// ok: devm-drm-memory
	hw = devm_kzalloc(dev, sizeof(*hw), GFP_KERNEL);
	if (!hw)
		return -ENOMEM;
	hw->regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(hw->regs))
		return PTR_ERR(hw->regs);
	hw->clk = devm_clk_get(dev, "pixel");
	if (IS_ERR(hw->clk))
		return PTR_ERR(hw->clk);
	hw->irq = platform_get_irq(pdev, 0);
	bdev->hw = hw;

	// expect: devm-drm-memory
	bdev->lut = devm_kcalloc(dev, BUFDISP_LUT_SIZE, sizeof(*bdev->lut), GFP_KERNEL);
	if (!bdev->lut)
		return -ENOMEM;

	// expect: devm-drm-memory
	shadow = devm_kzalloc(dev, BUFDISP_FB_SIZE, GFP_KERNEL);
	if (!shadow)
		return -ENOMEM;

	// expect: devm-drm-memory
	bdev->panel.modes = devm_kmemdup(dev, bufdisp_modes, sizeof(bufdisp_modes), GFP_KERNEL);
	if (!bdev->panel.modes)
		return -ENOMEM;
	bdev->panel.num_modes = ARRAY_SIZE(bufdisp_modes);

	// ok: devm-drm-memory
	bdev->tiles = drmm_kzalloc(&bdev->drm, sizeof(*bdev->tiles), GFP_KERNEL);
	if (!bdev->tiles)
		return -ENOMEM;
	// expect: devm-drm-memory
	bdev->tiles->offsets = devm_kmalloc_array(dev, BUFDISP_NUM_TILES, sizeof(u32), GFP_KERNEL);
	if (!bdev->tiles->offsets)
		return -ENOMEM;
	bdev->tiles->count = BUFDISP_NUM_TILES;

	/* the shadow buffer is handed over only now, far from its allocation */
	bdev->shadow = shadow;

	// ok: unmanaged-mode-config
	ret = drmm_mode_config_init(&bdev->drm);
	if (ret)
		return ret;

	ret = bufdisp_panel_on(bdev, dev);
	if (ret)
		return ret;

	ret = bufdisp_attach_pd(bdev, dev);
	if (ret)
		return ret;

	platform_set_drvdata(pdev, bdev);
	return drm_dev_register(&bdev->drm, 0);
}
