/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef IPDISP_H
#define IPDISP_H

#include <drm/drm_device.h>

struct ipdisp;

struct ipdisp_ip_funcs {
	int (*sw_init)(struct ipdisp *ip);
	int (*sw_fini)(struct ipdisp *ip);
};

struct ipdisp {
	struct drm_device drm;
	const struct ipdisp_ip_funcs *ip;
};

extern const struct ipdisp_ip_funcs ipdisp_dce_funcs;

#endif
