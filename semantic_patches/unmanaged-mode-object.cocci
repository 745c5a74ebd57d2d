// SPDX-License-Identifier: GPL-2.0-only
/// Mode objects (CRTCs, planes, encoders, connectors, writeback connectors)
/// set up with drm_*_init() in kzalloc() memory whose cleanup the driver
/// writes by hand: a .destroy hook that calls drm_*_cleanup() and kfree(), or
/// a kfree() of the memory outside the hook, on the removal path.  The hook runs
/// whenever the mode configuration is cleaned up, at unbind in a driver that
/// does that by hand, and memory freed outside the hook goes while the
/// drm_device still lists the object; the drmm_ allocators and inits tie the
/// cleanup and the memory to the drm_device's final release, as drm_drv.c
/// asks.  Objects in devm_ memory are devm-mode-object's; objects in
/// drm-lifetime memory whose hook only cleans up are right as they are.
/// Fix: use drmm_crtc_alloc_with_planes(), drmm_universal_plane_alloc(),
/// drmm_encoder_alloc(), or drmm_kzalloc() and drmm_connector_init() /
/// drmm_writeback_connector_init(), and drop the .destroy hook.
//
// Confidence: Low
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: drm_crtc_init_with_planes, drm_universal_plane_init, drm_encoder_init, drm_simple_encoder_init, drm_connector_init, drm_writeback_connector_init
// Comments: Low: a hook that frees the object is correct as long as it runs
//  at the final drm_dev_put() (a managed mode config); it is a bug when the
//  driver tears the mode config down by hand at unbind, or frees the memory
//  elsewhere.  Under make coccicheck an init is reported when its funcs
//  table, in the same file, has a .destroy hook that calls drm_*_cleanup()
//  and kfree(); drmm-refactor resolves the object's memory and the hook
//  across the module and keeps only trees that declare the drmm_ helper.
// Patch mode: none yet; drmm-refactor reports why no patch is made.

virtual report
virtual patch

@initialize:python@
@@
import json, os
# drmm-refactor sets DRMM_REFACTOR=1: then every candidate is reported with the
# expressions matched (after a tab, as JSON) and its struct index decides.
TOOL = bool(os.environ.get("DRMM_REFACTOR"))

def emit(p, msg, **data):
    coccilib.report.print_report(p[0], msg + ("\t" + json.dumps(data) if TOOL else ""))

@r depends on report@
identifier i = {drm_crtc_init_with_planes, drm_universal_plane_init, drm_encoder_init,
                drm_simple_encoder_init, drm_connector_init, drm_connector_init_with_ddc,
                drm_writeback_connector_init};
expression D, O;
position p;
@@
 i@p(D, O, ...)

@script:python depends on r@
p << r.p;
i << r.i;
O << r.O;
@@
if TOOL:
    emit(p, "init", call=i, obj=O)

// make coccicheck: the init's funcs table, in this file, has a hook that cleans
// the object up and frees memory by hand.
@script:python kernel depends on r@
p << r.p;
@@
if TOOL:
    cocci.include_match(False)  # drmm-refactor decides with its index: skip the hook match

@hook depends on report && kernel@
identifier H;
identifier c = {drm_crtc_cleanup, drm_plane_cleanup, drm_encoder_cleanup, drm_connector_cleanup};
expression E;
@@
 void H(...) { <+... c(E); ...+> }

@freed depends on hook@
identifier hook.H;
expression X;
@@
 void H(...) { <+... kfree(X); ...+> }

@table depends on freed@
identifier hook.H, T;
type S;
@@
 S T = { ..., .destroy = H, ... };

@k depends on table@
identifier table.T;
identifier i = {drm_crtc_init_with_planes, drm_universal_plane_init, drm_encoder_init,
                drm_connector_init, drm_connector_init_with_ddc, drm_writeback_connector_init};
position p;
@@
 i@p(..., &T, ...)

@script:python depends on k@
p << k.p;
i << k.i;
H << hook.H;
@@
if not TOOL:
    emit(p, "%s() of an object that %s() cleans up and frees by hand: use the drmm_ helper" % (i, H))
