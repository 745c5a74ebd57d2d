"""The data of a series: the options of a run, a commit, a series of them, and what was
written (and its text for the terminal)."""

from __future__ import annotations

from collections.abc import Sequence
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


def series_text(written: Sequence[Written], left_out: Sequence[tuple[Patch, str]], dry_run: bool) -> str:
    """What `series` wrote (or would write), and the patches it left out."""
    out = []
    for w in written:
        s = w.series
        verb, made = ("would write", " not created") if dry_run else ("wrote", "")
        out.append(f"{verb} {len(s.commits)} patch{'es' * (len(s.commits) > 1)} v{s.version} to {s.out} "
                   f"(branch {s.branch}{made}, change-id {s.change_id})")  # fmt: skip
        out += [f"  {f.name}" for f in w.files]
    if left_out:
        out.append(
            f"left out {len(left_out)} patch{'es' * (len(left_out) > 1)} (--include-unverified adds them):"
        )
        out += [f"  {p.id} {p.driver} {p.family}: {why}" for p, why in left_out]
    if not written:
        out.append("no verified patch: nothing to write")
    return "\n".join(out) + "\n"
