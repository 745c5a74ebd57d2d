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

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from refactor.cocci.spatch import Rule, Spatch
from refactor.infra import proc
from refactor.infra.cache import cache_dir
from refactor.infra.errors import RefactorError
from refactor.invariants import checks as invariants
from refactor.verify import prereqs
from refactor.verify import scratch as scratch_tree
from refactor.verify.build import FORMAT as _FORMAT
from refactor.verify.build import Build, Builds, ResultCache, arch_env, compile_file
from refactor.verify.proof import Proof, prove

VERDICTS = ("verified", "apply-failed", "unsafe", "build-failed", "new-warning", "not-built",
            "checkpatch-failed", "finding-remains", "new-finding", "not-checked")  # fmt: skip
_CHECKPATCH = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+): (?P<kind>ERROR|WARNING|CHECK):(?:(?P<type>[A-Z_0-9]+):)? (?P<msg>.*)$"
)


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
    verdict: str
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


# -- the scratch tree --------------------------------------------------------------------
def scratch(tree: Path) -> contextlib.AbstractContextManager[Path]:
    """Somewhere to apply patches that is not the user's checkout: a clone of HEAD, or for
    a tree without git a copy of hard links, at a stable path in the cache (verify/scratch.py)."""
    return scratch_tree.scratch(tree)


def worktree(tree: Path) -> contextlib.AbstractContextManager[Path]:
    """A clean checkout of a git `tree`'s HEAD that is not the user's (verify/scratch.py)."""
    return scratch_tree.clone(tree)


def _is_git(work: Path) -> bool:
    return (work / ".git").exists()


# -- checkpatch --------------------------------------------------------------------------------
def checkpatch_file(work: Path, rel: str, cache: ResultCache) -> list[str]:
    """`checkpatch.pl --strict -f` problems of a file as "KIND: message: line text"
    (without line numbers, so the same problem before and after compares equal)."""
    content = (work / rel).read_bytes()
    script = work / "scripts/checkpatch.pl"
    key = hashlib.sha256(
        b"\0".join([_FORMAT, b"checkpatch", script.read_bytes(), rel.encode(), content])
    ).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return list(hit["problems"])
    res = proc.run(["perl", str(script), "--strict", "--terse", "--no-summary", "--show-types", "-f", rel],
                   cwd=work, timeout=600)  # fmt: skip
    lines = content.decode(errors="replace").splitlines()
    problems = []
    for line in res.stdout.splitlines():
        m = _CHECKPATCH.match(line)
        if m:
            n = int(m.group("line"))
            code = " ".join(lines[n - 1].split()) if 0 < n <= len(lines) else ""
            problems.append(f"{m.group('kind')}: {m.group('msg')}: {code}")
    cache.put(key, {"problems": problems})
    return problems


# -- the stages ------------------------------------------------------------------------------
def _apply(work: Path, diff: str, check_only: bool) -> proc.Completed:
    """`git apply` in a worktree; `patch` (no fuzz) in a copy of a tree without git."""
    if _is_git(work):
        args = ["git", "apply", "-p1", "--whitespace=nowarn", *(["--check"] if check_only else []), "-"]
    else:
        args = ["patch", "-p1", "-F0", "-N", "-s", "--no-backup-if-mismatch", "-r", "-",
                *(["--dry-run"] if check_only else [])]  # fmt: skip
        if not check_only:
            for rel in touched_files(diff):
                _unlink_shared(work / rel)
    res = proc.run(args, cwd=work, stdin=diff, timeout=120)
    if not res.ok and not res.stderr.strip():  # patch says why on stdout
        return dataclasses.replace(res, stderr=res.stdout)
    return res


def _unlink_shared(path: Path) -> None:
    """Give a hard-linked file of a scratch copy its own inode before it is written."""
    if path.is_file() and path.stat().st_nlink > 1:
        tmp = path.with_name(path.name + ".drmm-tmp")
        shutil.copy2(path, tmp)
        os.replace(tmp, path)


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


