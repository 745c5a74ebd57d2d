"""`drmm-refactor prove`: sweep the drivers, build the guest kernel, run each driver's
scenario before its patches and after each one, and judge.

The order keeps the builds few: one build of the tree as it is, every driver's `before`
run on it, then per patch an incremental build with the patch applied and its `after`
run; the worktree is reset after each patch.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from refactor.infra.errors import RefactorError
from refactor.prove import kernel, logparse, runner, verdict
from refactor.prove.verdict import Proof, Run


@dataclass(frozen=True)
class BuildTime:
    """One make run: after which patch (`base` for the tree as it is), how long, how much."""

    label: str
    seconds: float
    objects: int
    ok: bool


@dataclass(frozen=True)
class ProveResult:
    tree: str
    commit: str
    build_dir: str
    builds: tuple[BuildTime, ...]
    proofs: tuple[Proof, ...]
    seconds: float


@dataclass(frozen=True)
class DriverWork:
    """What the sweep gives prove for one driver: its findings and its patches."""

    driver: str
    findings: dict[str, str]  # finding id -> "RULE at FILE:LINE in FUNCTION"
    functions: dict[str, str]  # finding id -> its function
    marks: dict[str, tuple[str, ...]]  # finding id -> the code a report of it names (function, handler)
    patches: tuple[tuple[str, str, tuple[str, ...]], ...]  # (patch id, diff, finding ids)


def _finding_text(f: object) -> str:
    return f"{f.rule} at {f.file}:{f.line} in {f.function}()"  # type: ignore[attr-defined]


def sweep_drivers(tree: Path, drivers: Sequence[str], jobs: int = 2) -> list[DriverWork]:
    """Sweep the drivers' sources and generate their patches (the cached sweep)."""
    from refactor.cocci import spatch as spatch_mod
    from refactor.generate import run as generate_mod
    from refactor.model import treecache
    from refactor.sweep import run as sweep_mod

    paths = sorted({p for d in drivers for p in runner.model_of(d).paths})
    if not paths:
        return [DriverWork(d, {}, {}, {}, ()) for d in drivers]
    sp = spatch_mod.find_spatch()
    loaded = treecache.load(tree, paths)
    result = sweep_mod.sweep(loaded.model, sp, sweep_mod.load_rules(), jobs=jobs, cache=loaded.cache)
    gen = generate_mod.generate(result, sp, jobs=jobs, cache=loaded.cache)
    work = []
    for d in drivers:
        mine = [f for f in result.findings if f.driver == d]
        patches = tuple((p.id, p.diff, p.findings) for p in gen.patches if p.driver == d)
        # an IRQ finding is about its handler's code as much as the function that requests it
        marks = {f.id: (f.function, *(v for k, v in f.data if k == "handler")) for f in mine}
        work.append(DriverWork(d, {f.id: _finding_text(f) for f in mine}, {f.id: f.function for f in mine},
                               marks, patches))  # fmt: skip
    return work


def _patched_files(diff: str) -> list[str]:
    """The base names of the files a diff changes (`bochs.c`), as they appear in reports."""
    return sorted({line.split("/")[-1] for line in diff.splitlines() if line.startswith("+++ b/")})


def _run(ws: kernel.Workspace, model: runner.DeviceModel, label: str, logs: Path) -> Run:
    booted = runner.boot(ws.image, model, label, logs / f"{model.driver}-{label}.log")
    parsed = logparse.parse(booted.console)
    if not parsed.steps:  # no /dev/kmsg lines: the steps from stdout, the reports unphased
        parsed = logparse.parse(booted.stdout + "\n" + booted.console)
    return verdict.run_of(label, str(booted.log_path), booted.seconds, booted.kvm, parsed)


