// SPDX-License-Identifier: GPL-2.0-only
/// Removal that calls only drm_dev_unregister() in a driver that guards (or
/// must guard) hardware with drm_dev_enter(): without drm_dev_unplug(),
/// drm_dev_enter() keeps succeeding after unbind and the guards stop nothing.
/// Fix: drm_dev_unplug(), then drm_atomic_helper_shutdown() (upstream's order).
//
// Confidence: High
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: drm_dev_unregister
// Comments: Under make coccicheck a drm_dev_unregister() is reported when the
//  same file calls drm_dev_enter().  drmm-refactor reports every call and keeps
//  those on a removal path (.remove, .unbind, .shutdown and what they call) of a
//  module that has guards or DRM callbacks that need them (refactor/guards.py).
// Patch mode: in place, or moved before a drm_atomic_helper_shutdown() that
//  came first, or followed by a drm_atomic_helper_shutdown() that the removal
//  function of an atomic driver lacks.  Makes the edits drmm-refactor plans (DRMM_REFACTOR_PLAN names them
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

@r depends on report@
expression D;
position p;
@@
 drm_dev_unregister@p(D)

@guarded depends on report@
@@
 drm_dev_enter(...)

@script:python depends on r@
p << r.p;
@@
if TOOL:
    emit(p, "unregister")

@script:python depends on r && guarded@
p << r.p;
@@
if not TOOL:
    emit(p, "drm_dev_unregister() in a driver with drm_dev_enter() guards: use drm_dev_unplug()")

// ---- patch mode: the edits drmm-refactor planned ----

@pu depends on patch@
expression D;
position p;
@@
 drm_dev_unregister@p(D)

@script:python depends on pu@
p << pu.p;
@@
want("unplug", p)

@put depends on patch@
expression pu.D;
position pu.p, q;
@@
- drm_dev_unregister@p@q(D)
+ drm_dev_unplug(D)

@script:python depends on put@
q << put.q;
@@
applied("unplug", q)

// upstream's order: drm_dev_unplug(); drm_atomic_helper_shutdown();

@pf depends on patch@
expression D, D2;
position p, s;
@@
 drm_atomic_helper_shutdown@s(D2);
 ...
 drm_dev_unregister@p(D);

@script:python depends on pf@
p << pf.p;
s << pf.s;
@@
op = want("unplug-first", p)
if op is not None and _code(s) != op["shutdown"]:
    cocci.include_match(False)

@pft depends on patch@
expression pf.D, pf.D2;
position pf.p, pf.s, q;
@@
+ drm_dev_unplug(D);
  drm_atomic_helper_shutdown@s(D2);
  ...
- drm_dev_unregister@p@q(D);

@script:python depends on pft@
q << pft.q;
@@
applied("unplug-first", q)

// a removal function of an atomic driver with no drm_atomic_helper_shutdown() (itself or
// in what it calls): the unplug comes with the shutdown, in upstream's order, so that the
// pipeline is quiesced before the hardware goes away

@ps depends on patch@
expression D;
position p;
@@
 drm_dev_unregister@p(D);

@script:python depends on ps@
p << ps.p;
@@
want("unplug-shutdown", p)

@pst depends on patch@
expression ps.D;
position ps.p, q;
@@
- drm_dev_unregister@p@q(D);
+ drm_dev_unplug(D);
+ drm_atomic_helper_shutdown(D);

@script:python depends on pst@
q << pst.q;
@@
applied("unplug-shutdown", q)
