"""The data of verification: a candidate patch, the stages it went through, its verdict.

A leaf of the stage (it imports only the compiled-lines proof's result), so that the
scratch tree, the effect stage, the series and the reports name them without importing
the verifier.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from refactor.verify.proof import Proof


class Verdict(enum.StrEnum):
    """What verification says of a patch (the JSON contract's `verdict`, by its value)."""

    VERIFIED = "verified"
    APPLY_FAILED = "apply-failed"
    UNSAFE = "unsafe"  # a lifetime invariant broken: the reason names it
    BUILD_FAILED = "build-failed"
    NEW_WARNING = "new-warning"
    NOT_BUILT = "not-built"  # the configuration does not build the changed code
    CHECKPATCH_FAILED = "checkpatch-failed"
    FINDING_REMAINS = "finding-remains"
    NEW_FINDING = "new-finding"
    NOT_CHECKED = "not-checked"


VERDICTS = tuple(v.value for v in Verdict)


@dataclass(frozen=True)
class Stage:
    name: str  # applies, semantic, builds, style, effect
    ok: bool
    reason: str  # one line; "" when ok
    log: str


@dataclass(frozen=True)
class Checked:
    """The verdict of one patch."""

    patch: str
    verdict: Verdict
    reason: str
    stages: tuple[Stage, ...]
    seconds: float
    arch: str = ""  # the architecture it was built for ("" when it was not)
    proof: Proof | None = None  # which of its hunks the compiler saw


@dataclass(frozen=True)
class Candidate:
    """A patch to verify.  Patches with the same `stack` (by default one driver's) apply
    in order on top of each other; `findings` are the finding ids it must remove (none for
    a patch from elsewhere) and `paths` the directories the effect stage sweeps."""

    id: str
    driver: str
    diff: str
    findings: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()  # what to re-sweep (module directories)
    config: str = ""  # the module's Kconfig symbol
    stack: str = ""
    family: str = ""  # the fix family, for the idempotence check


def touched_files(diff: str, deleted: bool = False) -> list[str]:
    """Files a unified diff changes (paths after b/; with `deleted`, also those it removes)."""
    pattern = r"^(?:\+\+\+ b|--- a)/(\S+)" if deleted else r"^\+\+\+ b/(\S+)"
    return sorted({m.group(1) for m in re.finditer(pattern, diff, re.M)})
