// SPDX-License-Identifier: GPL-2.0-only
/* Not a DRM driver: devm_ memory here is fine and must never be reported. */
#include <linux/device.h>

struct corpus_led {
	struct device *dev;
	int brightness;
};

static int corpus_led_probe(struct platform_device *pdev)
{
	struct corpus_led *led;

	// ok: devm-drm-memory
	led = devm_kzalloc(&pdev->dev, sizeof(*led), GFP_KERNEL);
	if (!led)
		return -ENOMEM;
	led->dev = &pdev->dev;
	return 0;
}
