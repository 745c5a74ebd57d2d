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

// ---- patch mode: the edits drmm-refactor planned ----

@pm depends on patch@
expression L, dev;
identifier i = {mutex_init, devm_mutex_init};
position p;
@@
(
 i@p(L);
|
 i@p(dev, L)
)

@script:python pms depends on pm@
p << pm.p;
i << pm.i;
drm;
v;
st;
@@
kinds = ["mutex"] if i == "mutex_init" else ["devm-mutex-checked", "devm-mutex"]
op = next((PLAN.get(key(k, p)) for k in kinds if PLAN.get(key(k, p)) is not None), None)
if op is None:
    cocci.include_match(False)
else:
    coccinelle.drm = cocci.make_expr(op["drm"])
    coccinelle.v = cocci.make_ident(op.get("var", "ret"))
    coccinelle.st = cocci.make_stmt(op.get("exit", "return ret;"))

@pmt depends on patch@
expression pm.L, pm.dev, pms.drm;
identifier pms.v;
statement pms.st;
position pm.p, q;
@@
(
- mutex_init@p@q(L);
+ v = drmm_mutex_init(drm, L);
+ if (v)
+ 	st
|
- devm_mutex_init@p@q(dev, L);
+ v = drmm_mutex_init(drm, L);
+ if (v)
+ 	st
|
- devm_mutex_init@p@q(dev,
+ drmm_mutex_init(drm,
  L)
)

@script:python depends on pmt@
q << pmt.q;
i << pm.i;
@@
for k in (["mutex"] if i == "mutex_init" else ["devm-mutex-checked", "devm-mutex"]):
    if PLAN.get(key(k, q)) is not None:
        applied(k, q)

// The lock is now destroyed by its drmm_ release action: its mutex_destroy() goes.
@pd depends on patch@
expression L;
position p;
@@
 mutex_destroy@p(L);

@script:python depends on pd@
p << pd.p;
@@
want("mutex-destroy", p)

@pdt depends on patch@
expression pd.L;
position pd.p, q;
@@
- mutex_destroy@p@q(L);

@script:python depends on pdt@
q << pdt.q;
@@
applied("mutex-destroy", q)
