"""Bisectability: every commit of a series builds the objects it touches on its own.

Verification checks one driver's patches in order from the base commit; a series puts
the drivers (and, with --split per-rule, the families) one after the other, so a commit
can meet changes verification did not see before it: a file two drivers share, a header
an earlier commit changed.  Here the commits are applied in the series' order in a
scratch tree, and after each one the .c files it touches are compiled for the
architecture its patch was verified on.  A commit that does not build is a defect
reported with its verdict: `build-failed` (and the later commit it builds on top of, when
one makes it build), or `apply-failed` when it does not apply in that order.  Compiler
results come from the same cache as verification's, keyed also by the headers the
series changed so far, so an unchanged order costs no compiling.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from refactor.infra.cache import cache_dir
from refactor.infra.errors import RefactorError
from refactor.series.commits import Series
from refactor.verify import scratch
from refactor.verify.build import Build, Builds, ResultCache, compile_file
from refactor.verify.checked import Checked, Verdict, touched_files


@dataclass(frozen=True)
class Step:
    """One commit of the series as bisecting meets it."""

    patch: str  # the patch id of the commit
    subject: str
    verdict: str  # "verified" when it builds on its own; else apply-failed, build-failed
    reason: str
    arch: str


@dataclass
class _Failing:
    index: int
    file: str
    error: str
    build: Build
    state: bytes  # the file and headers when it failed: compiled again only when they change


def check(tree: Path, series: Sequence[Series], checks: Sequence[Checked], *, arch: str = "",
          jobs: int = 2, use_cache: bool = True) -> list[Step]:  # fmt: skip
    """Apply the commits of `series` (series.Series, in order; a series with a
    prerequisite continues from the one before) and build each one's touched objects."""
    if not any(s.commits for s in series):
        return []
    arch_of = {c.patch: c.arch for c in checks}
    cache = ResultCache(cache_dir() / "results", enabled=use_cache)
    steps: list[Step] = []
    with scratch.scratch(tree) as work:
        builds = Builds(tree, work, jobs, forced=arch)
        applied: list[str] = []
        failing: dict[int, _Failing] = {}
        for s in series:
            if not s.prerequisite and applied:
                _settle(steps, failing)
                scratch.undo(tree, work, applied)
                applied = []
            for c in s.commits:
                pid, a = c.patch.id, arch or arch_of.get(c.patch.id, "") or c.arch  # what verify built it for
                res = scratch.apply_patch(work, c.patch.diff, check_only=True)
                if not res.ok:
                    why = f"does not apply on top of the commits before it: {scratch.first_line(res.stderr)}"
                    steps.append(Step(pid, c.subject, "apply-failed", why, a))
                    continue
                scratch.apply_patch(work, c.patch.diff, check_only=False)
                applied.append(c.patch.diff)
                steps.append(Step(pid, c.subject, "verified", "", a))
                if not a:  # never built (an unverified patch included on request)
                    continue
                try:
                    build = builds.get(a)
                except RefactorError as exc:
                    steps[-1] = Step(pid, c.subject, "not-checked", f"no build directory: {exc}", a)
                    continue
                salt = _headers(work, applied)
                for rel in (f for f in touched_files(c.patch.diff) if f.endswith(".c")):
                    r = compile_file(work, build, rel, cache, salt)
                    if not r["ok"]:
                        failing[len(steps) - 1] = _Failing(len(steps) - 1, rel, r["error"], build,
                                                           _state(work, rel, salt))  # fmt: skip
                        break
                for k, f in list(failing.items()):  # does this commit make an earlier one build?
                    if k == len(steps) - 1 or _state(work, f.file, salt) == f.state:
                        continue
                    f.state = _state(work, f.file, salt)
                    if compile_file(work, f.build, f.file, cache, salt)["ok"]:
                        why = (f"{f.file} does not build on its own ({f.error}); it builds on top of "
                               f"the later commit \"{c.subject}\"")  # fmt: skip
                        steps[k] = dataclasses.replace(steps[k], verdict="build-failed", reason=why)
                        del failing[k]
        _settle(steps, failing)
        scratch.undo(tree, work, applied)
    return steps


def _settle(steps: list[Step], failing: dict[int, _Failing]) -> None:
    """The commits that no later commit made build."""
    for k, f in failing.items():
        steps[k] = dataclasses.replace(steps[k], verdict="build-failed",
                                       reason=f"{f.file} does not build on its own: {f.error}")  # fmt: skip
    failing.clear()


def _headers(work: Path, applied: Sequence[str]) -> bytes:
    """The headers the series has changed so far, as a cache salt: a .c file's build
    result depends on them, not only on its own text."""
    headers = sorted({f for d in applied for f in touched_files(d) if not f.endswith(".c")})
    h = hashlib.sha256()
    for rel in headers:
        h.update(rel.encode() + b"\0" + ((work / rel).read_bytes() if (work / rel).is_file() else b""))
    return h.hexdigest().encode() if headers else b""  # none: the same key as verification's


def _state(work: Path, rel: str, salt: bytes) -> bytes:
    return hashlib.sha256((work / rel).read_bytes() + b"\0" + salt).digest()


def mark(checks: Sequence[Checked], steps: Sequence[Step]) -> list[Checked]:
    """`checks` with the verdicts of the commits that do not build on their own."""
    bad = {s.patch: s for s in steps if s.verdict not in ("verified", "not-checked")}
    return [dataclasses.replace(c, verdict=Verdict(bad[c.patch].verdict),
                                reason=f"in the series: {bad[c.patch].reason}")
            if c.patch in bad else c for c in checks]  # fmt: skip


def summary(steps: Sequence[Step]) -> str:
    """One line for the series report, and a line per commit that is not bisectable."""
    bad = [s for s in steps if s.verdict not in ("verified", "not-checked")]
    built = sum(1 for s in steps if s.verdict == "verified" and s.arch)
    lines = [f"bisectable: {built} of {len(steps)} commits build their touched objects on their own"
             + (f"; {len(bad)} do not:" if bad else "")]  # fmt: skip
    lines += [f"  {s.patch} {s.verdict}: {s.reason}" for s in bad]
    return "\n".join(lines) + "\n"
