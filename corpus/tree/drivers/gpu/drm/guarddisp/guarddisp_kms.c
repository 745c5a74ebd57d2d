// SPDX-License-Identifier: GPL-2.0-only
/* guarddisp mode setting: callbacks that program the display engine's registers. */
#include <drm/drm_atomic.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_managed.h>
#include <drm/drm_probe_helper.h>
#include "guarddisp.h"

static const u32 guarddisp_formats[] = {
	0x34325258,	/* XR24 */
};

static u32 guarddisp_read(struct guarddisp_device *gd, unsigned int reg)
{
	return readl(gd->mmio + reg);
}

static int guarddisp_panel_timings(struct guarddisp_device *gd, u32 *timings)
{
	unsigned int i;

	for (i = 0; i < 4; i++)
		timings[i] = guarddisp_read(gd, GUARDDISP_TIMING(i));
	return timings[0] ? 4 : 0;
}

/*
 * the clock and vblank bookkeeping stays outside the guard, so that the unguarded
 * disable below never releases what was not taken: only the register writes are guarded
 */
static void guarddisp_crtc_atomic_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct guarddisp_device *gd = to_guarddisp(crtc->dev);
	struct drm_crtc_state *crtc_state = drm_atomic_get_new_crtc_state(state, crtc);
	u32 ctrl;

	if (!crtc_state->active)
		return;
	clk_prepare_enable(gd->pclk);
	// expect: unguarded-hw-access
	ctrl = readl(gd->mmio + GUARDDISP_CTRL);
	writel(ctrl | GUARDDISP_CTRL_EN, gd->mmio + GUARDDISP_CTRL);
	drm_crtc_vblank_on(crtc);
}

/* runs in the shutdown commit after drm_dev_unplug(): never guarded */
static void guarddisp_crtc_atomic_disable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct guarddisp_device *gd = to_guarddisp(crtc->dev);

	drm_crtc_vblank_off(crtc);
	// ok: unguarded-hw-access
	writel(0, gd->mmio + GUARDDISP_CTRL);
	clk_disable_unprepare(gd->pclk);
}

/* arms the pending event: when the device is gone the guard's failure path sends it */
static void guarddisp_crtc_atomic_flush(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct guarddisp_device *gd = to_guarddisp(crtc->dev);

	// expect: unguarded-hw-access
	writel(GUARDDISP_CTRL_EN, gd->mmio + GUARDDISP_FRAMES);
	if (crtc->state->event) {
		spin_lock_irq(&crtc->dev->event_lock);
		if (drm_crtc_vblank_get(crtc) == 0)
			drm_crtc_arm_vblank_event(crtc, crtc->state->event);
		else
			drm_crtc_send_vblank_event(crtc, crtc->state->event);
		spin_unlock_irq(&crtc->dev->event_lock);
		crtc->state->event = NULL;
	}
}

/* pure computation on a clock handle: never guarded */
static enum drm_mode_status guarddisp_crtc_mode_valid(struct drm_crtc *crtc,
						      const struct drm_display_mode *mode)
{
	struct guarddisp_device *gd = to_guarddisp(crtc->dev);
	long rate;

	// ok: unguarded-hw-access
	rate = clk_round_rate(gd->pclk, mode->clock * 1000);
	if (rate < 0)
		return MODE_CLOCK_RANGE;
	return MODE_OK;
}

static const struct drm_crtc_helper_funcs guarddisp_crtc_helper_funcs = {
	.atomic_enable = guarddisp_crtc_atomic_enable,
	.atomic_disable = guarddisp_crtc_atomic_disable,
	.atomic_flush = guarddisp_crtc_atomic_flush,
	.mode_valid = guarddisp_crtc_mode_valid,
};

/*
 * int callback with no blank line after its declarations, a comment on its first
 * statement, and an early return in the else arm of an unbraced if
 */
static int guarddisp_crtc_enable_vblank(struct drm_crtc *crtc)
{
	struct guarddisp_device *gd = to_guarddisp(crtc->dev);
	u32 status;
	/* the engine must be running and without error */
	// expect: unguarded-hw-access
	status = readl(gd->mmio + GUARDDISP_STATUS);
	if (!(status & GUARDDISP_STATUS_ERR))
		status |= GUARDDISP_CTRL_EN;
	else
		return -EBUSY;
	writel(status, gd->mmio + GUARDDISP_CTRL);
	return 0;
}