class Effect(Protocol):
    """The effect stage, as `verify()` calls it (see `effect_stage`)."""

    def baseline(self, work: Path, cand: Candidate) -> frozenset[str]: ...

    def __call__(
        self, work: Path, cand: Candidate, before: frozenset[str]
    ) -> tuple[Stage, frozenset[str]]: ...


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
        return [Checked(c.id, "not-checked", why, (), 0.0) for c in candidates], 0, 0.0
    with scratch(tree) as work:
        builds = Builds(tree, work, jobs, forced=arch)
        stacks: dict[str, list[Candidate]] = {}
        for c in candidates:
            stacks.setdefault(c.stack or c.driver, []).append(c)
        for cands in stacks.values():
            files = sorted({f for c in cands for f in touched_files(c.diff)})
            directory = cands[0].paths[0] if cands[0].paths else os.path.dirname(files[0] if files else "")
            try:
                build, no_build, compiled = _choose(work, builds, directory, cands[0].config, files, cache)
            except RefactorError as exc:
                checks += [Checked(c.id, "not-checked", f"no build directory: {exc}", (), 0.0) for c in cands]
                continue
            styled = {f: checkpatch_file(work, f, cache) for f in files if (work / f).is_file()}
            failed_before = ""
            applied: list[str] = []
            before: frozenset[str] | None = None  # the stack's findings now, once swept
            for cand in cands:
                t0 = time.monotonic()
                stages: list[Stage] = []
                proof = None
                if failed_before:
                    why = f"it applies on top of {failed_before}, which failed"
                    checks.append(Checked(cand.id, "not-checked", why, (), 0.0))
                    continue
                if effect is not None and cand.paths and before is None:
                    before = effect.baseline(work, cand)
                res = _apply(work, cand.diff, check_only=True)
                stages.append(Stage("applies", res.ok, _first_line(res.stderr), res.stderr))
                if res.ok:
                    was = _texts(work, touched_files(cand.diff, deleted=True))
                    _apply(work, cand.diff, check_only=False)
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
                if verdict not in ("verified", "not-built"):
                    failed_before = cand.id
                checks.append(Checked(cand.id, verdict, reason, tuple(stages), time.monotonic() - t0,
                                      build.arch if build is not None else "", proof))  # fmt: skip
            _undo(tree, work, applied)
    return checks, cache.hits, time.monotonic() - start


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
    return prereqs.check((arch or "x86_64",), git=(tree / ".git").exists())


def _undo(tree: Path, work: Path, applied: list[str]) -> None:
    """Take a stack's patches back out: in reverse with `git apply -R` in a worktree (a
    whole-tree checkout and clean of a kernel worktree costs seconds); in a copy, the
    touched files are linked to the tree's again."""
    if not _is_git(work):
        for rel in sorted({f for d in applied for f in touched_files(d, deleted=True)}):
            dst = work / rel
            dst.unlink(missing_ok=True)
            if (tree / rel).is_file():
                try:
                    os.link(tree / rel, dst)
                except OSError:  # another file system: the copy was a real copy
                    shutil.copy2(tree / rel, dst)
        return
    for diff in reversed(applied):
        if not proc.run(["git", "apply", "-R", "-p1", "-"], cwd=work, stdin=diff, timeout=120).ok:
            proc.run(["git", "checkout", "--quiet", "--", "."], cwd=work, timeout=300)
            proc.run(["git", "clean", "-fdq"], cwd=work, timeout=300)
            return


def _first_line(text: str) -> str:
    return next((x.strip() for x in text.splitlines() if x.strip()), "")[:300]


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


def _verdict(stages: list[Stage]) -> tuple[str, str]:
    names = {"applies": "apply-failed", "semantic": "unsafe", "builds": "build-failed",
             "style": "checkpatch-failed"}  # fmt: skip
    for s in stages:
        if not s.ok:
            return names.get(s.name, s.name), s.reason
    return "verified", ""


