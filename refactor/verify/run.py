"""Verify: give every generated patch a verdict before a maintainer sees it.

Stages, each with its log; a patch fails at the first stage that fails:

1. applies: `git apply --check` in a scratch worktree of the tree, or `patch --dry-run`
   in a hard-linked copy of a tree without git (the user's checkout is never touched), on
   top of the driver's patches before it;
2. semantic: the lifetime invariants of `invariants.py` hold for the driver's files
   before and after the patch (no drmm_ memory freed by hand, no new goto to a teardown
   of what is not set up yet, ...); a broken one makes the verdict `unsafe`, with the
   invariant named in the reason;
3. builds: the touched objects compile in the real kernel build (a build directory per
   tree and configuration, prepared once and kept in the cache) before and after the
   patch, with W=1; a new compiler warning fails.  A file the configuration does not
   build, or whose patched functions the compiler never saw, is `not-built` with the
   Kconfig symbol that is off, and so is one that does not build before the patch either;
4. style: `scripts/checkpatch.pl --strict -f` on each touched file before and after: no
   error, warning or check the original did not have;
5. effect: a re-sweep of the patched driver no longer reports the fixed findings and
   reports nothing that the same sweep before the patch did not, and generating again
   changes nothing.

Compiler and checkpatch results are cached by file contents (plus configuration and
tool versions), so a second verification of the same patches does no compiling.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from refactor.infra import git
from refactor.infra.cache import cache_dir
from refactor.infra.errors import RefactorError
from refactor.invariants import checks as invariants
from refactor.verify import prereqs
from refactor.verify.build import Build, Builds, ResultCache, arch_env, compile_file
from refactor.verify.checked import Candidate, Checked, Stage, Verdict, touched_files
from refactor.verify.checkpatch import checkpatch_file
from refactor.verify.effect import Effect
from refactor.verify.proof import Proof, prove
from refactor.verify.scratch import apply_patch, first_line, scratch, undo


def _stage_build(work: Path, build: Build, cand: Candidate, before: dict[str, dict[str, Any]],
                 cache: ResultCache) -> tuple[Stage, Proof | None]:  # fmt: skip
    """Compile the touched .c files (no error, no new warning), then prove that every hunk
    is in a translation unit the compiler saw (`proof.prove`)."""
    logs = []
    for rel in [f for f in touched_files(cand.diff) if f.endswith(".c")]:
        after = compile_file(work, build, rel, cache)
        logs.append(f"$ make W=1 {rel[:-2]}.o\n{after['log']}")
        if not after["ok"]:
            was = before.get(rel)
            if was is not None and not was["ok"]:  # the arch cannot build it: not the patch's doing
                why = f"does not build for {build.arch} before the patch either: {was['error']}"
                return Stage("not-built", False, f"{rel}: {why}", "\n".join(logs)), None
            return Stage("builds", False, f"{rel}: {after['error']}", "\n".join(logs)), None
        new = sorted(set(after["warnings"]) - set(before.get(rel, {}).get("warnings", [])))
        if new:
            return Stage("new-warning", False, f"{rel}: {new[0]}", "\n".join(logs)), None
    proof = prove(work, build, cand.diff, cache)
    logs.append(f"$ make {build.arch} .i with a marker per hunk: {proof.text()}")
    if proof.missing:
        symbol = cand.config if cand.config and not build.enabled(cand.config) else ""
        why = f"{symbol} is off" if symbol and "file is not built" in proof.why else proof.why
        n = len(proof.missing)
        more = f" (and {n - 1} more)" if n > 1 else ""
        return Stage("not-built", False, f"{proof.missing[0]}{more} not compiled for {build.arch}: {why}",
                     "\n".join(logs)), proof  # fmt: skip
    return Stage("builds", True, "", "\n".join(logs)), proof


def _stage_style(work: Path, cand: Candidate, before: dict[str, list[str]], cache: ResultCache) -> Stage:
    logs = []
    for rel in touched_files(cand.diff):
        after = checkpatch_file(work, rel, cache)
        new = list((Counter(after) - Counter(before.get(rel, []))).elements())
        logs.append(f"$ checkpatch.pl --strict -f {rel}\n" + "\n".join(after))
        bad = [p for p in new if p.startswith(("ERROR", "WARNING", "CHECK"))]
        if bad:
            return Stage("checkpatch-failed", False, f"{rel}: {bad[0]}", "\n".join(logs))
    return Stage("style", True, "", "\n".join(logs))


def verify(
    tree: Path,
    candidates: Sequence[Candidate],
    *,
    arch: str = "",
    jobs: int = 2,
    use_cache: bool = True,
    effect: Effect | None = None,
) -> tuple[list[Checked], int, float]:
    """Verdicts for `candidates` (in order; one stack's patches apply on top of each
    other).  Each stack is built for its driver's own architecture (`Builds.choose`),
    or for `arch` when one is given.  `effect` runs the effect stage: its baseline is a
    sweep of the same paths in the scratch tree before the stack (then after each
    patch), so that a finding counts as new only against the same sweep; None skips it.
    Returns the verdicts, the cache hits and the seconds taken."""
    start = time.monotonic()
    if arch:
        arch_env(arch)  # an unknown or missing cross compiler is the user's error
    cache = ResultCache(cache_dir() / "results", enabled=use_cache)
    checks: list[Checked] = []
    why = unverifiable(tree, arch)
    if why:
        return [Checked(c.id, Verdict.NOT_CHECKED, why, (), 0.0) for c in candidates], 0, 0.0
    with scratch(tree) as work:
        builds = Builds(tree, work, jobs, forced=arch)
        stacks: dict[str, list[Candidate]] = {}
        for c in candidates:
            stacks.setdefault(c.stack or c.driver, []).append(c)
        for cands in stacks.values():
            checks += _verify_stack(tree, work, builds, cands, cache, effect)
    return checks, cache.hits, time.monotonic() - start


def _verify_stack(tree: Path, work: Path, builds: Builds, cands: Sequence[Candidate], cache: ResultCache,
                  effect: Effect | None) -> list[Checked]:  # fmt: skip
    """The verdicts of one stack's patches, applied in order on top of each other in the
    scratch tree `work`, and taken out again afterwards."""
    files = sorted({f for c in cands for f in touched_files(c.diff)})
    directory = cands[0].paths[0] if cands[0].paths else os.path.dirname(files[0] if files else "")
    try:
        build, no_build, compiled = _choose(work, builds, directory, cands[0].config, files, cache)
    except RefactorError as exc:
        return [Checked(c.id, Verdict.NOT_CHECKED, f"no build directory: {exc}", (), 0.0) for c in cands]
    styled = {f: checkpatch_file(work, f, cache) for f in files if (work / f).is_file()}
    checks: list[Checked] = []
    failed_before = ""
    applied: list[str] = []
    before: frozenset[str] | None = None  # the stack's findings now, once swept
    for cand in cands:
        t0 = time.monotonic()
        stages: list[Stage] = []
        proof = None
        if failed_before:
            why = f"it applies on top of {failed_before}, which failed"
            checks.append(Checked(cand.id, Verdict.NOT_CHECKED, why, (), 0.0))
            continue
        if effect is not None and cand.paths and before is None:
            before = effect.baseline(work, cand)
        res = apply_patch(work, cand.diff, check_only=True)
        stages.append(Stage("applies", res.ok, first_line(res.stderr), res.stderr))
        if res.ok:
            was = _texts(work, touched_files(cand.diff, deleted=True))
            apply_patch(work, cand.diff, check_only=False)
            applied.append(cand.diff)
            stages.append(stage_semantic(work, cand, was))
        if stages[-1].ok and res.ok:
            if build is None:
                stages.append(Stage("not-built", False, no_build, ""))
            else:
                stage, proof = _stage_build(work, build, cand, compiled, cache)
                stages.append(stage)
        if stages[-1].ok:
            stages.append(_stage_style(work, cand, styled, cache))
        if stages[-1].ok and effect is not None and cand.paths and before is not None:
            stage, before = effect(work, cand, before)
            stages.append(stage)
        elif res.ok:
            before = None  # the tree changed without a sweep: take a new baseline
        verdict, reason = _verdict(stages)
        if verdict not in (Verdict.VERIFIED, Verdict.NOT_BUILT):
            failed_before = cand.id
        checks.append(Checked(cand.id, verdict, reason, tuple(stages), time.monotonic() - t0,
                              build.arch if build is not None else "", proof))  # fmt: skip
    undo(tree, work, applied)
    return checks


def _choose(work: Path, builds: Builds, directory: str, symbol: str, files: Sequence[str], cache: ResultCache,
            ) -> tuple[Build | None, str, dict[str, dict[str, Any]]]:  # fmt: skip
    """The build for a stack, and its files compiled before the patches: the driver's
    first architecture, or the next one its Kconfig allows when a file does not build
    there even without a patch (an ARM driver under COMPILE_TEST using what x86 lacks)."""
    skip: list[str] = []
    first: tuple[Build, dict[str, dict[str, Any]]] | None = None
    while True:
        build, why = builds.choose(directory, symbol, skip)
        if build is None:  # none left: the first one, whose failure before the patch is the answer
            return (first[0], "", first[1]) if first else (None, why, {})
        compiled = {f: compile_file(work, build, f, cache) for f in files
                    if f.endswith(".c") and (work / f).is_file()}  # fmt: skip
        if builds.forced or all(r["ok"] for r in compiled.values()):
            return build, "", compiled
        first = first or (build, compiled)
        skip.append(build.arch)


def unverifiable(tree: Path, arch: str = "") -> str:
    """Why patches for `tree` cannot be verified here ("" when they can).  With no `arch`
    (each driver built for its own), the host's build tools are checked here and a cross
    compiler when a driver's build directory is prepared."""
    if not (tree / "Makefile").is_file() or not (tree / "scripts/checkpatch.pl").is_file():
        return "the tree is not a kernel source tree that builds: no Makefile or scripts/checkpatch.pl"
    return prereqs.check((arch or "x86_64",), git=git.is_repo(tree))


def _texts(work: Path, files: Sequence[str]) -> dict[str, str]:
    return {f: (work / f).read_text(errors="surrogateescape") if (work / f).is_file() else "" for f in files}


def stage_semantic(work: Path, cand: Candidate, before: dict[str, str]) -> Stage:
    """The lifetime invariants over the driver's files, `before` (touched file -> text
    before the patch) against the patched tree `work`."""
    files = tuple(sorted(before))
    paths = cand.paths or tuple(sorted({os.path.dirname(f) for f in files}))
    after = _texts(work, files)
    change = invariants.Change(cand.id, cand.driver, cand.family, files, before, after, paths, work)
    found = invariants.check(change)
    log = "\n".join(f"{v.file}:{v.line}: [{v.invariant}] {v.reason}" for v in found)
    return Stage("semantic", not found, invariants.reason(found), log)


def _verdict(stages: list[Stage]) -> tuple[Verdict, str]:
    names = {"applies": "apply-failed", "semantic": "unsafe", "builds": "build-failed",
             "style": "checkpatch-failed"}  # fmt: skip
    for s in stages:
        if not s.ok:
            return Verdict(names.get(s.name, s.name)), s.reason  # effect stages are named by their verdict
    return Verdict.VERIFIED, ""
