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
holders = set(["struct drm_crtc", "struct drm_plane", "struct drm_encoder",
               "struct drm_connector", "struct drm_writeback_connector",
               "struct drm_private_obj", "struct drm_simple_display_pipe"])

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
op = want("object-alloc", p)
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
applied("object-alloc", q)

// Unmanaged inits of the objects in memory that became drmm_ memory.
@pi depends on patch@
identifier f = {drm_crtc_init_with_planes, drm_encoder_init, drm_connector_init_with_ddc,
                drm_connector_init, drm_simple_encoder_init};
position p;
@@
 f@p(...)

@script:python depends on pi@
p << pi.p;
f << pi.f;
@@
want("init-" + f, p)

@pit depends on patch@
position pi.p, q;
expression D, O, F, T;
@@
(
- drm_crtc_init_with_planes@p@q(
+ drmm_crtc_init_with_planes(
  ...)
|
- drm_encoder_init@p@q(
+ drmm_encoder_init(
  ...)
|
- drm_connector_init_with_ddc@p@q(
+ drmm_connector_init(
  ...)
|
- drm_connector_init@p@q(D, O, F, T)
+ drmm_connector_init(D, O, F, T, NULL)
|
- drm_simple_encoder_init@p@q(D, O, T)
+ drmm_encoder_init(D, O, NULL, T, NULL)
)

@script:python depends on pit@
q << pit.q;
f << pi.f;
@@
applied("init-" + f, q)

// A plane: drmm_universal_plane_alloc() replaces the allocation and the init, and
// returns an ERR_PTR(): the NULL check and its error value change with it.
@ppa depends on patch@
expression X, dev, S, gfp;
position p;
@@
 X = devm_kzalloc@p(dev, S, gfp)

@script:python ppas depends on ppa@
p << ppa.p;
drm;
T;
m;
args;
@@
op = want("plane-alloc", p)
if op is not None:
    coccinelle.drm = cocci.make_expr(op["drm"])
    coccinelle.T = cocci.make_type(op["type"])
    coccinelle.m = cocci.make_ident(op["member"])
    coccinelle.args = cocci.make_expr(op["args"])

@ppat depends on patch@
expression ppa.X, ppa.dev, ppa.S, ppa.gfp, ppas.drm, ppas.args;
type ppas.T;
identifier ppas.m;
position ppa.p, q;
statement S1;
@@
 X =
- devm_kzalloc@p@q(dev, S, gfp);
+ drmm_universal_plane_alloc(drm, T, m, args);
 if (
- !X
+ IS_ERR(X)
 ) S1

@script:python depends on ppat@
q << ppat.q;
@@
applied("plane-alloc", q)

@depends on ppat@
expression X, E;
@@
 X = drmm_universal_plane_alloc(...);
 if (IS_ERR(X)) {
 <...
(
- return -ENOMEM;
+ return PTR_ERR(X);
|
- return ERR_PTR(-ENOMEM);
+ return ERR_CAST(X);
|
  E =
- -ENOMEM
+ PTR_ERR(X)
  ;
)
 ...>
 }

@ppi depends on patch@
identifier V;
position p;
@@
 V = drm_universal_plane_init@p(...);

@script:python depends on ppi@
p << ppi.p;
@@
want("plane-init-checked", p)

@ppit depends on patch@
identifier ppi.V;
position ppi.p, q;
statement S1;
@@
- V = drm_universal_plane_init@p@q(...);
(
- if (V) S1
|
- if (V < 0) S1
)

@script:python depends on ppit@
q << ppit.q;
@@
applied("plane-init-checked", q)

@ppr depends on patch@
position p;
@@
 return drm_universal_plane_init@p(...);

@script:python depends on ppr@
p << ppr.p;
@@
want("plane-init-return", p)

@ppir depends on patch@
position ppr.p, q;
@@
- return drm_universal_plane_init@p@q(...);
+ return 0;

@script:python depends on ppir@
q << ppir.q;
@@
applied("plane-init-return", q)

@depends on ppit@
identifier ppi.V;
type T;
@@
- T V;
  ... when != V

// drmm_ inits forbid a .destroy hook: drop the entry (and a hook that only cleaned up).
@pd depends on patch@
identifier F;
type T;
position p;
@@
 T F@p = {...};

@script:python depends on pd@
F << pd.F;
p << pd.p;
@@
want("destroy-entry", p, F)

@pdt depends on patch@
identifier pd.F;
type pd.T;
position pd.p, q;
expression E;
@@
 T F@p = {...,
- .destroy = E@q,
 ...};

@script:python depends on pdt@
F << pd.F;
q << pdt.q;
@@
applied("destroy-entry", q, F)

@pf depends on patch@
identifier f;
type T;
position p;
@@
 T f@p(...) {...}

@script:python depends on pf@
f << pf.f;
p << pf.p;
@@
want("remove-function", p, f)

@pft depends on patch@
identifier pf.f;
type pf.T;
position pf.p, q;
@@
- T f@p@q(...) {...}

@script:python depends on pft@
f << pf.f;
q << pft.q;
@@
applied("remove-function", q, f)

// The drmm_ helper cleans the object up at release: the driver's own cleanup goes.
@po depends on patch@
identifier f = {drm_crtc_cleanup, drm_encoder_cleanup, drm_connector_cleanup, drm_plane_cleanup};
expression E;
position p;
@@
 f@p(E);

@script:python depends on po@
p << po.p;
@@
want("object-cleanup", p)

@pot depends on patch@
identifier po.f;
expression po.E;
position po.p, q;
@@
- f@p@q(E);

@script:python depends on pot@
q << pot.q;
@@
applied("object-cleanup", q)

// The managed mode config now cleans up at the final drm_dev_put().
@pc depends on patch@
expression D;
position p;
@@
 drm_mode_config_cleanup@p(D);

@script:python depends on pc@
p << pc.p;
@@
want("cleanup", p)

@pct depends on patch@
expression pc.D;
position pc.p, q;
@@
- drm_mode_config_cleanup@p@q(D);

@script:python depends on pct@
q << pct.q;
@@
applied("cleanup", q)
