// SPDX-License-Identifier: GPL-2.0-only
/// A DRM callback (a function in a drm_*_funcs table, struct drm_driver, or an
/// ioctl table) that touches devm_ hardware (MMIO, regmap, clocks, regulators,
/// resets, GPIOs, PHYs), itself or through the module's own helpers, outside a
/// drm_dev_enter()/drm_dev_exit() section.  Userspace can call it after unbind,
/// when devres has released the hardware.
/// Fix: drm_dev_enter()/drm_dev_exit() around the register accesses of every
/// hardware hook of the driver (never around clock, runtime PM or vblank
/// bookkeeping, the pending event still delivered), and drm_dev_unplug().
//
// Confidence: Moderate
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: _funcs, drm_driver, DRM_IOCTL_DEF_DRV
// Comments: Moderate: the hardware fields are found by where they are assigned
//  (a devm_ hardware getter), and the call graph is followed three calls deep
//  inside the module only; IRQ handlers and work items are not followed.  Under
//  make coccicheck only an access made directly in a callback of the same file
//  on a member expression is reported.  drmm-refactor reports every table
//  entry and decides with its index of the module (refactor/guards.py).
// Patch mode: the guard at the top of a hook (its failure path may deliver the
//  pending event) or around the run of statements from its first to its last
//  register access.  Makes the edits drmm-refactor plans (DRMM_REFACTOR_PLAN names them
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

# drm_dev_exit() before a return may have braced the first statement of a function:
# the guard's key names its line without the brace
def unbraced(k):
    return k[:-1].rstrip() if k.endswith("{") else k

@r depends on report@
identifier T =~ "^drm_(crtc|crtc_helper|plane|plane_helper|encoder|encoder_helper|connector|connector_helper|simple_display_pipe|mode_config|mode_config_helper|bridge)_funcs$|^drm_driver$";
identifier I, F, fn;
position p;
@@
struct T I = { ..., .F = fn@p, ..., };

@script:python depends on r@
p << r.p;
fn << r.fn;
F << r.F;
@@
if TOOL:
    emit(p, "entry", fn=fn, hook=F)

@ri depends on report@
identifier fn;
expression N, FL;
position p;
@@
DRM_IOCTL_DEF_DRV(N, fn@p, FL)

@script:python depends on ri@
p << ri.p;
fn << ri.fn;
@@
if TOOL:
    emit(p, "entry", fn=fn, hook="ioctl")

// make coccicheck: a callback of the same file touching a member directly, no guard.
// drmm-refactor does not use it (it decides with its index), and the control-flow
// match is this rule's dearest part: it runs only without DRMM_REFACTOR.
@script:python kernel depends on r@
fn << r.fn;
@@
if TOOL:
    cocci.include_match(False)

@rh depends on report && kernel@
identifier r.fn;
identifier acc =~ "^(read[bwl]|write[bwl]|ioread32|iowrite32|regmap_(read|write|update_bits)|clk_(prepare_enable|disable_unprepare|set_rate)|regulator_(enable|disable)|reset_control_(assert|deassert)|gpiod_set_value(_cansleep)?)$";
expression E;
identifier fld;
position q;
@@
fn(...) {
 ... when != drm_dev_enter(...)
     when any
 acc@q(..., <+... E->fld ...+>, ...)
 ... when any
}

@script:python depends on rh@
q << rh.q;
fn << r.fn;
acc << rh.acc;
@@
if not TOOL:
    emit(q, "%s() in DRM callback %s() outside drm_dev_enter()/drm_dev_exit()" % (acc, fn))

// ---- patch mode: the edits drmm-refactor planned ----
// Order matters: drm_dev_exit() before each return (spatch sees the end of a void
// function as one), then the check at the top, whose own return must not get one.

@px depends on patch@
identifier f;
position p;
@@
 f@p(...) {...}

@script:python pxs depends on px@
f << px.f;
p << px.p;
i;
@@
op = want("guard-exit", p, f)
if op is not None:
    coccinelle.i = cocci.make_ident(op["idx"])

