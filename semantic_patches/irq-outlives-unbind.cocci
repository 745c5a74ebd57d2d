// SPDX-License-Identifier: GPL-2.0-only
/// An interrupt requested with request_irq() or request_threaded_irq() whose
/// dev_id is the drm_device, or memory that lives as long as it (the struct
/// that embeds it, drmm_ memory), and that is not freed on the removal path:
/// never freed at all, or freed only from the drm_driver.release hook or a
/// drmm_ release action, at the final drm_dev_put().  The handler stays on
/// the line after unbind: it runs on the unbound device's interrupts (and,
/// on a shared line, on every other device's) and reads the driver's data,
/// which the final drm_dev_put() frees while the handler is still
/// registered: a use-after-free.  An IRQ requested with devm_request_irq(),
/// or freed in the remove or unbind callback or a devm_ action, is released
/// at unbind and is not reported.
/// Fix: request it with devm_request_irq() (devm_request_threaded_irq()) on
/// the parent device, so that devres frees it at unbind.
//
// Confidence: High
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: request_irq, request_threaded_irq
// Comments: High where no free_irq() of the same dev_id is in the module
//  (or only on probe's error unwind);
//  Moderate (per finding) where the only free_irq() runs at the final
//  drm_dev_put(), since the damage then depends on what the handler touches
//  between unbind and the last close.  Under make coccicheck a request is
//  reported when the same file has no free_irq() with the same dev_id;
//  drmm-refactor looks for the free in every file of the module, follows
//  the module's calls up to the removal and release hooks, and keeps only
//  dev_ids its index shows to live as long as the drm_device.
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
expression irq, handler, thread, flags, name, data;
identifier i = {request_irq};
identifier t = {request_threaded_irq};
position p;
@@
(
 i@p(irq, handler, flags, name, data)
|
 t@p(irq, handler, thread, flags, name, data)
)

@freed depends on r@
expression irq2, r.data;
@@
 free_irq(irq2, data)

@script:python depends on r@
p << r.p;
i << r.i = "";
t << r.t = "";
irq << r.irq;
handler << r.handler;
data << r.data;
@@
if TOOL:
    emit(p, "irq", call=i or t, irq=irq, handler=handler, arg=data)

@script:python depends on r && !freed@
p << r.p;
i << r.i = "";
t << r.t = "";
data << r.data;
@@
if not TOOL:
    emit(p, "%s() with dev_id %s and no free_irq() of it: the handler outlives unbind; use devm_request_irq()" % (i or t, data))

// ---- patch mode: the edits drmm-refactor planned ----

@pi depends on patch@
expression irq, handler, thread, flags, name, data;
identifier i = {request_irq, request_threaded_irq};
position p;
@@
(
 i@p(irq, handler, flags, name, data)
|
 i@p(irq, handler, thread, flags, name, data)
)

@script:python pis depends on pi@
p << pi.p;
dev;
@@
op = want("devm-irq", p)
if op is not None:
    coccinelle.dev = cocci.make_expr(op["drm"])

@pit depends on patch@
expression pi.irq, pi.handler, pi.thread, pi.flags, pi.name, pi.data, pis.dev;
position pi.p, q;
@@
(
- request_irq@p@q(irq,
+ devm_request_irq(dev, irq,
  handler, flags, name, data)
|
- request_threaded_irq@p@q(irq,
+ devm_request_threaded_irq(dev, irq,
  handler, thread, flags, name, data)
)

@script:python depends on pit@
q << pit.q;
@@
applied("devm-irq", q)
