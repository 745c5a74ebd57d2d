"""What classification gives the later stages: a finding, a file the sweep could not
check, and the stable id of a finding.

A leaf module (it imports nothing of the package), so that every stage after the sweep
(the planners, generation, verification, series, reports) can name a Finding without
importing the orchestrator that makes them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    id: str
    rule: str
    confidence: str
    driver: str
    file: str
    line: int
    column: int
    function: str
    message: str
    fix: str
    helpers: tuple[str, ...] = ()  # the helpers the fix proposes, all declared by the tree
    data: tuple[tuple[str, str], ...] = ()  # what the rule matched, for the patch planner


@dataclass(frozen=True)
class Skipped:
    file: str
    rule: str
    reason: str  # parse-error, timeout, spatch-crash, unreadable, rule-error
    detail: str


def finding_id(rule: str, file: str, function: str, code: str) -> str:
    """Stable across unrelated edits: rule, file, function and the normalised code line."""
    key = "\0".join([rule, file, function, " ".join(code.split())])
    return hashlib.sha256(key.encode()).hexdigest()[:16]
