// SPDX-License-Identifier: GPL-2.0-only
/// drm_mode_config_init() leaves the mode configuration's cleanup to the
/// driver (drm_mode_config_cleanup() in its remove and error paths), where it
/// is easy to run too early or not at all.  drmm_mode_config_init() ties the
/// cleanup to the final drm_dev_put().
/// Fix: drmm_mode_config_init(), and drop drm_mode_config_cleanup().
//
// Confidence: Low
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: drm_mode_config_init
// Comments: Low: in recent trees drm_mode_config_init() already wraps the
//  managed version, so the finding is a clean-up more often than a bug.
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
expression D;
position p;
@@
 drm_mode_config_init@p(D)

@script:python depends on report@
p << r.p;
D << r.D;
@@
emit(p, "drm_mode_config_init() leaves the cleanup to the driver's own paths", arg=D)

// ---- patch mode: the edits drmm-refactor planned ----

@pm depends on patch@
expression D;
position p;
@@
 drm_mode_config_init@p(D)

@script:python pms depends on pm@
p << pm.p;
v;
st;
@@
op = PLAN.get(key("mode-config-checked", p))
if op is None:
    op = want("mode-config", p)
if op is not None:
    coccinelle.v = cocci.make_ident(op.get("var", "ret"))
    coccinelle.st = cocci.make_stmt(op.get("exit", "return ret;"))

@pmc depends on patch@
expression pm.D;
identifier pms.v;
statement pms.st;
position pm.p, q;
@@
(
- drm_mode_config_init@p@q(D);
+ v = drmm_mode_config_init(D);
+ if (v)
+ 	st
|
- drm_mode_config_init@p@q(D)
+ drmm_mode_config_init(D)
)

@script:python depends on pmc@
q << pmc.q;
@@
for k in ("mode-config-checked", "mode-config"):
    if PLAN.get(key(k, q)) is not None:
        applied(k, q)
