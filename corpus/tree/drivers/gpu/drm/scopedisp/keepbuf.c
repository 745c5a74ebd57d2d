// SPDX-License-Identifier: GPL-2.0-only
/*
 * keepbuf: devm_ memory that stays devm_ because device lifetime is right for it, and a
 * lock set whose members are converted together.
 *
 * - the compression scratch is used only three calls below a flush worker that runs
 *   inside drm_dev_enter() (the driver unplugs on removal);
 * - the line buffer is used by a guarded enable and by the disable hook, which after the
 *   unplug runs only from drm_atomic_helper_shutdown() on the removal path;
 * - the pixel engine holds nothing but a clock, its device and pointers to the other
 *   hardware units, which are devm_ themselves;
 * - the sensor block is the data of a devm_ sensor registration, whose callbacks are its
 *   only users and stop at unbind;
 * - the register window is an __iomem mapping with its size and a back-pointer: every
 *   access through it must be guarded anyway;
 * - the two locks of the device (one in a nested struct) have no destroy: the
 *   mutex_destroy() of the VM's lock, a member of the same name in another struct, is
 *   not theirs.
 */
#include <linux/clk.h>
#include <linux/container_of.h>
#include <linux/err.h>
#include <linux/io.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_drv.h>
#include <drm/drm_managed.h>
#include <drm/drm_simple_kms_helper.h>

#define KEEPBUF_DATA	0x20

struct keepbuf_unit {
	void __iomem *regs;
	int id;
};

struct keepbuf_pe {
	struct device *dev;
	struct clk *clk;
	struct keepbuf_unit *units[2];
};

struct keepbuf_sensor {
	const char *label;
	u32 last_temp;
	u32 limit;
};

struct keepbuf_device;

struct keepbuf_window {
	void __iomem *regs;
	struct keepbuf_device *kb;
	u32 size;
};

struct keepbuf_vm {
	struct mutex mutex;
	u64 base;
};

struct keepbuf_device {
	struct drm_device drm;
	void __iomem *mmio;
	u8 *scratch;
	u8 *line;
	struct keepbuf_pe *pe;
	struct keepbuf_sensor *sensor;
	struct keepbuf_window *window;
	struct mutex ring_lock;
	struct {
		struct mutex mutex;
		u32 objects;
	} gem;
	struct drm_simple_display_pipe pipe;
};

static void keepbuf_pack(struct keepbuf_device *kb, u8 *dst)
{
	dst[0] = kb->scratch[0];
}

static void keepbuf_prep(struct keepbuf_device *kb, u8 *dst)
{
	keepbuf_pack(kb, dst);
}

static void keepbuf_send(struct keepbuf_device *kb)
{
	u8 frame[4];

	keepbuf_prep(kb, frame);
	writel(frame[0], kb->mmio + KEEPBUF_DATA);
}

static void keepbuf_flush_work(struct keepbuf_device *kb)
{
	int idx;

	if (!drm_dev_enter(&kb->drm, &idx))
		return;
	keepbuf_send(kb);
	drm_dev_exit(idx);
}

static void keepbuf_pipe_enable(struct drm_simple_display_pipe *pipe,
				struct drm_crtc_state *crtc_state,
				struct drm_plane_state *plane_state)
{
	struct keepbuf_device *kb = container_of(pipe, struct keepbuf_device, pipe);
	int idx;

	if (!drm_dev_enter(pipe->crtc.dev, &idx))
		return;
	writel(kb->line[0], kb->mmio + KEEPBUF_DATA);
	drm_dev_exit(idx);
}

static void keepbuf_pipe_disable(struct drm_simple_display_pipe *pipe)
{
	struct keepbuf_device *kb = container_of(pipe, struct keepbuf_device, pipe);

	kb->line[0] = 0;
	keepbuf_flush_work(kb);
}

static const struct drm_simple_display_pipe_funcs keepbuf_pipe_funcs = {
	.enable = keepbuf_pipe_enable,
	.disable = keepbuf_pipe_disable,
};

static int keepbuf_sensor_read(struct device *dev, long *val)
{
	struct keepbuf_sensor *s = dev_get_drvdata(dev);

	*val = s->last_temp;
	return 0;
}

static void keepbuf_vm_fini(struct keepbuf_vm *vm)
{
	mutex_destroy(&vm->mutex);
	kfree(vm);
}

static const struct drm_driver keepbuf_driver = {
	.name = "keepbuf",
	.desc = "corpus driver whose devm_ memory is right as it is",
};

static int keepbuf_probe(struct platform_device *pdev)
{
	struct keepbuf_device *kb;
	struct keepbuf_sensor *sensor;
	struct keepbuf_pe *pe;
	int i;

	kb = devm_drm_dev_alloc(&pdev->dev, &keepbuf_driver, struct keepbuf_device, drm);
	if (IS_ERR(kb))
		return PTR_ERR(kb);
	kb->mmio = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(kb->mmio))
		return PTR_ERR(kb->mmio);

	// expect: unmanaged-mutex
	mutex_init(&kb->ring_lock);
	// expect: unmanaged-mutex
	mutex_init(&kb->gem.mutex);

	// ok: devm-drm-memory
	kb->scratch = devm_kzalloc(&pdev->dev, 256, GFP_KERNEL);
	if (!kb->scratch)
		return -ENOMEM;
	// ok: devm-drm-memory
	kb->line = devm_kzalloc(&pdev->dev, 64, GFP_KERNEL);
	if (!kb->line)
		return -ENOMEM;

	// ok: devm-drm-memory
	pe = devm_kzalloc(&pdev->dev, sizeof(*pe), GFP_KERNEL);
	if (!pe)
		return -ENOMEM;
	pe->dev = &pdev->dev;
	pe->clk = devm_clk_get(&pdev->dev, "pe");
	if (IS_ERR(pe->clk))
		return PTR_ERR(pe->clk);
	for (i = 0; i < 2; i++) {
		struct keepbuf_unit *unit;

		unit = devm_kzalloc(&pdev->dev, sizeof(*unit), GFP_KERNEL);
		if (!unit)
			return -ENOMEM;
		unit->id = i;
		pe->units[i] = unit;
	}
	kb->pe = pe;

	// ok: devm-drm-memory
	sensor = devm_kzalloc(&pdev->dev, sizeof(*sensor), GFP_KERNEL);
	if (!sensor)
		return -ENOMEM;
	kb->sensor = sensor;
	devm_keepbuf_sensor_register(&pdev->dev, "keepbuf", sensor, keepbuf_sensor_read);

	// ok: devm-drm-memory
	kb->window = devm_kzalloc(&pdev->dev, sizeof(*kb->window), GFP_KERNEL);
	if (!kb->window)
		return -ENOMEM;
	kb->window->regs = kb->mmio;
	kb->window->kb = kb;

	platform_set_drvdata(pdev, kb);
	return drm_dev_register(&kb->drm, 0);
}

static void keepbuf_remove(struct platform_device *pdev)
{
	struct keepbuf_device *kb = platform_get_drvdata(pdev);

	drm_dev_unplug(&kb->drm);
	drm_atomic_helper_shutdown(&kb->drm);
}

static struct platform_driver keepbuf_platform_driver = {
	.probe = keepbuf_probe,
	.remove = keepbuf_remove,
	.driver = {
		.name = "keepbuf",
	},
};
module_platform_driver(keepbuf_platform_driver);
