// SPDX-License-Identifier: GPL-2.0-only
/// devm_drm_dev_alloc() on a parent device that never has a driver bound:
/// root_device_register(), or a platform device registered by a module that
/// registers no platform driver for it.  devres of such a device is released
/// only on its final put, which waits for the drm_device, which waits for
/// devres: nothing is ever freed (also when the module hands the parent to its own
/// function that allocates on it).  A devres group opened on the parent and
/// released by hand (devres_open_group()) avoids the cycle and is not
/// reported.
/// Fix: none generated; bind a driver to the parent (a platform device and
/// driver), or use drm_dev_alloc() with an explicit drm_dev_put().
//
// Confidence: High
// Options: --no-includes --include-headers
// Requires: 1.1
// Keywords: root_device_register, platform_device_register_simple, platform_device_register_full, platform_device_alloc

virtual report

@initialize:python@
@@
import json, os
# drmm-refactor sets DRMM_REFACTOR=1: then every candidate is reported with the
# expressions matched (after a tab, as JSON) and its struct index decides.
TOOL = bool(os.environ.get("DRMM_REFACTOR"))

def emit(p, msg, **data):
    coccilib.report.print_report(p[0], msg + ("\t" + json.dumps(data) if TOOL else ""))

@parent depends on report@
expression P;
identifier src = {root_device_register, platform_device_register_simple,
                  platform_device_register_full, platform_device_alloc,
                  platform_device_register_data, platform_device_register_resndata};
@@
 P = src(...)

@grouped@
expression parent.P;
@@
(
 devres_open_group(P, ...)
|
 devres_open_group(&P->dev, ...)
)

@alloc@
expression parent.P;
position p;
@@
(
 devm_drm_dev_alloc@p(P, ...)
|
 devm_drm_dev_alloc@p(&P->dev, ...)
|
 __devm_drm_dev_alloc@p(P, ...)
|
 __devm_drm_dev_alloc@p(&P->dev, ...)
)

@script:python depends on alloc && !grouped@
p << alloc.p;
P << parent.P;
src << parent.src;
@@
if TOOL or src == "root_device_register":
    emit(p, "the parent %s comes from %s() and never has a driver bound: its devres is only released on its final put, which waits for the drm_device, which waits for devres" % (P, src),
         parent=P, source=src)

// the parent handed to a function of the module (rocket_device_init(drm_dev, ...)): the
// tool follows it into the callee, where devm_drm_dev_alloc() is on &param->dev
@passed depends on report && !alloc@
expression parent.P;
identifier f;
position p;
@@
 f@p(..., P, ...)

@script:python depends on passed && !grouped@
p << passed.p;
P << parent.P;
src << parent.src;
f << passed.f;
@@
if TOOL:
    emit(p, "candidate", parent=P, source=src, callee=f)