def prove(tree: Path, drivers: Sequence[str], jobs: int = 2,
          say: Callable[[str], None] = lambda _m: None) -> ProveResult:  # fmt: skip
    """Prove every patch of `drivers` on `tree` under QEMU; see the module docstring."""
    start = time.monotonic()
    work = sweep_drivers(tree, drivers, jobs)
    proofs: list[Proof] = []
    todo: list[tuple[DriverWork, runner.DeviceModel]] = []
    missing = runner.missing_runner()
    for w in work:
        model = runner.model_of(w.driver)
        reason = model.reason or missing
        if reason:
            for pid, _diff, fids in w.patches or (("", "", tuple(w.findings)),):
                texts = [w.findings[i] for i in fids if i in w.findings]
                proofs.append(verdict.not_runnable(w.driver, pid, texts, reason))
        else:
            todo.append((w, model))
    builds: list[BuildTime] = []
    if not todo:
        return ProveResult(str(tree), "", "", (), tuple(proofs), time.monotonic() - start)
    ws = kernel.workspace(tree)
    logs = kernel.cache_root() / "logs" / ws.build.parent.name
    say(f"prove: building the guest kernel in {ws.build}")
    built = kernel.build(ws, jobs)
    builds.append(BuildTime("base", built.seconds, built.objects, built.ok))
    if not built.ok:
        raise RefactorError(f"the guest kernel of {tree} does not build: {built.error.splitlines()[0][:200]}")
    befores: dict[str, Run] = {}
    for w, model in todo:
        say(f"prove: {w.driver}: booting the unpatched kernel")
        befores[w.driver] = _run(ws, model, "before", logs)
        patched = {i for _pid, _diff, fids in w.patches for i in fids}
        rest = [i for i in w.findings if i not in patched]
        if rest or not w.patches:  # the findings no patch covers: what the kernel shows of them
            marks = [m for i in rest for m in w.marks.get(i, ())]
            proofs.append(
                verdict.unpatched(w.driver, [w.findings[i] for i in rest], befores[w.driver], marks)
            )
    try:
        for w, model in todo:
            for pid, diff, fids in w.patches:
                texts = [w.findings[i] for i in fids if i in w.findings]
                kernel.reset(ws)
                failed = kernel.apply(ws, diff)
                if failed:
                    why = f"the patch does not apply: {failed}"
                    proofs.append(verdict.not_runnable(w.driver, pid, texts, why))
                    continue
                say(f"prove: {w.driver}: building with patch {pid}")
                built = kernel.build(ws, jobs)
                builds.append(BuildTime(pid, built.seconds, built.objects, built.ok))
                if not built.ok:
                    why = f"the patched kernel does not build: {built.error[:200]}"
                    proofs.append(verdict.not_runnable(w.driver, pid, texts, why))
                    continue
                say(f"prove: {w.driver}: booting with patch {pid}")
                after = _run(ws, model, f"after-{pid}", logs)
                marks = [w.functions[i] for i in fids if i in w.functions] + _patched_files(diff)
                proofs.append(verdict.judge(w.driver, pid, texts, marks, befores[w.driver], after))
    finally:
        kernel.reset(ws)
    seconds = time.monotonic() - start
    return ProveResult(str(tree), ws.commit, str(ws.build), tuple(builds), tuple(proofs), seconds)


def as_json(result: ProveResult) -> str:
    return json.dumps({
        "tree": result.tree,
        "commit": result.commit,
        "build_dir": result.build_dir,
        "builds": [{"after": b.label, "seconds": round(b.seconds, 1), "compiled": b.objects, "ok": b.ok}
                   for b in result.builds],
        "proofs": [p.as_dict() for p in result.proofs],
        "seconds": round(result.seconds, 1),
    }, indent=2) + "\n"  # fmt: skip


def as_text(result: ProveResult) -> str:
    lines = [f"prove: {result.tree} ({result.commit[:12] or 'no build'})"]
    for b in result.builds:
        lines.append(f"  build after {b.label}: {b.seconds:.0f}s, {b.objects} files compiled"
                     + ("" if b.ok else " (failed)"))  # fmt: skip
    for p in result.proofs:
        lines.append(f"{p.driver} {p.patch or '(no patch)'}: {p.verdict}")
        lines.append(f"  {p.reason}")
        for f in p.findings:
            lines.append(f"  finding: {f}")
        for r in p.runs:
            lines.append(f"  {r.label}: {r.seconds:.0f}s, {len(r.reports)} report(s), log {r.log}")
            for rep in r.reports[:3]:
                lines.extend("    | " + ln for ln in rep.excerpt[:12])
    lines.append(f"total {result.seconds:.0f}s")
    return "\n".join(lines) + "\n"
