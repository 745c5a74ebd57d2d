// SPDX-License-Identifier: GPL-2.0-only
/// A devm_add_action() or devm_add_action_or_reset() whose action tears down
/// drm-lifetime state: it calls DRM teardown (drm_mode_config_cleanup(),
/// drm_kms_helper_poll_fini(), drm_*_cleanup/fini/put(), ...), or it is
/// handed the drm_device (or the private struct that embeds it) and frees
/// memory of it.  devres runs it at unbind, while the drm_device may live on
/// because userspace holds it open.  Quiescing the hardware
/// (drm_atomic_helper_shutdown()) belongs at unbind and is not reported.
/// Fix: drmm_add_action_or_reset() on the drm_device.
//
// Confidence: Low
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: devm_add_action
// Comments: Low: on Linux 7.2 (docs/review-7.2.md) 1 of 3 findings was
//  real.  A teardown named like a DRM one can release hardware-bound state,
//  which must happen at unbind (xe_migrate moved from drmm to devm for that).  Under make coccicheck only actions defined in the
//  same file that call a drm_ teardown function directly are reported;
//  drmm-refactor also follows one level of the module's own helpers and
//  looks at what the action's data is.

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

@script:python kernel depends on r@
action << r.action;
@@
if TOOL:
    cocci.include_match(False)  # drmm-refactor decides with its index: skip calls_drm

@calls_drm depends on kernel@
identifier r.action;
identifier g =~ "^drm_[a-z0-9_]*_(cleanup|fini|takedown|release|put|destroy|unregister|remove|free)$";
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
