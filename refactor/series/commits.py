"""The data of a series: the options of a run, a commit, a series of them, and what was
written."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refactor.generate.run import Patch


@dataclass(frozen=True)
class Options:
    out: Path
    branch: str
    split: str = "one"
    version: int = 1
    reroll: bool = False
    dry_run: bool = False
    include_unverified: bool = False
    force: bool = False
    arch: str = ""  # --arch: every patch built for it ("" for each driver's own)


@dataclass(frozen=True)
class Commit:
    patch: Patch
    subject: str
    message: str  # the whole commit message, subject first
    verdict: str
    reason: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    arch: str = ""  # what it was built for
    proof: str = ""  # "3/3 hunks compiled (arm64)"


@dataclass(frozen=True)
class Series:
    key: str  # "" for the only series, else the driver or family
    branch: str
    version: int
    base: str
    change_id: str
    subject: str  # of the cover letter
    cover: str  # its text, before the shortlog
    commits: tuple[Commit, ...]
    out: Path
    previous: dict[str, Any] | None  # series.json of the version before (--reroll)
    prerequisite: str = ""  # change-id:vN of the series this one applies on


@dataclass(frozen=True)
class Written:
    series: Series
    files: tuple[Path, ...]
    start: str  # the commit the series' first patch applies on
    tip: str