/* a release path: it must free unconditionally, after unplug too */
void guarddisp_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct guarddisp_device *gd = to_guarddisp(drm);

	// ok: unguarded-hw-access
	writel(0, gd->mmio + GUARDDISP_FRAMES);
	kfree(file->driver_priv);
}

static const struct drm_crtc_funcs guarddisp_crtc_funcs = {
	.set_config = drm_atomic_helper_set_config,
	.page_flip = drm_atomic_helper_page_flip,
	.enable_vblank = guarddisp_crtc_enable_vblank,
};

/* already guarded: nothing to change */
static void guarddisp_plane_atomic_update(struct drm_plane *plane, struct drm_atomic_state *state)
{
	struct guarddisp_device *gd = to_guarddisp(plane->dev);
	int idx;

	if (!drm_dev_enter(plane->dev, &idx))
		return;
	// ok: unguarded-hw-access
	writel(plane->state->src_x, gd->mmio + GUARDDISP_SCANOUT);
	drm_dev_exit(idx);
}

static const struct drm_plane_helper_funcs guarddisp_plane_helper_funcs = {
	.atomic_update = guarddisp_plane_atomic_update,
};

static const struct drm_plane_funcs guarddisp_plane_funcs = {
	.update_plane = drm_atomic_helper_update_plane,
	.disable_plane = drm_atomic_helper_disable_plane,
};

/* int callback that must return a mode count: reaches readl() through two static calls */
static int guarddisp_connector_get_modes(struct drm_connector *connector)
{
	struct guarddisp_device *gd = to_guarddisp(connector->dev);
	u32 timings[4];
	int count;

	// expect: unguarded-hw-access
	count = guarddisp_panel_timings(gd, timings);
	if (!count)
		return 0;
	return drm_add_modes_noedid(connector, timings[0], timings[1]);
}

static const struct drm_connector_helper_funcs guarddisp_connector_helper_funcs = {
	.get_modes = guarddisp_connector_get_modes,
};

static const struct drm_connector_funcs guarddisp_connector_funcs = {
	.fill_modes = drm_helper_probe_single_connector_modes,
};

/* an ioctl with a goto-based exit; its clock enable and disable are skipped together */
int guarddisp_status_ioctl(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct guarddisp_device *gd = to_guarddisp(drm);
	struct drm_guarddisp_status *args = data;
	int ret;

	ret = clk_prepare_enable(gd->pclk);
	if (ret)
		return ret;
	// expect: unguarded-hw-access
	args->status = readl(gd->mmio + GUARDDISP_STATUS);
	if (args->status & GUARDDISP_STATUS_ERR) {
		ret = -EIO;
		goto out_clk;
	}
	args->frames = readl(gd->mmio + GUARDDISP_FRAMES);
	ret = 0;
out_clk:
	clk_disable_unprepare(gd->pclk);
	return ret;
}

int guarddisp_kms_init(struct guarddisp_device *gd)
{
	struct drm_device *drm = &gd->drm;
	int ret;

	ret = drmm_universal_plane_init(drm, &gd->plane, 0, &guarddisp_plane_funcs,
					guarddisp_formats, ARRAY_SIZE(guarddisp_formats),
					NULL, DRM_PLANE_TYPE_PRIMARY, NULL);
	if (ret)
		return ret;
	drm_plane_helper_add(&gd->plane, &guarddisp_plane_helper_funcs);

	ret = drmm_crtc_init_with_planes(drm, &gd->crtc, &gd->plane, NULL,
					 &guarddisp_crtc_funcs, NULL);
	if (ret)
		return ret;
	drm_crtc_helper_add(&gd->crtc, &guarddisp_crtc_helper_funcs);

	ret = drmm_connector_init(drm, &gd->connector, &guarddisp_connector_funcs,
				  DRM_MODE_CONNECTOR_DPI, NULL);
	if (ret)
		return ret;
	drm_connector_helper_add(&gd->connector, &guarddisp_connector_helper_funcs);
	return 0;
}
