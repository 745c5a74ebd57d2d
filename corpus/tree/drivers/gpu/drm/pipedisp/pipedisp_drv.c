// SPDX-License-Identifier: GPL-2.0-only
/* pipedisp: devm_ actions that reach into the drm device, and an IRQ context that is fine. */
#include <linux/interrupt.h>
#include <linux/slab.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_mode_config.h>
#include "pipedisp.h"

static const struct drm_driver pipedisp_driver = {
	.name = "pipedisp",
	.desc = "simple pipe corpus driver",
};

static irqreturn_t pipedisp_irq_handler(int irq, void *arg)
{
	struct pipedisp_irq_ctx *ctx = arg;

	drm_crtc_handle_vblank(ctx->crtc);
	return IRQ_HANDLED;
}

static void pipedisp_shutdown(void *data)
{
	struct drm_device *drm = data;

	drm_atomic_helper_shutdown(drm);
}

static void pipedisp_free_cache(void *data)
{
	struct pipedisp_device *pdd = data;

	kfree(pdd->state_cache);
	pdd->state_cache = NULL;
}

static int pipedisp_probe(struct platform_device *pdev)
{
	struct device *dev = &pdev->dev;
	struct pipedisp_device *pdd;
	struct pipedisp_irq_ctx *ctx;
	int ret;

	pdd = devm_drm_dev_alloc(dev, &pipedisp_driver, struct pipedisp_device, drm);
	if (IS_ERR(pdd))
		return PTR_ERR(pdd);

	pdd->mmio = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(pdd->mmio))
		return PTR_ERR(pdd->mmio);

	// ok: unmanaged-mode-config
	ret = drmm_mode_config_init(&pdd->drm);
	if (ret)
		return ret;

	ret = pipedisp_outputs_create(pdd, dev);
	if (ret)
		return ret;

	pdd->state_cache = kcalloc(16, sizeof(u32), GFP_KERNEL);
	if (!pdd->state_cache)
		return -ENOMEM;
	/* frees drm-lifetime memory at unbind, while userspace may still use it */
	// expect: devm-action-on-drm
	ret = devm_add_action_or_reset(dev, pipedisp_free_cache, pdd);
	if (ret)
		return ret;

	/* an IRQ context that only points at the CRTC: dies with the IRQ */
	// ok: devm-mode-object
	ctx = devm_kzalloc(dev, sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->crtc = &pdd->out->pipe.crtc;
	ctx->regs = pdd->mmio;
	ctx->irq = platform_get_irq(pdev, 0);
	ret = devm_request_irq(dev, ctx->irq, pipedisp_irq_handler, 0, "pipedisp", ctx);
	if (ret)
		return ret;

	ret = drm_dev_register(&pdd->drm, 0);
	if (ret)
		return ret;

	/* quiescing the hardware belongs at unbind: not a drm-lifetime teardown */
	// ok: devm-action-on-drm
	return devm_add_action(dev, pipedisp_shutdown, &pdd->drm);
}
