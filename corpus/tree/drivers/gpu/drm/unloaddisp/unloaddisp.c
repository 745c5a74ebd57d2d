// SPDX-License-Identifier: GPL-2.0-only
/*
 * unloaddisp: all its mode objects come from drmm_ allocators (no .destroy
 * hook), and its unload helper, run at remove and when registering fails, still
 * calls drm_mode_config_cleanup(), which calls the missing .destroy hooks.  The
 * patch drops that call and nothing else.
 */
#include <linux/err.h>
#include <linux/platform_device.h>
#include <drm/drm_crtc.h>
#include <drm/drm_drv.h>
#include <drm/drm_encoder.h>
#include <drm/drm_mode_config.h>
#include <drm/drm_plane.h>

struct unloaddisp_crtc {
	struct drm_crtc base;
	int pipe;
};

struct unloaddisp_plane {
	struct drm_plane base;
};

struct unloaddisp_output {
	struct drm_encoder encoder;
};

struct unloaddisp {
	struct drm_device drm;
	struct unloaddisp_plane *primary;
};

static const struct drm_crtc_funcs unloaddisp_crtc_funcs = {
	.reset = NULL,
};

static const struct drm_plane_funcs unloaddisp_plane_funcs = {
	.update_plane = NULL,
};

static const struct drm_driver unloaddisp_driver = {
	.name = "unloaddisp",
};

static const u32 unloaddisp_formats[] = { 0x34325258 };

static int unloaddisp_modeset_init(struct unloaddisp *ud)
{
	struct drm_device *drm = &ud->drm;
	struct unloaddisp_crtc *crtc;
	struct unloaddisp_output *out;

	// ok: unmanaged-mode-config
	drm_mode_config_init(drm);

	ud->primary = drmm_universal_plane_alloc(drm, struct unloaddisp_plane, base, 0,
						 &unloaddisp_plane_funcs, unloaddisp_formats, 1,
						 NULL, DRM_PLANE_TYPE_PRIMARY, NULL);
	if (IS_ERR(ud->primary))
		return PTR_ERR(ud->primary);
	crtc = drmm_crtc_alloc_with_planes(drm, struct unloaddisp_crtc, base, &ud->primary->base,
					   NULL, &unloaddisp_crtc_funcs, NULL);
	if (IS_ERR(crtc))
		return PTR_ERR(crtc);
	out = drmm_encoder_alloc(drm, struct unloaddisp_output, encoder, NULL,
				 DRM_MODE_ENCODER_NONE, NULL);
	return PTR_ERR_OR_ZERO(out);
}

static void unloaddisp_unload(struct drm_device *drm)
{
	drm_atomic_helper_shutdown(drm);
	// expect: unmanaged-mode-config
	drm_mode_config_cleanup(drm);
}

static int unloaddisp_probe(struct platform_device *pdev)
{
	struct unloaddisp *ud;
	int ret;

	ud = devm_drm_dev_alloc(&pdev->dev, &unloaddisp_driver, struct unloaddisp, drm);
	if (IS_ERR(ud))
		return PTR_ERR(ud);
	ret = unloaddisp_modeset_init(ud);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, ud);
	ret = drm_dev_register(&ud->drm, 0);
	if (ret)
		goto err_unload;
	return 0;

err_unload:
	unloaddisp_unload(&ud->drm);
	return ret;
}

static void unloaddisp_remove(struct platform_device *pdev)
{
	struct unloaddisp *ud = platform_get_drvdata(pdev);

	drm_dev_unregister(&ud->drm);
	unloaddisp_unload(&ud->drm);
}
