// SPDX-License-Identifier: GPL-2.0-only
/// Mode objects (CRTCs, planes, encoders, connectors, writeback connectors,
/// private objects) embedded in memory from devm_kzalloc() and friends.  The
/// memory is freed when the parent device unbinds, but the drm_device, and
/// userspace through it, keeps using the objects until the last
/// drm_dev_put(): a use-after-free.
/// Fix: drmm_*_alloc(), or drmm_kzalloc() and a drmm_*_init().
//
// Confidence: High
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: devm_kzalloc, devm_kmalloc, devm_kcalloc, devm_kmalloc_array
// Comments: Under make coccicheck only the DRM core types and structs defined
//  in the same file are known to hold mode objects.  drmm-refactor runs the
//  rule with DRMM_REFACTOR=1: every allocation is reported with the
//  expressions matched, and its index of the module's structs decides.

virtual report

@initialize:python@
@@
import json, os
# drmm-refactor sets DRMM_REFACTOR=1: then every candidate is reported with the
# expressions matched (after a tab, as JSON) and its struct index decides.
TOOL = bool(os.environ.get("DRMM_REFACTOR"))

def emit(p, msg, **data):
    coccilib.report.print_report(p[0], msg + ("\t" + json.dumps(data) if TOOL else ""))
holders = set(["struct drm_crtc", "struct drm_plane", "struct drm_encoder",
               "struct drm_connector", "struct drm_writeback_connector",
               "struct drm_private_obj", "struct drm_simple_display_pipe"])

def norm(t):
    return " ".join(t.replace("const ", "").split())

@holder depends on report@
identifier S, f;
type M;
@@
struct S { ... M f; ... };

@script:python depends on holder@
S << holder.S;
M << holder.M;
@@
if norm(M) in holders:
    holders.add("struct " + S)

@alloc depends on report@
expression E, dev, gfp, n;
expression S;
type T;
identifier a = {devm_kzalloc, devm_kmalloc};
identifier arr = {devm_kcalloc, devm_kmalloc_array};
position p;
@@
(
 E = a@p(dev, sizeof(T), gfp)
|
 E = a@p(dev, sizeof(S), gfp)
|
 E = arr@p(dev, n, sizeof(T), gfp)
|
 E = arr@p(dev, n, sizeof(S), gfp)
)

@script:python depends on report@
p << alloc.p;
E << alloc.E;
a << alloc.a = "";
arr << alloc.arr = "";
T << alloc.T = "";
S << alloc.S = "";
@@
if TOOL or (T and norm(T) in holders):
    emit(p, "%s holds a mode object but comes from %s(): freed at unbind while the drm_device still uses it"
         % (norm(T), a or arr), alloc=a or arr, lhs=E, type=T, size=S)
