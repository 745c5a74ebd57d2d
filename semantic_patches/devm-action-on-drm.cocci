// SPDX-License-Identifier: GPL-2.0-only
/// A devm_add_action() or devm_add_action_or_reset() whose action tears down
/// drm-lifetime state: it is handed the drm_device (or the private struct
/// that embeds it), or it calls into DRM (drm_mode_config_cleanup(),
/// drm_kms_helper_poll_fini(), ...).  devres runs it at unbind, while the
/// drm_device may live on because userspace holds it open.
/// Fix: drmm_add_action_or_reset() on the drm_device.
//
// Confidence: Moderate
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: devm_add_action
// Comments: Moderate: some drm_ teardown calls are meant to run at unbind
//  (drm_atomic_helper_shutdown() quiesces the hardware); such actions are
//  reported all the same and need a reviewer's eye.  Under make coccicheck
//  only actions defined in the same file that call a drm_ function are
//  reported.

virtual report

@initialize:python@
@@
import json, os
# drmm-refactor sets DRMM_REFACTOR=1: then every candidate is reported with the
# expressions matched (after a tab, as JSON) and its struct index decides.
TOOL = bool(os.environ.get("DRMM_REFACTOR"))

def emit(p, msg, **data):
    coccilib.report.print_report(p[0], msg + ("\t" + json.dumps(data) if TOOL else ""))

@r depends on report@
expression dev, data;
identifier action;
identifier add = {devm_add_action, devm_add_action_or_reset};
position p;
@@
 add@p(dev, action, data)

@script:python depends on r@
p << r.p;
add << r.add;
action << r.action;
data << r.data;
@@
if TOOL:
    emit(p, "devm action", call=add, action=action, arg=data)

@calls_drm depends on r@
identifier r.action;
identifier g =~ "^drm_(mode_config|kms_helper|atomic_helper|crtc|plane|encoder|connector|dev_put|dev_unregister|bridge|panel|writeback|gem|fb)";
@@
 action(...) {
 <+...
 g(...)
 ...+>
 }

@script:python depends on calls_drm@
p << r.p;
add << r.add;
action << r.action;
g << calls_drm.g;
@@
if not TOOL:
    emit(p, "%s() runs at unbind, before the drm_device is released, and %s() calls %s()" % (add, action, g))
