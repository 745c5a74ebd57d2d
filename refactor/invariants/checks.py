"""The semantic stage of verification: lifetime invariants a patch must not break.

A patch that applies, builds and passes checkpatch can still add a bug (a guard that skips
an acquire its unguarded counterpart releases, a drmm-managed object freed by hand, a new
`goto` to a label that tears down what is not yet initialised, `drm_dev_unplug()` with a
teardown that still frees what userspace reaches).  Each check reads the patch as whole
files before and after it, and the rest of the driver's module from the patched tree, and
returns the invariants it breaks; any violation makes the verdict `unsafe`.

Checks are plain functions `Change -> list[Violation]`, listed in `CHECKS`; each fix
family's checks live beside that family's code and are registered here.
"""

from __future__ import annotations

from collections.abc import Sequence

from refactor.invariants import drmm_checks
from refactor.invariants.drmm_checks import DRMM_CHECKS
from refactor.invariants.guard_invariants import GUARD_CHECKS
from refactor.invariants.irq_checks import IRQ_CHECKS
from refactor.invariants.types import Change, Check, Violation
from refactor.invariants.unwind_checks import UNWIND_CHECKS

__all__ = ["CHECKS", "Change", "Check", "Violation", "check", "reason"]


# the drmm_ families' checks (drmm_checks.py, their new error exits: unwind_checks.py), the
# devm-irq family's (irq_checks.py), then the drm-guards family's (guard_invariants.py)
CHECKS: tuple[Check, ...] = (*DRMM_CHECKS, *UNWIND_CHECKS, *IRQ_CHECKS, *GUARD_CHECKS)


def check(change: Change, checks: Sequence[Check] = CHECKS) -> list[Violation]:
    """Every violation the patch makes, in the order of `checks`, then by file and line."""
    found: list[Violation] = []
    with drmm_checks.held(change):  # the drmm_ checks share one before/after model
        for c in checks:
            found += sorted(c(change), key=lambda v: (v.file, v.line, v.invariant))
    return found


def reason(violations: Sequence[Violation]) -> str:
    """The verdict's one-line reason: the first violation, and how many more."""
    if not violations:
        return ""
    v = violations[0]
    more = f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""
    return f"{v.invariant}: {v.file}:{v.line}: {v.reason}{more}"
