// SPDX-License-Identifier: GPL-2.0-only
/*
 * kzdisp: each object is kzalloc'd by the function that initialises it and freed by
 * its .destroy hook.  The shapes of real drivers: an init checked with a kfree() in
 * its error block, a goto ladder ending in a kfree(), an unchecked init, a connector
 * (no drmm_ allocator: drmm_kzalloc() and drmm_connector_init()).
 */
#include <linux/container_of.h>
#include <linux/err.h>
#include <linux/slab.h>
#include <drm/drm_connector.h>
#include <drm/drm_crtc.h>
#include <drm/drm_encoder.h>
#include <drm/drm_plane.h>

#include "kzdisp.h"

static const u32 kzdisp_formats[] = { 0x34325258 };

static void kzdisp_plane_destroy(struct drm_plane *plane)
{
	struct kzdisp_plane *kp = container_of(plane, struct kzdisp_plane, base);

	drm_plane_cleanup(plane);
	kfree(kp);
}

static const struct drm_plane_funcs kzdisp_plane_funcs = {
	.reset = NULL,
	.destroy = kzdisp_plane_destroy,
};

static void kzdisp_crtc_destroy(struct drm_crtc *crtc)
{
	struct kzdisp_crtc *kc = container_of(crtc, struct kzdisp_crtc, base);

	drm_crtc_cleanup(crtc);
	kfree(kc);
}

static const struct drm_crtc_funcs kzdisp_crtc_funcs = {
	.reset = NULL,
	.destroy = kzdisp_crtc_destroy,
};

static void kzdisp_encoder_destroy(struct drm_encoder *encoder)
{
	drm_encoder_cleanup(encoder);
	kfree(encoder);
}

static const struct drm_encoder_funcs kzdisp_encoder_funcs = {
	.reset = NULL,
	.destroy = kzdisp_encoder_destroy,
};

static void kzdisp_connector_destroy(struct drm_connector *connector)
{
	struct kzdisp_connector *kconn = container_of(connector, struct kzdisp_connector, base);

	drm_connector_cleanup(connector);
	kfree(kconn);
}

static const struct drm_connector_funcs kzdisp_connector_funcs = {
	.reset = NULL,
	.destroy = kzdisp_connector_destroy,
};

static struct kzdisp_plane *kzdisp_plane_create(struct kzdisp_device *kd, unsigned int hw_id)
{
	struct kzdisp_plane *kp;
	int ret;

	kp = kzalloc(sizeof(*kp), GFP_KERNEL);
	if (!kp)
		return ERR_PTR(-ENOMEM);

	kp->hw_id = hw_id;

	// expect: unmanaged-mode-object
	ret = drm_universal_plane_init(&kd->drm, &kp->base, 1, &kzdisp_plane_funcs,
				       kzdisp_formats, 1, NULL, DRM_PLANE_TYPE_PRIMARY, NULL);
	if (ret < 0)
		goto err;

	ret = drm_plane_create_zpos_property(&kp->base, hw_id, 0, 3);
	if (ret)
		goto err;

	return kp;

err:
	kfree(kp);
	return ERR_PTR(ret);
}

static struct kzdisp_crtc *kzdisp_crtc_create(struct kzdisp_device *kd, struct drm_plane *primary,
					      unsigned int port)
{
	struct kzdisp_crtc *kc;
	struct drm_crtc *crtc;
	int ret;

	kc = kzalloc_obj(*kc);
	if (!kc)
		return ERR_PTR(-ENOMEM);

	kc->port = port;
	crtc = &kc->base;

	// expect: unmanaged-mode-object
	ret = drm_crtc_init_with_planes(&kd->drm, crtc, primary, NULL, &kzdisp_crtc_funcs, NULL);
	if (ret < 0) {
		kfree(kc);
		return ERR_PTR(ret);
	}
	drm_crtc_helper_add(crtc, NULL);

	return kc;
}

static int kzdisp_encoder_create(struct kzdisp_device *kd)
{
	struct kzdisp_encoder *kenc;
	struct drm_encoder *encoder;

	kenc = kzalloc(sizeof(*kenc), GFP_KERNEL);
	if (!kenc)
		return -ENOMEM;

	encoder = &kenc->base;
	// expect: unmanaged-mode-object
	drm_encoder_init(&kd->drm, encoder, &kzdisp_encoder_funcs, DRM_MODE_ENCODER_TMDS, NULL);
	kenc->base.possible_crtcs = 1;
	kenc->lanes = 4;
	return 0;
}

static int kzdisp_connector_create(struct kzdisp_device *kd)
{
	struct kzdisp_connector *kconn;
	struct drm_connector *connector;
	int ret;

	kconn = kzalloc(sizeof(*kconn), GFP_KERNEL);
	if (!kconn)
		return -ENOMEM;

	connector = &kconn->base;
	// expect: unmanaged-mode-object
	ret = drm_connector_init(&kd->drm, connector, &kzdisp_connector_funcs,
				 DRM_MODE_CONNECTOR_HDMIA);
	if (ret) {
		kfree(kconn);
		return ret;
	}
	kconn->hotplug = true;
	return 0;
}

int kzdisp_kms_init(struct kzdisp_device *kd)
{
	struct kzdisp_plane *primary;
	struct kzdisp_crtc *kc;
	int ret;

	primary = kzdisp_plane_create(kd, 0);
	if (IS_ERR(primary))
		return PTR_ERR(primary);

	kc = kzdisp_crtc_create(kd, &primary->base, 0);
	if (IS_ERR(kc))
		return PTR_ERR(kc);
	kd->crtc = kc;

	ret = kzdisp_encoder_create(kd);
	if (ret)
		return ret;
	return kzdisp_connector_create(kd);
}
