// SPDX-License-Identifier: GPL-2.0-only
/// A rule spatch rejects: the metavariable list is never closed.
// Confidence: Low

virtual report

@r depends on report
expression E;
@@
 foo(E)
