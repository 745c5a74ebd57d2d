// SPDX-License-Identifier: GPL-2.0-only
/// Test rule for the runner: report every devm_kzalloc() assigned to something.
// Confidence: High
// Options: --no-includes --include-headers
// Requires: 1.1

virtual report

@r depends on report@
expression dev, E;
position p;
@@
 E = devm_kzalloc@p(dev, ...)

@script:python depends on report@
p << r.p;
@@
coccilib.report.print_report(p[0], "devm_kzalloc here")
