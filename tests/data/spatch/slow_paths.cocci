// SPDX-License-Identifier: GPL-2.0-only
/// Test rule for the runner: a path search that explodes on long if-chains (timeouts),
/// plus the devm_kzalloc report of find_devm_kzalloc.cocci for the other files.
// Confidence: Low
// Options: --no-includes

virtual report

@slow depends on report@
identifier f, g;
expression E, F;
position p;
@@
f(...) {
<+...
E += g(...);
... when != E
F -= bar@p(...);
...+>
}

@r depends on report@
expression dev, E;
position p;
@@
 E = devm_kzalloc@p(dev, ...)

@script:python depends on report@
p << slow.p;
@@
coccilib.report.print_report(p[0], "slow path")

@script:python depends on report@
p << r.p;
@@
coccilib.report.print_report(p[0], "devm_kzalloc here")
