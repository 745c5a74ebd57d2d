// SPDX-License-Identifier: GPL-2.0-only
/// Mode objects (CRTCs, planes, encoders, connectors, writeback connectors)
/// set up with drm_*_init() in kzalloc() memory whose cleanup the driver
/// writes by hand: a .destroy hook that calls drm_*_cleanup() and kfree(), or
/// a kfree() of the memory outside the hook, on the removal path.  The hook runs
/// whenever the mode configuration is cleaned up, at unbind in a driver that
/// does that by hand, and memory freed outside the hook goes while the
/// drm_device still lists the object; the drmm_ allocators and inits tie the
/// cleanup and the memory to the drm_device's final release, as drm_drv.c
/// asks.  Objects in devm_ memory are devm-mode-object's.  An object embedded
/// in the struct that embeds the drm_device, whose .destroy is only the
/// drm_*_cleanup() (or drm_simple_encoder_init()'s), is right while the mode
/// config is cleaned up at the final drm_dev_put(), and torn down at unbind
/// when the driver cleans it up by hand: drmm-refactor reports it (low) with
/// the drmm_ init of the same arguments and no hook, as upstream converted
/// vkms, hibmc and malidp.
/// Fix: use drmm_crtc_alloc_with_planes(), drmm_universal_plane_alloc(),
/// drmm_encoder_alloc(), or drmm_kzalloc() and drmm_connector_init() /
/// drmm_writeback_connector_init(), and drop the .destroy hook.
//
// Confidence: Low
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: drm_crtc_init_with_planes, drm_universal_plane_init, drm_encoder_init, drm_simple_encoder_init, drm_connector_init, drm_writeback_connector_init
// Comments: Low: a hook that frees the object is correct as long as it runs
//  at the final drm_dev_put() (a managed mode config); it is a bug when the
//  driver tears the mode config down by hand at unbind, or frees the memory
//  elsewhere.  Under make coccicheck an init is reported when its funcs
//  table, in the same file, has a .destroy hook that calls drm_*_cleanup()
//  and kfree(); drmm-refactor resolves the object's memory and the hook
//  across the module and keeps only trees that declare the drmm_ helper.
// Patch mode: makes the edits drmm-refactor plans (DRMM_REFACTOR_PLAN names them
//  by file, function and line): the kzalloc() of the object's struct becomes the
//  drmm_ allocator (drmm_crtc_alloc_with_planes(), drmm_universal_plane_alloc(),
//  drmm_encoder_alloc(), drmm_simple_encoder_alloc()) and its init goes, or the
//  memory becomes drmm_kzalloc() memory; the kfree() of the memory goes.  The hook,
//  the .destroy entries and the drm_*_cleanup() calls are devm-mode-object's edits,
//  which drmm-refactor runs with these.  Without a plan it changes nothing.

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

# Patch mode follows drmm-refactor's plan, keyed as devm-mode-object.cocci keys it.
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
identifier i = {drm_crtc_init_with_planes, drm_universal_plane_init, drm_encoder_init,
                drm_simple_encoder_init, drm_connector_init, drm_connector_init_with_ddc,
                drm_writeback_connector_init};
expression D, O;
position p;
@@
 i@p(D, O, ...)

@script:python depends on r@
p << r.p;
i << r.i;
O << r.O;
@@
if TOOL:
    emit(p, "init", call=i, obj=O)

// make coccicheck: the init's funcs table, in this file, has a hook that cleans
// the object up and frees memory by hand.
@script:python kernel depends on r@
p << r.p;
@@
if TOOL:
    cocci.include_match(False)  # drmm-refactor decides with its index: skip the hook match

@hook depends on report && kernel@
identifier H;
identifier c = {drm_crtc_cleanup, drm_plane_cleanup, drm_encoder_cleanup, drm_connector_cleanup};
expression E;
@@
 void H(...) { <+... c(E); ...+> }

@freed depends on hook@
identifier hook.H;
expression X;
@@
 void H(...) { <+... kfree(X); ...+> }

@table depends on freed@
identifier hook.H, T;
type S;
@@
 S T = { ..., .destroy = H, ... };

@k depends on table@
identifier table.T;
identifier i = {drm_crtc_init_with_planes, drm_universal_plane_init, drm_encoder_init,
                drm_connector_init, drm_connector_init_with_ddc, drm_writeback_connector_init};
position p;
@@
 i@p(..., &T, ...)

