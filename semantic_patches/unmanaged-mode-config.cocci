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

virtual report

@initialize:python@
@@
import json, os
# drmm-refactor sets DRMM_REFACTOR=1: then every candidate is reported with the
# expressions matched (after a tab, as JSON) and its struct index decides.
TOOL = bool(os.environ.get("DRMM_REFACTOR"))

def emit(p, msg, **data):
    coccilib.report.print_report(p[0], msg + ("\t" + json.dumps(data) if TOOL else ""))

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
