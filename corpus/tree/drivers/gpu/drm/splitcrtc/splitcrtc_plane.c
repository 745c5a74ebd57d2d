// SPDX-License-Identifier: GPL-2.0-only
/* splitcrtc planes: an array of plane-holding structs in devm_ memory. */
#include <drm/drm_plane.h>
#include "splitcrtc.h"

static const u32 splitcrtc_formats[] = {
	0x34325258,	/* XR24 */
	0x34325241,	/* AR24 */
};

static const struct drm_plane_funcs splitcrtc_plane_funcs = {
	.destroy = drm_plane_cleanup,
};

int splitcrtc_planes_create(struct splitcrtc_device *sdev, struct device *dev,
			    unsigned int count)
{
	unsigned int i;
	int ret;

	// expect: devm-mode-object
	sdev->planes = devm_kcalloc(dev, count, sizeof(*sdev->planes), GFP_KERNEL);
	if (!sdev->planes)
		return -ENOMEM;

	for (i = 0; i < count; i++) {
		struct splitcrtc_plane *splane = &sdev->planes[i];
		enum drm_plane_type type = i ? DRM_PLANE_TYPE_OVERLAY : DRM_PLANE_TYPE_PRIMARY;

		splane->zpos = i;
		splane->regs = sdev->mmio + 0x100 * (i + 1);
		ret = drm_universal_plane_init(&sdev->drm, &splane->base, 1,
					       &splitcrtc_plane_funcs, splitcrtc_formats,
					       ARRAY_SIZE(splitcrtc_formats), NULL, type, NULL);
		if (ret)
			return ret;
	}
	sdev->num_planes = count;
	return 0;
}
