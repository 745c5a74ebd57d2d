// SPDX-License-Identifier: GPL-2.0-only
/// Memory from devm_kzalloc(), devm_kcalloc(), devm_kstrdup() and friends
/// stored in a struct that the drm_device reaches: its private struct, the
/// structs that hold mode objects, and what those point to.  devres frees it
/// when the parent device unbinds; DRM callbacks reached from userspace can
/// still use it afterwards.  Memory used only where it was allocated, and
/// structs that hold nothing but hardware handles (registers, clocks,
/// regulators, GPIOs: devm_ is right for those), are not reported.
/// Fix: the drmm_ counterpart of the allocator.
//
// Confidence: Low
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: devm_kzalloc, devm_kmalloc, devm_kcalloc, devm_kmalloc_array, devm_kstrdup, devm_kmemdup
// Comments: Low: on a review of 8 random findings on Linux 7.2
//  (docs/review-7.2.md) 2 were real.  Whether a DRM callback reads the memory
//  after unbind is not proven: most buffers are only read at probe or bind,
//  or only inside drm_dev_enter() sections of a driver that calls
//  drm_dev_unplug(), or by users registered with devm after them, or they
//  sit in a container that is itself devm memory.  Under make
//  coccicheck, stores into any struct member are reported; drmm-refactor runs
//  the rule with DRMM_REFACTOR=1 and keeps only the structs its index shows
//  reachable from the drm_device.
// Patch mode: makes the edits drmm-refactor plans (DRMM_REFACTOR_PLAN names them
//  by file, function and line); without a plan, as under make coccicheck, it
//  changes nothing.

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

# Patch mode follows drmm-refactor's plan (DRMM_REFACTOR_PLAN): each edit is keyed by
# file, function and the normalised text of its line (or a table's or function's name),
# with the values it needs.  Each edit made is written back (DRMM_REFACTOR_APPLIED), so
# that a plan is never applied in part.  Without a plan, patch mode changes nothing.
PLAN, _LINES = {}, {}
if os.environ.get("DRMM_REFACTOR_PLAN"):
    with open(os.environ["DRMM_REFACTOR_PLAN"]) as fh:
        PLAN = dict((op["key"], op["args"]) for op in json.load(fh))

def _code(p):
    f = p[0].file
    if f not in _LINES:
        with open(f, errors="replace") as fh:
            _LINES[f] = fh.read().splitlines()
    lines = _LINES[f]
    n = int(p[0].line)
    return " ".join(lines[n - 1].split()) if 0 < n <= len(lines) else ""

def key(kind, p, name=None):
    # after an edit spatch matches a temporary copy: drmm-refactor names the file
    rel = os.environ.get("DRMM_REFACTOR_FILE") or os.path.relpath(p[0].file)
    if name is None:
        return "\0".join([kind, rel, p[0].current_element, _code(p)])
    return "\0".join([kind, rel, str(name), ""])

def want(kind, p, name=None):
    """The planned edit's values, or None (and the match is dropped) when not planned."""
    args = PLAN.get(key(kind, p, name))
    if args is None:
        cocci.include_match(False)
    return args

def applied(kind, p, name=None):
    if os.environ.get("DRMM_REFACTOR_APPLIED"):
        with open(os.environ["DRMM_REFACTOR_APPLIED"], "a") as fh:
            fh.write(json.dumps(key(kind, p, name)) + "\n")

@direct depends on report@
expression L, dev, gfp, n, src, sz;
expression S;
type T;
identifier a = {devm_kzalloc, devm_kmalloc};
identifier arr = {devm_kcalloc, devm_kmalloc_array};
identifier str = {devm_kstrdup, devm_kmemdup};
position p;
@@
(
 L = a@p(dev, sizeof(T), gfp)
|
 L = a@p(dev, sizeof(S), gfp)
|
 L = a@p(dev, sz, gfp)
|
 L = arr@p(dev, n, sizeof(T), gfp)
|
 L = arr@p(dev, n, sizeof(S), gfp)
|
 L = arr@p(dev, n, sz, gfp)
|
 L = str@p(dev, src, ...)
)

@via depends on report@
local idexpression x;
expression L, E2, dev, gfp, n, src, sz;
expression S;
type T;
identifier a = {devm_kzalloc, devm_kmalloc};
identifier arr = {devm_kcalloc, devm_kmalloc_array};
identifier str = {devm_kstrdup, devm_kmemdup};
position p;
@@
(
 x = a@p(dev, sizeof(T), gfp)
|
 x = a@p(dev, sizeof(S), gfp)
|
 x = a@p(dev, sz, gfp)
|
 x = arr@p(dev, n, sizeof(T), gfp)
|
 x = arr@p(dev, n, sizeof(S), gfp)
|
 x = arr@p(dev, n, sz, gfp)
|
 x = str@p(dev, src, ...)
)
 ... when != x = E2
 L = x

@script:python depends on report@
p << direct.p;
L << direct.L;
a << direct.a = "";
arr << direct.arr = "";
str << direct.str = "";
T << direct.T = "";
S << direct.S = "";
@@
fn = a or arr or str
# Only stores into a struct member can outlive the function (a field access
# is printed with -> or .); drmm-refactor checks which struct it is.
if TOOL or "->" in L or "." in L:
    emit(p, "%s() memory stored in %s: freed at unbind while the drm_device can still reach it" % (fn, L),
         alloc=fn, lhs=L, type=T, size=S)

@script:python depends on report@
p << via.p;
x << via.x;
L << via.L;
a << via.a = "";
arr << via.arr = "";
str << via.str = "";
T << via.T = "";
S << via.S = "";
@@
fn = a or arr or str
if TOOL or "->" in L or "." in L:
    emit(p, "%s() memory stored in %s through %s: freed at unbind while the drm_device can still reach it"
         % (fn, L, x), alloc=fn, lhs=L, type=T, size=S, via=x)

// ---- patch mode: the edits drmm-refactor planned ----

@pa depends on patch@
identifier a = {devm_kzalloc, devm_kmalloc, devm_kcalloc, devm_kmalloc_array, devm_kstrdup};
expression dev;
position p;
@@
 a@p(dev, ...)

@script:python pas depends on pa@
p << pa.p;
drm;
helper;
@@
op = want("alloc", p)
if op is not None:
    coccinelle.drm = cocci.make_expr(op["drm"])
    coccinelle.helper = cocci.make_ident(op["helper"])

@pat depends on patch@
identifier pa.a, pas.helper;
expression pa.dev, pas.drm;
position pa.p, q;
@@
- a@p@q(dev,
+ helper(drm,
  ...)

@script:python depends on pat@
q << pat.q;
@@
applied("alloc", q)
