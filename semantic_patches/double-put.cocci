// SPDX-License-Identifier: GPL-2.0-only
/// drm_dev_put() on a drm_device that devm_drm_dev_alloc() allocated.  The
/// allocation hands its reference to devres, which drops it when the parent
/// device unbinds; a driver put on top of that frees the drm_device early: a
/// use-after-free on unbind while userspace still holds the device open.
/// Fix: drop the put.  A put that balances a drm_dev_get() in the same
/// function is left alone.
//
// Confidence: High
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: devm_drm_dev_alloc, drm_dev_put
// Patch mode: makes the edits drmm-refactor plans (DRMM_REFACTOR_PLAN names them
//  by file, function and line); without a plan, as under make coccicheck, it
//  changes nothing.

virtual report
virtual patch

@initialize:python@
@@
import json, os
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

balanced = set()

@alloc depends on report@
expression parent, driver, P;
type T;
identifier member;
@@
P = devm_drm_dev_alloc(parent, driver, T, member);

@get depends on alloc@
type alloc.T;
T *x;
identifier alloc.member;
struct drm_device *d;
position q;
@@
(
 drm_dev_get(&x->member);
 ...
 drm_dev_put@q(&x->member);
|
 drm_dev_get(d);
 ...
 drm_dev_put@q(d);
)

@script:python@
q << get.q;
@@
balanced.add((q[0].file, q[0].line))

@put depends on alloc@
type alloc.T;
T *x;
identifier alloc.member;
position p;
@@
 drm_dev_put@p(&x->member);

@put_alias depends on alloc@
type alloc.T;
T *x;
identifier alloc.member;
struct drm_device *d;
expression E;
position p;
@@
 d = &x->member
 ... when != d = E
 drm_dev_put@p(d);

@script:python depends on report@
p << put.p;
@@
if (p[0].file, p[0].line) not in balanced:
    coccilib.report.print_report(p[0], "drm_dev_put() on a device from devm_drm_dev_alloc(): devres already drops this reference")

@script:python depends on report@
p << put_alias.p;
@@
if (p[0].file, p[0].line) not in balanced:
    coccilib.report.print_report(p[0], "drm_dev_put() on a device from devm_drm_dev_alloc(): devres already drops this reference")

// ---- patch mode: the edits drmm-refactor planned ----

@pp depends on patch@
expression D;
position p;
@@
 drm_dev_put@p(D);

@script:python depends on pp@
p << pp.p;
@@
want("put", p)

@ppt depends on patch@
expression pp.D;
position pp.p, q;
@@
- drm_dev_put@p@q(D);

@script:python depends on ppt@
q << ppt.q;
@@
applied("put", q)
