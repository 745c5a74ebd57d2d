"""The data of the semantic stage: a patch seen as whole files, and a broken invariant.

A leaf module, so that the modules holding checks (`drmm_checks`, the guard checks) and
`invariants`, which lists them, import it without importing each other.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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
