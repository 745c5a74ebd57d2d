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

virtual report

@initialize:python@
@@
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
