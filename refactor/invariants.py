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

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Violation:
    """One broken invariant: a stable id, where (the patched file), and why in one line."""

    invariant: str  # e.g. "guard-skips-acquire", "drmm-freed-by-hand"
    file: str  # relative to the tree root
    line: int  # 1-based, in the patched file
    reason: str  # one line naming the function and the resources


@dataclass(frozen=True)
class Change:
    """One patch, seen as whole files."""

    patch: str  # the patch id
    driver: str
    family: str  # the fix family (drm-guards, drmm-alloc, ...)
    files: tuple[str, ...]  # the files the patch touches, relative to the root
    before: Mapping[str, str]  # file -> text before the patch ("" for a new file)
    after: Mapping[str, str]  # file -> text after the patch ("" for a deleted file)
    paths: tuple[str, ...]  # the driver's module directories, relative to the root
    root: Path  # the tree with the patch applied (read only)


Check = Callable[[Change], list[Violation]]

CHECKS: tuple[Check, ...] = ()


def check(change: Change, checks: Sequence[Check] = CHECKS) -> list[Violation]:
    """Every violation the patch makes, in the order of `checks`, then by file and line."""
    found: list[Violation] = []
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