class effect_stage:  # noqa: N801 - used like the function it was
    """The effect stage for `verify()`: a sweep of the candidate's paths in the scratch
    tree.  The patch's findings must be gone, nothing may be reported that the same sweep
    did not report before it, and generating again must not touch its family.  Sweeps
    are cached by the swept files' contents and the rules."""

    def __init__(self, spatch: Spatch, rules: Sequence[Rule], use_cache: bool = True) -> None:
        from refactor import __version__

        self.spatch = spatch
        self.rules = list(rules)
        self.cache = ResultCache(cache_dir() / "results", enabled=use_cache)
        self.salt = b"\0".join(
            [_FORMAT, b"effect", __version__.encode(), *(r.path.read_bytes() for r in rules)]
        )

    def baseline(self, work: Path, cand: Candidate) -> frozenset[str]:
        return frozenset(f["id"] for f in self._state(work, cand, regenerate=False)["findings"])

    def __call__(self, work: Path, cand: Candidate, before: frozenset[str]) -> tuple[Stage, frozenset[str]]:
        state = self._state(work, cand, regenerate=bool(cand.family))
        mine = state["findings"]
        ids = frozenset(f["id"] for f in mine)
        log = "\n".join(f"{_where(f)} {f['message']}" for f in mine)
        remains = [f for f in mine if f["id"] in cand.findings]
        if remains:
            return Stage("finding-remains", False, f"{_where(remains[0])} still reported", log), ids
        new = [f for f in mine if f["id"] not in before]
        if new:
            return Stage("new-finding", False, f"{_where(new[0])} {new[0]['message']}", log), ids
        if state.get("regenerates"):
            return Stage("finding-remains", False, "running the fix again changes the code", log), ids
        return Stage("effect", True, "", log), ids

    def _state(self, work: Path, cand: Candidate, regenerate: bool) -> dict[str, Any]:
        """The driver's findings in the scratch tree as it is now (and, with `regenerate`,
        whether generating again gives a patch of the candidate's family)."""
        from refactor.generate import run as generate
        from refactor.model import tree as model
        from refactor.sweep import run as sweep

        files = sorted(
            str(p.relative_to(work))
            for d in cand.paths
            for p in (work / d).rglob("*")
            if p.is_file() and (p.suffix in (".c", ".h") or p.name in ("Makefile", "Kbuild"))
        )
        family = cand.family if regenerate else ""
        h = hashlib.sha256(self.salt + json.dumps([cand.driver, family, list(cand.paths)]).encode())
        for f in files:
            h.update(f.encode() + b"\0" + (work / f).read_bytes())
        hit = self.cache.get(h.hexdigest())
        if hit is not None:
            return hit
        result = sweep.sweep(model.load_tree(work, cand.paths), self.spatch, self.rules, jobs=1)
        mine = [f for f in result.findings if not cand.driver or f.driver == cand.driver]
        state: dict[str, Any] = {
            "findings": [
                dict(id=f.id, file=f.file, line=f.line, rule=f.rule, message=f.message) for f in mine
            ]
        }
        if family:
            again = generate.generate(result, self.spatch, jobs=1)
            state["regenerates"] = any(p.driver == cand.driver and p.family == family for p in again.patches)
        self.cache.put(h.hexdigest(), state)
        return state


def _where(f: dict[str, Any]) -> str:
    return f"{f['file']}:{f['line']}: [{f['rule']}]"


def candidates_of(generated: Any, result: Any) -> list[Candidate]:
    """The generated patches as candidates: one stack per driver, in generation order."""
    drivers = {d.name: d for d in result.drivers}
    out = []
    for p in generated.patches:
        d = drivers[p.driver]
        out.append(Candidate(p.id, p.driver, p.diff, p.findings, (d.module.directory,), d.module.config,
                             stack=p.driver, family=p.family))  # fmt: skip
    return out


def foreign_candidates(tree: Path, diffs: Sequence[tuple[str, str]]) -> list[Candidate]:
    """Patches from elsewhere (name, diff): the effect stage only checks that they add no
    finding to the modules whose files they touch."""
    from refactor.model import tree as model

    out = []
    for name, diff in diffs:
        files = touched_files(diff, deleted=True)
        if not files:
            raise RefactorError(f"{name}: not a unified diff (no +++ b/ lines)")
        paths = tuple(sorted({os.path.dirname(f) for f in files}))
        tm = model.load_tree(tree, paths)
        config = next((d.module.config for d in tm.drivers), "")
        out.append(Candidate(name, "", diff, (), paths if tm.drivers else (), config, stack=name))
    return out
