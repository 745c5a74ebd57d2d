// SPDX-License-Identifier: GPL-2.0-only
/*
 * kzhook: kzalloc'd mode objects in a driver whose mode config is managed (no manual
 * drm_mode_config_cleanup()), so each object converts on its own.  A CRTC whose primary
 * plane is only created after the CRTC's allocation (its init stays where it is: the
 * memory becomes drmm_kzalloc() memory and the init drmm_crtc_init_with_planes()), a
 * connector whose hook also unregisters it (a no-op by the time a managed cleanup runs)
 * and whose error path frees it through its first member (kfree(connector)),
 * and an encoder whose hook also puts a phy (that stays, as a drmm_ release action).
 */
#include <linux/container_of.h>
#include <linux/err.h>
#include <linux/platform_device.h>
#include <linux/slab.h>
#include <drm/drm_connector.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_encoder.h>
#include <drm/drm_mode_config.h>
#include <drm/drm_plane.h>

struct kzhook_crtc {
	struct drm_crtc base;
	int pipe;
};

struct kzhook_encoder {
	struct drm_encoder base;
	void *phy;
};

struct kzhook_connector {
	struct drm_connector base;
};

struct kzhook_device {
	struct drm_device drm;
	struct drm_plane primary;
};

static const u32 kzhook_formats[] = { 0x34325258 };

static const struct drm_plane_funcs kzhook_plane_funcs = {
	.destroy = drm_plane_cleanup,
};

static void kzhook_crtc_destroy(struct drm_crtc *crtc)
{
	struct kzhook_crtc *kc = container_of(crtc, struct kzhook_crtc, base);

	if (!crtc)
		return;
	drm_crtc_cleanup(crtc);
	kfree(kc);
}

static const struct drm_crtc_funcs kzhook_crtc_funcs = {
	.reset = NULL,
	.destroy = kzhook_crtc_destroy,
};

static void kzhook_connector_destroy(struct drm_connector *connector)
{
	drm_connector_unregister(connector);
	drm_connector_cleanup(connector);
	kfree(connector);
}

static const struct drm_connector_funcs kzhook_connector_funcs = {
	.reset = NULL,
	.destroy = kzhook_connector_destroy,
};

void kzhook_phy_put(void *phy);

static void kzhook_encoder_destroy(struct drm_encoder *encoder)
{
	struct kzhook_encoder *ke = container_of(encoder, struct kzhook_encoder, base);

	kzhook_phy_put(ke->phy);
	drm_encoder_cleanup(encoder);
	kfree(ke);
}

static const struct drm_encoder_funcs kzhook_encoder_funcs = {
	.reset = NULL,
	.destroy = kzhook_encoder_destroy,
};

static int kzhook_crtc_create(struct kzhook_device *kh)
{
	struct kzhook_crtc *kc;
	struct drm_plane *primary;
	int ret;

	kc = kzalloc(sizeof(*kc), GFP_KERNEL);
	if (!kc)
		return -ENOMEM;

	primary = &kh->primary;
	ret = drm_universal_plane_init(&kh->drm, primary, 1, &kzhook_plane_funcs, kzhook_formats, 1,
				       NULL, DRM_PLANE_TYPE_PRIMARY, NULL);
	if (ret)
		goto err_free;

	// expect: unmanaged-mode-object
	ret = drm_crtc_init_with_planes(&kh->drm, &kc->base, primary, NULL, &kzhook_crtc_funcs, NULL);
	if (ret)
		goto err_free;
	kc->pipe = 0;
	return 0;

err_free:
	kfree(kc);
	return ret;
}

static int kzhook_outputs_create(struct kzhook_device *kh)
{
	struct kzhook_connector *kconn;
	struct drm_connector *connector;
	struct kzhook_encoder *ke;
	int ret;

	ke = kzalloc(sizeof(*ke), GFP_KERNEL);
	if (!ke)
		return -ENOMEM;
	// expect: unmanaged-mode-object
	ret = drm_encoder_init(&kh->drm, &ke->base, &kzhook_encoder_funcs, DRM_MODE_ENCODER_TMDS, NULL);
	if (ret) {
		kfree(ke);
		return ret;
	}

	kconn = kzalloc(sizeof(*kconn), GFP_KERNEL);
	if (!kconn)
		return -ENOMEM;
	connector = &kconn->base;
	// expect: unmanaged-mode-object
	ret = drm_connector_init(&kh->drm, connector, &kzhook_connector_funcs,
				 DRM_MODE_CONNECTOR_HDMIA);
	if (ret) {
		kfree(connector);
		return ret;
	}
	return drm_connector_attach_encoder(connector, &ke->base);
}

static const struct drm_driver kzhook_driver = {
	.name = "kzhook",
};

static int kzhook_probe(struct platform_device *pdev)
{
	struct kzhook_device *kh;
	int ret;

	kh = devm_drm_dev_alloc(&pdev->dev, &kzhook_driver, struct kzhook_device, drm);
	if (IS_ERR(kh))
		return PTR_ERR(kh);
	ret = drmm_mode_config_init(&kh->drm);
	if (ret)
		return ret;
	ret = kzhook_crtc_create(kh);
	if (ret)
		return ret;
	ret = kzhook_outputs_create(kh);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, kh);
	return drm_dev_register(&kh->drm, 0);
}

static void kzhook_remove(struct platform_device *pdev)
{
	struct kzhook_device *kh = platform_get_drvdata(pdev);

	drm_dev_unplug(&kh->drm);
}

static struct platform_driver kzhook_platform_driver = {
	.probe = kzhook_probe,
	.remove = kzhook_remove,
	.driver = { .name = "kzhook" },
};
module_platform_driver(kzhook_platform_driver);
