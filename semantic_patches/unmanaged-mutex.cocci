// SPDX-License-Identifier: GPL-2.0-only
/// A mutex in data that lives as long as the drm_device (its private struct,
/// the structs holding mode objects) set up with mutex_init() and never
/// destroyed, or with devm_mutex_init(), which destroys it at unbind while
/// the drm_device can still take it.
/// Fix: drmm_mutex_init().
//
// Confidence: Low
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: mutex_init
// Comments: Low: a missing mutex_destroy() only matters with
//  CONFIG_DEBUG_MUTEXES.  Under make coccicheck a mutex_init() is reported
//  when the same file has no mutex_destroy() of the same lock;
//  drmm-refactor looks for the destroy in every file of the module and keeps
//  only locks in structs its index shows reachable from the drm_device.

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
expression L, dev;
identifier i = {mutex_init};
identifier d = {devm_mutex_init};
position p;
@@
(
 i@p(&L)
|
 d@p(dev, &L)
)

@destroyed@
expression r.L;
@@
 mutex_destroy(&L)

@script:python depends on r@
p << r.p;
L << r.L;
i << r.i = "";
d << r.d = "";
@@
if TOOL:
    emit(p, "lock", call=i or d, lock=L)

@script:python depends on r && !destroyed@
p << r.p;
L << r.L;
i << r.i = "";
d << r.d = "";
@@
if not TOOL and (d or "->" in L or "." in L):
    emit(p, "%s() of %s with no mutex_destroy(): use drmm_mutex_init() on drm-lifetime data" % (i or d, L))