@script:python depends on k@
p << k.p;
i << k.i;
H << hook.H;
@@
if not TOOL:
    emit(p, "%s() of an object that %s() cleans up and frees by hand: use the drmm_ helper" % (i, H))

// ---- patch mode: the edits drmm-refactor planned ----

// The struct holding the object comes from the drmm_ allocator, which also runs the
// init: the allocator returns an ERR_PTR(), so the NULL check and its value change.
@ka depends on patch@
expression X;
identifier f = {kzalloc, kzalloc_obj};
position p;
@@
 X = f@p(...);

@script:python kas depends on ka@
p << ka.p;
drm;
helper;
T;
m;
args;
@@
op = want("kalloc-alloc", p)
if op is not None:
    coccinelle.drm = cocci.make_expr(op["drm"])
    coccinelle.helper = cocci.make_ident(op["helper"])
    coccinelle.T = cocci.make_type(op["type"])
    coccinelle.m = cocci.make_ident(op["member"])
    coccinelle.args = cocci.make_expr(op["args"])

@kat depends on patch@
expression ka.X, kas.drm, kas.args;
identifier ka.f, kas.helper, kas.m;
type kas.T;
position ka.p, q;
statement S1;
@@
 X =
- f@p@q(...);
+ helper(drm, T, m, args);
 if (
- !X
+ IS_ERR(X)
 ) S1

@script:python depends on kat@
q << kat.q;
@@
applied("kalloc-alloc", q)

@depends on kat@
expression ka.X, E;
identifier kas.helper;
@@
 X = helper(...);
(
 if (IS_ERR(X))
- return -ENOMEM;
+ return PTR_ERR(X);
|
 if (IS_ERR(X))
- return ERR_PTR(-ENOMEM);
+ return ERR_CAST(X);
|
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
)

// Or the struct comes from drmm_kzalloc(), and each object in it gets a drmm_ init.
@kd depends on patch@
expression X;
identifier f = {kzalloc, kzalloc_obj};
position p;
@@
 X = f@p(...);

@script:python kds depends on kd@
p << kd.p;
drm;
size;
gfp;
@@
op = want("kalloc-drmm", p)
if op is not None:
    coccinelle.drm = cocci.make_expr(op["drm"])
    coccinelle.size = cocci.make_expr(op["size"])
    coccinelle.gfp = cocci.make_expr(op["gfp"])

@kdt depends on patch@
expression kd.X, kds.drm, kds.size, kds.gfp;
identifier kd.f;
position kd.p, q;
@@
 X =
- f@p@q(...);
+ drmm_kzalloc(drm, size, gfp);

@script:python depends on kdt@
q << kdt.q;
@@
applied("kalloc-drmm", q)

// The init the allocator now makes goes, with the check of its result.
@kc depends on patch@
identifier i = {drm_crtc_init_with_planes, drm_universal_plane_init, drm_encoder_init,
                drm_simple_encoder_init};
identifier V;
position p;
@@
 V = i@p(...);

@script:python depends on kc@
p << kc.p;
@@
want("kalloc-init-checked", p)

@kct depends on patch@
identifier kc.i, kc.V;
position kc.p, q;
statement S1;
@@
- V = i@p@q(...);
(
- if (V) S1
|
- if (V < 0) S1
)

@script:python depends on kct@
q << kct.q;
@@
applied("kalloc-init-checked", q)

@depends on kct@
identifier kc.V;
type T;
@@
- T V;
  ... when != V

@kr depends on patch@
identifier i = {drm_crtc_init_with_planes, drm_universal_plane_init, drm_encoder_init,
                drm_simple_encoder_init};
position p;
@@
 return i@p(...);

@script:python depends on kr@
p << kr.p;
@@
want("kalloc-init-return", p)

@krt depends on patch@
identifier kr.i;
position kr.p, q;
@@
- return i@p@q(...);
+ return 0;

@script:python depends on krt@
q << krt.q;
@@
applied("kalloc-init-return", q)

@kb depends on patch@
identifier i = {drm_crtc_init_with_planes, drm_universal_plane_init, drm_encoder_init,
                drm_simple_encoder_init};
position p;
@@
 i@p(...);

@script:python depends on kb@
p << kb.p;
@@
want("kalloc-init-bare", p)

@kbt depends on patch@
identifier kb.i;
position kb.p, q;
@@
- i@p@q(...);

@script:python depends on kbt@
q << kbt.q;
@@
applied("kalloc-init-bare", q)

