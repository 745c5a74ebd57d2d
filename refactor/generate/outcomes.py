"""What came of each finding's fix: one frozen outcome per finding, the way LibCST's
codemod runner counts `TransformSuccess`/`TransformFailure`/`TransformSkip`.

A finding is patched (the id of its patch), refused (the planner, or the lifetime
invariants, judged that a person must fix it), failed (a planned fix the semantic
patches did not make, or spatch failing), or report only (its rule has no fix family).
The reports show the reason as it is; the kinds let the code decide without parsing it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Outcome(enum.StrEnum):
    PATCHED = "patched"
    REFUSED = "refused"
    FAILED = "failed"  # generation failed: planned, but no patch came of it
    REPORT_ONLY = "report-only"


class Why(enum.StrEnum):
    """Why a finding has no patch: which stage said so."""

    PLANNER = "planner"  # refused: the planner cannot fix it safely (a Refusal)
    UNSAFE = "unsafe"  # refused: the patch would break a lifetime invariant
    NOT_MADE = "not-made"  # failed: the semantic patch did not make a planned edit, or changed nothing
    SPATCH = "spatch"  # failed: spatch timed out or exited with an error (may not recur: not cached)
    NO_FAMILY = "no-family"  # report only: the rule has no fix family


KIND = {Why.PLANNER: Outcome.REFUSED, Why.UNSAFE: Outcome.REFUSED, Why.NOT_MADE: Outcome.FAILED,
        Why.SPATCH: Outcome.FAILED, Why.NO_FAMILY: Outcome.REPORT_ONLY}  # fmt: skip


@dataclass(frozen=True)
class Fixed:
    """The outcome of one finding: its patch, or why it has none."""

    finding: str
    patch: str = ""  # the id of the patch that fixes it ("" when none does)
    why: Why | None = None  # None when patched
    reason: str = ""  # the sentence the reports show ("" when patched)

    @property
    def outcome(self) -> Outcome:
        return Outcome.PATCHED if self.why is None else KIND[self.why]


def patched(finding: str, patch: str) -> Fixed:
    return Fixed(finding, patch)


def unfixed(finding: str, why: Why, reason: str) -> Fixed:
    return Fixed(finding, "", why, reason)


@dataclass(frozen=True)
class Failure:
    """Why a plan gave no patch (the reason is each of its findings')."""

    why: Why
    reason: str