@pxt depends on patch@
identifier px.f, pxs.i;
expression E;
position q;
@@
 f(...) { <...
(
+ drm_dev_exit(i);
  return@q E;
|
+ drm_dev_exit(i);
  return@q;
)
 ...> }

@script:python depends on pxt@
f << px.f;
q << pxt.q;
@@
applied("guard-exit", q, f)

@pg depends on patch@
statement S;
position p;
@@
 S@p

@script:python pgs depends on pg@
p << pg.p;
drm;
i;
st;
@@
k = unbraced(key("guard-enter", p))
op = PLAN.get(k)
if op is None or str(op["column"]) != str(p[0].column):
    op = None
    cocci.include_match(False)
if op is not None:
    coccinelle.drm = cocci.make_expr(op["drm"])
    coccinelle.i = cocci.make_ident(op["idx"])
    coccinelle.st = cocci.make_stmt(op["return"])

@pgt depends on patch@
statement pg.S, pgs.st;
expression pgs.drm;
identifier pgs.i;
position pg.p, q;
@@
+ if (!drm_dev_enter(drm, &i))
+ 	st
  S@p@q

@script:python depends on pgt@
q << pgt.q;
@@
k = key("guard-enter", q)
with open(os.environ.get("DRMM_REFACTOR_APPLIED") or os.devnull, "a") as fh:
    fh.write(json.dumps(unbraced(k)) + "\n")

// The guard around a run of top-level statements (the bookkeeping stays outside):
// its first statement is keyed like guard-enter, its last by text, line distance and
// column.

@psm depends on patch@
statement S1;
position p1;
@@
 S1@p1

@script:python pssm depends on psm@
p1 << psm.p1;
drm;
i;
@@
op = PLAN.get(unbraced(key("guard-span", p1)))
if op is None or str(op["column"]) != str(p1[0].column) or op["lines"] == "0":
    cocci.include_match(False)
else:
    coccinelle.drm = cocci.make_expr(op["drm"])
    coccinelle.i = cocci.make_ident(op["idx"])

@ps2 depends on patch@
statement psm.S1, S2;
position psm.p1, p2;
@@
 S1@p1
 ...
 S2@p2

@script:python pss2 depends on ps2@
p1 << psm.p1;
p2 << ps2.p2;
@@
op = PLAN.get(unbraced(key("guard-span", p1))) or {}
if (int(p2[0].line) - int(p1[0].line) != int(op.get("lines", -1))
        or unbraced(_code(p2)) != op.get("last")):
    cocci.include_match(False)

@pst depends on patch@
statement psm.S1, ps2.S2;
expression pssm.drm;
identifier pssm.i;
position psm.p1, ps2.p2, q;
@@
+ if (drm_dev_enter(drm, &i)) {
  S1@p1@q
  ...
  S2@p2
+ drm_dev_exit(i);
+ }

@script:python depends on pst@
q << pst.q;
@@
with open(os.environ.get("DRMM_REFACTOR_APPLIED") or os.devnull, "a") as fh:
    fh.write(json.dumps(unbraced(key("guard-span", q))) + "\n")

@ps1 depends on patch@
statement S1;
position p1;
@@
 S1@p1

@script:python pss1 depends on ps1@
p1 << ps1.p1;
drm;
i;
@@
op = PLAN.get(unbraced(key("guard-span", p1)))
if op is None or str(op["column"]) != str(p1[0].column) or op["lines"] != "0":
    cocci.include_match(False)
else:
    coccinelle.drm = cocci.make_expr(op["drm"])
    coccinelle.i = cocci.make_ident(op["idx"])

@pso depends on patch@
statement ps1.S1;
expression pss1.drm;
identifier pss1.i;
position ps1.p1, q;
@@
+ if (drm_dev_enter(drm, &i)) {
  S1@p1@q
+ drm_dev_exit(i);
+ }

@script:python depends on pso@
q << pso.q;
@@
with open(os.environ.get("DRMM_REFACTOR_APPLIED") or os.devnull, "a") as fh:
    fh.write(json.dumps(unbraced(key("guard-span", q))) + "\n")
