// SPDX-License-Identifier: GPL-2.0-only
/* splitcrtc CRTC: allocated in one function, initialised in another, reached via container_of. */
#include <drm/drm_crtc.h>
#include "splitcrtc.h"

static void splitcrtc_crtc_atomic_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct splitcrtc_crtc *scrtc = to_splitcrtc_crtc(crtc);
	unsigned int i;
	int idx;

	if (!drm_dev_enter(crtc->dev, &idx))
		return;

	mutex_lock(&scrtc->gamma_lock);
	for (i = 0; i < SPLITCRTC_LUT_SIZE; i++)
		scrtc->gamma[i] = i << 8;
	mutex_unlock(&scrtc->gamma_lock);

	drm_dev_exit(idx);
}

static const struct drm_crtc_helper_funcs splitcrtc_crtc_helper_funcs = {
	.atomic_enable = splitcrtc_crtc_atomic_enable,
};

static const struct drm_crtc_funcs splitcrtc_crtc_funcs = {
	.destroy = drm_crtc_cleanup,
};

struct splitcrtc_crtc *splitcrtc_crtc_alloc(struct device *dev, void __iomem *regs)
{
	// expect: devm-mode-object
	struct splitcrtc_crtc *scrtc = devm_kzalloc(dev, sizeof(*scrtc), GFP_KERNEL);

	if (!scrtc)
		return NULL;

	scrtc->regs = regs;
	/* used only inside drm_dev_enter() in a driver that unplugs: devm_ is right */
	// ok: devm-drm-memory
	scrtc->gamma = devm_kcalloc(dev, SPLITCRTC_LUT_SIZE, sizeof(*scrtc->gamma), GFP_KERNEL);
	if (!scrtc->gamma)
		return NULL;

	/* nothing ever destroys this lock */
	// expect: unmanaged-mutex
	mutex_init(&scrtc->gamma_lock);
	return scrtc;
}

int splitcrtc_crtc_init(struct splitcrtc_device *sdev, struct splitcrtc_crtc *scrtc)
{
	int ret;

	ret = drm_crtc_init_with_planes(&sdev->drm, &scrtc->base, &sdev->planes[0].base, NULL,
					&splitcrtc_crtc_funcs, NULL);
	if (ret)
		return ret;

	drm_crtc_helper_add(&scrtc->base, &splitcrtc_crtc_helper_funcs);
	sdev->crtc = scrtc;
	return 0;
}

void splitcrtc_release(struct drm_device *drm, void *arg)
{
	struct splitcrtc_device *sdev = to_splitcrtc(drm);

	mutex_destroy(&sdev->commit_lock);
}
