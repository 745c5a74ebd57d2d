// SPDX-License-Identifier: GPL-2.0-only
/*
 * ipdisp display block: its connector is kzalloc'd and freed by its .destroy hook,
 * and its sw_fini cleans the mode config up.  sw_fini is only ever called through
 * the block's ops table from the drm_driver.release hook, so the connector lives
 * until the final drm_dev_put(): no finding.
 */
#include <linux/slab.h>
#include <drm/drm_connector.h>
#include <drm/drm_mode_config.h>
#include "ipdisp.h"

struct ipdisp_connector {
	struct drm_connector base;
	int lanes;
};

static void ipdisp_connector_destroy(struct drm_connector *connector)
{
	drm_connector_cleanup(connector);
	kfree(container_of(connector, struct ipdisp_connector, base));
}

static const struct drm_connector_funcs ipdisp_connector_funcs = {
	.destroy = ipdisp_connector_destroy,
};

static int ipdisp_dce_sw_init(struct ipdisp *ip)
{
	struct ipdisp_connector *con;
	int ret;

	ret = drmm_mode_config_init(&ip->drm);
	if (ret)
		return ret;
	con = kzalloc(sizeof(*con), GFP_KERNEL);
	if (!con)
		return -ENOMEM;
	// ok: unmanaged-mode-object
	return drm_connector_init(&ip->drm, &con->base, &ipdisp_connector_funcs,
				  DRM_MODE_CONNECTOR_HDMIA);
}

static int ipdisp_dce_sw_fini(struct ipdisp *ip)
{
	// ok: unmanaged-mode-config
	drm_mode_config_cleanup(&ip->drm);
	return 0;
}

const struct ipdisp_ip_funcs ipdisp_dce_funcs = {
	.sw_init = ipdisp_dce_sw_init,
	.sw_fini = ipdisp_dce_sw_fini,
};
