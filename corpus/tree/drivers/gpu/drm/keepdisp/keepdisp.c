// SPDX-License-Identifier: GPL-2.0-only
/*
 * keepdisp: each finding here needs a person.  The CRTC's .destroy hook does
 * more than drm_crtc_cleanup() (drmm_ inits forbid the hook, so it must stay
 * and no patch is made), the encoder is allocated before the drm device
 * exists, a lock is set up in a function that returns void, and an encoder
 * shares its funcs table (and so its .destroy) with the early encoder.
 */
#include <linux/err.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_encoder.h>
#include <drm/drm_mode_config.h>

struct keepdisp_crtc {
	struct drm_crtc base;
	void *vblank_buf;
};

struct keepdisp_encoder {
	struct drm_encoder base;
	int lanes;
};

struct keepdisp_aux {
	struct drm_encoder base;
};

struct keepdisp {
	struct drm_device drm;
	struct keepdisp_crtc *crtc;
	struct keepdisp_encoder *encoder;
	struct keepdisp_aux *aux;
	struct mutex irq_lock;
};

static void keepdisp_crtc_destroy(struct drm_crtc *crtc)
{
	struct keepdisp_crtc *kcrtc = container_of(crtc, struct keepdisp_crtc, base);

	drm_crtc_cleanup(crtc);
	kfree(kcrtc->vblank_buf);
}

static const struct drm_crtc_funcs keepdisp_crtc_funcs = {
	.destroy = keepdisp_crtc_destroy,
};

static const struct drm_encoder_funcs keepdisp_encoder_funcs = {
	.destroy = drm_encoder_cleanup,
};

static const struct drm_driver keepdisp_driver = {
	.name = "keepdisp",
};

static void keepdisp_irq_setup(struct keepdisp *kd)
{
	// expect: unmanaged-mutex
	mutex_init(&kd->irq_lock);
}

static int keepdisp_crtc_create(struct keepdisp *kd)
{
	struct keepdisp_crtc *kcrtc;

	// expect: devm-mode-object
	kcrtc = devm_kzalloc(kd->drm.dev, sizeof(*kcrtc), GFP_KERNEL);
	if (!kcrtc)
		return -ENOMEM;
	kcrtc->vblank_buf = kzalloc(64, GFP_KERNEL);
	kd->crtc = kcrtc;
	return drm_crtc_init_with_planes(&kd->drm, &kcrtc->base, NULL, NULL,
					 &keepdisp_crtc_funcs, NULL);
}

static int keepdisp_aux_create(struct keepdisp *kd)
{
	struct keepdisp_aux *aux;

	// expect: devm-mode-object
	aux = devm_kzalloc(kd->drm.dev, sizeof(*aux), GFP_KERNEL);
	if (!aux)
		return -ENOMEM;
	kd->aux = aux;
	return drm_encoder_init(&kd->drm, &aux->base, &keepdisp_encoder_funcs,
				DRM_MODE_ENCODER_DSI, NULL);
}

static int keepdisp_probe(struct platform_device *pdev)
{
	struct keepdisp_encoder *enc;
	struct keepdisp *kd;
	int ret;

	/* the encoder is set up before the drm device exists */
	// expect: devm-mode-object
	enc = devm_kzalloc(&pdev->dev, sizeof(*enc), GFP_KERNEL);
	if (!enc)
		return -ENOMEM;
	enc->lanes = 2;

	kd = devm_drm_dev_alloc(&pdev->dev, &keepdisp_driver, struct keepdisp, drm);
	if (IS_ERR(kd))
		return PTR_ERR(kd);
	kd->encoder = enc;

	/* the wrapper of drmm_mode_config_init(): the name is no finding */
	// ok: unmanaged-mode-config
	ret = drm_mode_config_init(&kd->drm);
	if (ret)
		return ret;
	keepdisp_irq_setup(kd);
	ret = keepdisp_crtc_create(kd);
	if (ret)
		goto err_mode;
	ret = drm_encoder_init(&kd->drm, &enc->base, &keepdisp_encoder_funcs,
			       DRM_MODE_ENCODER_DSI, NULL);
	if (ret)
		goto err_mode;
	ret = keepdisp_aux_create(kd);
	if (ret)
		goto err_mode;
	return drm_dev_register(&kd->drm, 0);

err_mode:
	/* must stay while the CRTC is devm_: no patch, the reason names the CRTC */
	// expect: unmanaged-mode-config
	drm_mode_config_cleanup(&kd->drm);
	return ret;
}
