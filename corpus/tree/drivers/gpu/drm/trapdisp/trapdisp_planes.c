// SPDX-License-Identifier: GPL-2.0-only
/*
 * trapdisp planes: each plane comes from a helper with a different error
 * convention, which the switch to drmm_universal_plane_alloc() (it returns an
 * ERR_PTR, never NULL) must keep.
 */
#include <linux/err.h>
#include <linux/slab.h>
#include "trapdisp.h"

static const u32 trapdisp_formats[] = { 0x34325258 };

static const struct drm_plane_funcs trapdisp_plane_funcs = {
	.update_plane = NULL,
	.destroy = drm_plane_cleanup,
};

/* Returns an ERR_PTR on failure. */
struct trapdisp_primary *trapdisp_primary_create(struct drm_device *drm, u32 crtcs)
{
	struct trapdisp_primary *primary;
	int ret;

	// expect: devm-mode-object
	primary = devm_kzalloc(drm->dev, sizeof(*primary), GFP_KERNEL);
	if (!primary)
		return ERR_PTR(-ENOMEM);

	primary->zpos = 0;
	ret = drm_universal_plane_init(drm, &primary->base, crtcs,
				       &trapdisp_plane_funcs, trapdisp_formats,
				       1, NULL, DRM_PLANE_TYPE_PRIMARY, NULL);
	if (ret) {
		dev_err(drm->dev, "primary plane: %d\n", ret);
		return ERR_PTR(ret);
	}

	return primary;
}

/* Returns NULL on failure: callers check for NULL, so that stays. */
struct trapdisp_cursor *trapdisp_cursor_create(struct drm_device *drm)
{
	struct trapdisp_cursor *cursor;
	int err;

	// expect: devm-mode-object
	cursor = devm_kzalloc(drm->dev, sizeof(*cursor), GFP_KERNEL);
	if (!cursor)
		return NULL;

	err = drm_universal_plane_init(drm, &cursor->base, 1, &trapdisp_plane_funcs,
				       trapdisp_formats, 1, NULL,
				       DRM_PLANE_TYPE_CURSOR, "cursor");
	if (err)
		return NULL;

	cursor->max_width = 64;
	return cursor;
}

/* Unwinds with goto: the error code moves to PTR_ERR() on the same path. */
int trapdisp_overlay_create(struct trapdisp_device *tdev)
{
	struct drm_device *drm = &tdev->drm;
	struct trapdisp_overlay *overlay;
	int ret;

	ret = trapdisp_power_up(tdev);
	if (ret)
		return ret;

	// expect: devm-mode-object
	overlay = devm_kzalloc(drm->dev, sizeof(*overlay), GFP_KERNEL);
	if (!overlay) {
		ret = -ENOMEM;
		goto err_power;
	}

	overlay->window = tdev->mmio + 0x400;
	ret = drm_universal_plane_init(drm, &overlay->base, 1, &trapdisp_plane_funcs,
				       trapdisp_formats, 1, NULL,
				       DRM_PLANE_TYPE_OVERLAY, NULL);
	if (ret)
		goto err_power;

	return 0;

err_power:
	trapdisp_power_down(tdev);
	return ret;
}
