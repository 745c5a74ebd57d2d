// SPDX-License-Identifier: GPL-2.0-only
/*
 * handobj: mode objects whose lifetime the driver manages by hand.  An encoder
 * in kzalloc() memory freed by its own .destroy hook, an overlay plane freed
 * at unbind; a CRTC and a connector embedded in the drm device with unmanaged
 * inits whose .destroy only cleans up (low: the drmm_ inits say so by
 * construction); next to objects that are right: a connector in drmm_ memory
 * (reached through a pointer, not embedded), a drmm_ encoder.
 */
#include <linux/container_of.h>
#include <linux/err.h>
#include <linux/slab.h>
#include <drm/drm_managed.h>

#include "handobj.h"

static const u32 handobj_formats[] = { 0x34325258 };

/* The encoder frees itself: it runs whenever the mode config is cleaned up. */
static void handobj_encoder_destroy(struct drm_encoder *encoder)
{
	struct handobj_encoder *henc = container_of(encoder, struct handobj_encoder, base);

	drm_encoder_cleanup(encoder);
	kfree(henc);
}

static const struct drm_encoder_funcs handobj_encoder_funcs = {
	.destroy = handobj_encoder_destroy,
};

static const struct drm_encoder_funcs handobj_aux_encoder_funcs = {
	.reset = NULL,
};

static const struct drm_plane_funcs handobj_overlay_funcs = {
	.destroy = drm_plane_cleanup,
};

static const struct drm_crtc_funcs handobj_crtc_funcs = {
	.destroy = drm_crtc_cleanup,
};

static const struct drm_connector_funcs handobj_connector_funcs = {
	.destroy = drm_connector_cleanup,
};

/* only .destroy: drmm_encoder_init() takes NULL funcs, and the table goes */
static const struct drm_encoder_funcs handobj_tmds_funcs = {
	.destroy = drm_encoder_cleanup,
};

static struct drm_encoder *handobj_encoder_create(struct handobj_device *hdev, int port)
{
	struct handobj_encoder *henc;
	struct drm_encoder *encoder;
	int ret;

	henc = kzalloc(sizeof(*henc), GFP_KERNEL);
	if (!henc)
		return ERR_PTR(-ENOMEM);
	henc->port = port;
	encoder = &henc->base;

	// expect: unmanaged-mode-object
	ret = drm_encoder_init(&hdev->drm, encoder, &handobj_encoder_funcs,
			       DRM_MODE_ENCODER_TMDS, NULL);
	if (ret) {
		kfree(henc);
		return ERR_PTR(ret);
	}
	return encoder;
}

static int handobj_overlay_create(struct handobj_device *hdev)
{
	struct handobj_overlay *ov;
	int ret;

	ov = kzalloc(sizeof(*ov), GFP_KERNEL);
	if (!ov)
		return -ENOMEM;
	// expect: unmanaged-mode-object
	ret = drm_universal_plane_init(&hdev->drm, &ov->base, 1, &handobj_overlay_funcs,
				       handobj_formats, 1, NULL, DRM_PLANE_TYPE_OVERLAY, NULL);
	if (ret) {
		kfree(ov);
		return ret;
	}
	hdev->overlay = ov;
	return 0;
}

/*
 * Two cursor planes, each unwinding its own allocation: a kfree() in one init's error path
 * is not the removal freeing the other.
 */
static int handobj_cursor_create(struct handobj_device *hdev)
{
	struct handobj_cursor *cur;
	int ret;

	cur = kzalloc(sizeof(*cur), GFP_KERNEL);
	if (!cur)
		return -ENOMEM;
	// ok: unmanaged-mode-object
	ret = drm_universal_plane_init(&hdev->drm, &cur->base, 1, &handobj_overlay_funcs,
				       handobj_formats, 1, NULL, DRM_PLANE_TYPE_CURSOR, NULL);
	if (ret)
		kfree(cur);
	return ret;
}

static int handobj_spare_cursor_create(struct handobj_device *hdev)
{
	struct handobj_cursor *spare;
	int ret;

	spare = kzalloc(sizeof(*spare), GFP_KERNEL);
	if (!spare)
		return -ENOMEM;
	spare->size = 32;
	// ok: unmanaged-mode-object
	ret = drm_universal_plane_init(&hdev->drm, &spare->base, 1, &handobj_overlay_funcs,
				       handobj_formats, 1, NULL, DRM_PLANE_TYPE_CURSOR, NULL);
	if (ret)
		kfree(spare);
	return ret;
}

int handobj_kms_init(struct handobj_device *hdev)
{
	struct drm_device *drm = &hdev->drm;
	struct drm_encoder *encoder;
	struct drm_encoder *aux;
	int ret;

	// expect: unmanaged-mode-object
	ret = drm_crtc_init_with_planes(drm, &hdev->crtc, NULL, NULL, &handobj_crtc_funcs, NULL);
	if (ret)
		return ret;
	// expect: unmanaged-mode-object
	ret = drm_encoder_init(drm, &hdev->tmds, &handobj_tmds_funcs, DRM_MODE_ENCODER_TMDS, NULL);
	if (ret)
		return ret;
	// expect: unmanaged-mode-object
	ret = drm_connector_init(drm, &hdev->hdmi, &handobj_connector_funcs, DRM_MODE_CONNECTOR_HDMIA);
	if (ret)
		return ret;

	hdev->panel = drmm_kzalloc(drm, sizeof(*hdev->panel), GFP_KERNEL);
	if (!hdev->panel)
		return -ENOMEM;
	// ok: unmanaged-mode-object
	ret = drm_connector_init(drm, &hdev->panel->connector, &handobj_connector_funcs,
				 DRM_MODE_CONNECTOR_DPI);
	if (ret)
		return ret;

	aux = drmm_kzalloc(drm, sizeof(*aux), GFP_KERNEL);
	if (!aux)
		return -ENOMEM;
	// ok: unmanaged-mode-object
	ret = drmm_encoder_init(drm, aux, &handobj_aux_encoder_funcs, DRM_MODE_ENCODER_VIRTUAL, NULL);
	if (ret)
		return ret;

	encoder = handobj_encoder_create(hdev, 0);
	if (IS_ERR(encoder))
		return PTR_ERR(encoder);
	ret = handobj_cursor_create(hdev);
	if (!ret)
		ret = handobj_spare_cursor_create(hdev);
	if (ret)
		return ret;
	return handobj_overlay_create(hdev);
}

/* Called at unbind: the overlay goes although the drm device may still list it. */
void handobj_kms_fini(struct handobj_device *hdev)
{
	kfree(hdev->overlay);
	hdev->overlay = NULL;
}