// drmm_ memory is freed at the final drm_dev_put(): the driver's own kfree() goes.
@kf depends on patch@
expression E;
position p;
@@
 kfree@p(E);

@script:python depends on kf@
p << kf.p;
@@
want("kalloc-free", p)

// (a block left with a single statement loses its braces)
@kft depends on patch@
expression kf.E, C, R;
position kf.p, q;
@@
(
- if (C) { kfree@p@q(E); return R; }
+ if (C) return R;
|
- kfree@p@q(E);
)

@script:python depends on kft@
q << kft.q;
@@
applied("kalloc-free", q)

// A local that only pointed the init at the object goes with the init.
@kl depends on patch@
identifier V;
expression E;
position p;
@@
 V = E@p;

@script:python depends on kl@
p << kl.p;
@@
want("kalloc-alias", p)

@klt depends on patch@
identifier kl.V;
expression kl.E;
position kl.p, q;
type T;
@@
- T V;
  ... when != V
- V = E@p@q;
  ... when != V

@script:python depends on klt@
q << klt.q;
@@
applied("kalloc-alias", q)

// A funcs table that only held .destroy goes: drmm_encoder_alloc() takes NULL funcs.
@kt depends on patch@
identifier F;
type T;
position p;
@@
 T F@p = {...};

@script:python depends on kt@
F << kt.F;
p << kt.p;
@@
want("kalloc-table", p, F)

@ktt depends on patch@
identifier kt.F;
type kt.T;
position kt.p, q;
@@
- T F@p@q = {...};

@script:python depends on ktt@
F << kt.F;
q << ktt.q;
@@
applied("kalloc-table", q, F)

// An encoder embedded in drm-lifetime memory whose funcs table only held .destroy:
// drmm_encoder_init() with NULL funcs (the table goes with kalloc-table).
@ken depends on patch@
expression D, O, F, T, N;
position p;
@@
 drm_encoder_init@p(D, O, F, T, N)

@script:python depends on ken@
p << ken.p;
@@
want("init-null-encoder", p)

@kent depends on patch@
expression ken.D, ken.O, ken.F, ken.T, ken.N;
position ken.p, q;
@@
- drm_encoder_init@p@q(D, O, F, T, N)
+ drmm_encoder_init(D, O, NULL, T, N)

@script:python depends on kent@
q << kent.q;
@@
applied("init-null-encoder", q)

// A hook that also released other state keeps doing that as a drmm_ release action,
// registered right after the object's drmm_ init, sharing the init's error exit.
@ha depends on patch@
identifier H, obj;
type T;
position p;
@@
 void H@p(T *obj) {...}

@script:python has depends on ha@
H << ha.H;
p << ha.p;
R;
c;
F;
@@
op = want("hook-action", p, H)
if op is not None:
    coccinelle.R = cocci.make_ident(op["name"])
    coccinelle.c = cocci.make_ident(op["cleanup"])
    coccinelle.F = cocci.make_expr(op["free"])

@hat depends on patch@
identifier ha.H, ha.obj, has.R, has.c;
expression has.F;
type ha.T;
position ha.p, q;
@@
- void H@p@q(T *obj)
+ void R(struct drm_device *drm, void *arg)
  {
+ 	T *obj = arg;
  ...
- c(obj);
  ...
- kfree(F);
  ...
  }

@script:python depends on hat@
H << ha.H;
q << hat.q;
@@
applied("hook-action", q, H)

@hr depends on patch@
identifier i = {drmm_crtc_init_with_planes, drmm_encoder_init, drmm_connector_init};
identifier V;
position p;
@@
 V = i@p(...);

@script:python hrs depends on hr@
p << hr.p;
drm;
R;
O;
@@
op = want("hook-register", p)
if op is not None:
    coccinelle.drm = cocci.make_expr(op["drm"])
    coccinelle.R = cocci.make_ident(op["action"])
    coccinelle.O = cocci.make_expr(op["obj"])

@hrt depends on patch@
identifier hr.i, hr.V, hrs.R;
expression hrs.drm, hrs.O;
position hr.p, q;
statement S1;
@@
 V = i@p@q(...);
(
 if (V) S1
+ V = drmm_add_action_or_reset(drm, R, O);
+ if (V)
+ 	S1
|
 if (V < 0) S1
+ V = drmm_add_action_or_reset(drm, R, O);
+ if (V)
+ 	S1
)

@script:python depends on hrt@
q << hrt.q;
@@
applied("hook-register", q)
