// SPDX-License-Identifier: GPL-2.0-only
/// The private struct of a drm_dev_alloc() driver, the one that holds the
/// drm_device or points to it, allocated with devm_kzalloc().  devres frees
/// it when the parent device unbinds, while the drm_device and every DRM
/// callback that reaches the private struct through it live on.
/// Fix: embed the drm_device in the private struct and allocate both with
/// devm_drm_dev_alloc().
//
// Confidence: High
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: devm_kzalloc, devm_kmalloc
// Comments: Under make coccicheck the private struct is recognised only when
//  the function that allocates it also calls drm_dev_alloc() and links the
//  two.  drmm-refactor runs the rule with DRMM_REFACTOR=1 and decides with
//  its index of the module's structs and drm allocation sites.

virtual report

@initialize:python@
@@
import json, os
# drmm-refactor sets DRMM_REFACTOR=1: then every candidate is reported with the
# expressions matched (after a tab, as JSON) and its struct index decides.
TOOL = bool(os.environ.get("DRMM_REFACTOR"))

def emit(p, msg, **data):
    coccilib.report.print_report(p[0], msg + ("\t" + json.dumps(data) if TOOL else ""))

@alloc depends on report@
expression E, dev, gfp;
expression S;
type T;
identifier a = {devm_kzalloc, devm_kmalloc};
position p;
@@
(
 E = a@p(dev, sizeof(T), gfp)
|
 E = a@p(dev, sizeof(S), gfp)
)

@script:python depends on report@
p << alloc.p;
E << alloc.E;
a << alloc.a;
T << alloc.T = "";
S << alloc.S = "";
@@
if TOOL:
    emit(p, "allocation", alloc=a, lhs=E, type=T, size=S)

@script:python kernel depends on alloc@
p << alloc.p;
@@
if TOOL:
    cocci.include_match(False)  # drmm-refactor decides with its index: skip linked

@linked depends on report && kernel@
expression alloc.E, D, drv, parent;
identifier f;
position alloc.p;
identifier a = {devm_kzalloc, devm_kmalloc};
@@
 E = a@p(...);
 ...
(
 E->f = drm_dev_alloc(drv, parent);
|
 D = drm_dev_alloc(drv, parent);
 ...
(
 E->f = D;
|
 D->dev_private = E;
)
)

@script:python depends on linked@
p << alloc.p;
a << alloc.a;
@@
if not TOOL:
    coccilib.report.print_report(p[0], "the private struct of a drm_dev_alloc() driver comes from %s(): freed at unbind while the drm_device lives on" % a)
