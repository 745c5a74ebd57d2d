// SPDX-License-Identifier: GPL-2.0-only
/// A drm_mode_config_cleanup() called by hand on the removal path (remove,
/// unbind, a legacy .unload, a devm action) or on an error path.  Since the
/// managed helpers arrived, drm_mode_config_init() is an inline wrapper of
/// drmm_mode_config_init(), which already cleans the mode config up at the
/// final drm_dev_put(): the manual call tears the mode objects down at unbind
/// while an open file can still reach them, and calls the .destroy hook of
/// every object, which drmm_ objects must not have.
/// Fix: remove every manual drm_mode_config_cleanup(), once every mode object
/// lives in drm-lifetime memory without a .destroy hook.
//
// Confidence: Low
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: drm_mode_config_cleanup
// Comments: Low: removing the call is only right once every mode object is
//  drm-lifetime; drmm-refactor checks that over all the driver's files, skips
//  calls in a drm_driver.release hook or a drmm_ action, and names the path
//  (error or removal) the call is on.
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
 drm_mode_config_cleanup@p(D)

@script:python depends on report@
p << r.p;
D << r.D;
@@
emit(p, "drm_mode_config_cleanup() by hand: drmm_mode_config_init(), which drm_mode_config_init() wraps, "
     "already cleans up at the final drm_dev_put()", arg=D)

// ---- patch mode: the edits drmm-refactor planned ----

@pm depends on patch@
expression D;
position p;
@@
 drm_mode_config_cleanup@p(D);

@script:python depends on pm@
p << pm.p;
@@
want("mode-config-cleanup", p)

@pmc depends on patch@
expression pm.D;
position pm.p, q;
@@
- drm_mode_config_cleanup@p@q(D);

@script:python depends on pmc@
q << pmc.q;
@@
applied("mode-config-cleanup", q)
