"""The runner for Coccinelle: every spatch call of the tool goes through here.

`find_spatch()` locates spatch and checks its version; `read_rule()` reads a `.cocci`
kernel-style header; `run_rule()` runs one semantic patch over a set of files in parallel
and returns a typed result for every file.  Files are processed in batches (one spatch
process each, `--file-groups` so each file is its own unit, spatch's own `--timeout` per
file); a batch whose process dies or hangs is re-run one file per process, so a crash or
hang costs only the file that caused it.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from refactor.cocci.results import FileResult, FileStatus, Outcome, RuleRun, crash_reason, merge, parse_output
from refactor.cocci.rules import Rule, RuleError
from refactor.infra import proc
from refactor.infra.errors import ToolError

MIN_VERSION = (1, 1)
PACKAGE_HINT = "install Debian's package coccinelle (apt-get install coccinelle)"


@dataclass(frozen=True)
class Spatch:
    """A usable spatch executable."""

    path: str
    version: tuple[int, ...]

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version))


def parse_version(text: str) -> tuple[int, ...] | None:
    """The version in `spatch --version` output ("spatch version 1.1.1 compiled ...")."""
    m = re.search(r"spatch version (\d+(?:\.\d+)+)", text)
    return tuple(int(x) for x in m.group(1).split(".")) if m else None


def find_spatch(explicit: str | None = None) -> Spatch:
    """Locate spatch ($SPATCH, then PATH) and refuse versions older than 1.1."""
    path = explicit or os.environ.get("SPATCH") or shutil.which("spatch")
    if not path:
        raise ToolError(f"spatch not found: {PACKAGE_HINT}")
    try:
        res = proc.run([path, "--version"], timeout=60)
    except OSError as exc:
        raise ToolError(f"cannot run {path}: {exc.strerror or exc}") from None
    version = parse_version(res.stdout + res.stderr)
    if version is None:
        first = (res.stdout + res.stderr).strip().splitlines()[:1] or ["nothing"]
        raise ToolError(f"{path} --version printed no spatch version (got: {first[0][:80]})")
    if version[:2] < MIN_VERSION:
        have = ".".join(map(str, version))
        raise ToolError(
            f"spatch {have} is too old: drmm-refactor needs Coccinelle 1.1 or newer; {PACKAGE_HINT}"
        )
    return Spatch(path, version)


@dataclass
class _Batch:
    files: list[str]
    size: int = 0


def check_rule(spatch: Spatch, rule: Rule, mode: str = "report") -> None:
    """Raise RuleError when spatch cannot parse the semantic patch in `mode`."""
    res = proc.run([spatch.path, "--parse-cocci", str(rule.path), "-D", mode], timeout=120)
    if not res.ok:
        lines = [ln for ln in (res.stderr + res.stdout).splitlines() if ln.strip()]
        reason = next((ln for ln in lines if "error" in ln.lower()), lines[-1] if lines else "")
        raise RuleError(f"rule {rule.id} is rejected by spatch: {reason.strip()[:200]}")


def check_rules(
    spatch: Spatch, rules: Sequence[Rule], jobs: int = 1, mode: str = "report"
) -> dict[str, RuleError]:
    """Check several rules at once (`jobs` at a time): the rejected ones, with the error."""

    def check(rule: Rule) -> RuleError | None:
        try:
            check_rule(spatch, rule, mode)
        except RuleError as exc:
            return exc
        return None

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        errors = list(pool.map(check, rules))
    return {r.id: e for r, e in zip(rules, errors, strict=True) if e is not None}


def run_rule(
    spatch: Spatch,
    rule: Rule,
    files: Sequence[str],
    *,
    cwd: Path,
    jobs: int = 1,
    timeout: int = 60,
    mode: str = "report",
    extra_options: Sequence[str] = (),
    progress: Callable[[Sequence[str]], None] | None = None,
    env: Mapping[str, str] | None = None,
) -> RuleRun:
    """Run `rule` in `mode` over `files` (paths relative to `cwd`).

    Never raises for a problem confined to a file: such files get a status other than OK
    with the reason.  Raises RuleError when spatch rejects the rule itself.  `progress` is
    called with the files of each finished batch (from the worker threads).
    """
    check_rule(spatch, rule, mode)
    report = (lambda _rule, batch: progress(batch)) if progress else None
    return run_rules(spatch, [(rule, files)], cwd=cwd, jobs=jobs, timeout=timeout, mode=mode,
                     extra_options=extra_options, progress=report, env=env, checked=True)[0]  # fmt: skip


def run_rules(
    spatch: Spatch,
    work: Sequence[tuple[Rule, Sequence[str]]],
    *,
    cwd: Path,
    jobs: int = 1,
    timeout: int = 60,
    mode: str = "report",
    extra_options: Sequence[str] = (),
    progress: Callable[[str, Sequence[str]], None] | None = None,
    env: Mapping[str, str] | None = None,
    checked: bool = False,
) -> list[RuleRun]:
    """Run several rules, each over its files, in one pool of `jobs` spatch processes.

    The batches of all rules are sized from the total work and run largest first, so
    both cores stay busy until the end instead of idling at the tail of each rule.
    Returns one RuleRun per rule, in order.  `progress` gets the rule id and the files of
    each finished batch.  Rules with files are checked first (RuleError when rejected),
    unless `checked`.
    """
    start = time.monotonic()
    jobs = max(1, jobs)
    if not checked:
        rejected = check_rules(spatch, [r for r, f in work if f], jobs, mode)
        if rejected:
            raise next(iter(rejected.values()))
    argvs = [_argv(spatch, rule, mode, timeout, extra_options) for rule, _ in work]
    tasks = _tasks(work, cwd, jobs)
    totals = [Outcome() for _ in work]
    with (
        tempfile.TemporaryDirectory(prefix="drmm-spatch-") as tmp,
        ThreadPoolExecutor(max_workers=jobs) as pool,
    ):

        def run(task: tuple[int, _Batch], number: int) -> Outcome:
            index, batch = task
            argv = argvs[index]
            out = _run_batch(argv, batch.files, cwd, Path(tmp) / f"groups-{number}", timeout, env)
            if out is None:  # the process died or hung: isolate the file responsible
                out = Outcome()
                singles = [
                    _run_single(argv, f, cwd, Path(tmp) / f"single-{number}-{i}", timeout, env)
                    for i, f in enumerate(batch.files)
                ]
                for single in singles:
                    merge(out, single)
                out.processes += 1  # the batch that failed
            if progress:
                progress(work[index][0].id, batch.files)
            return out

        for (index, _), outcome in zip(tasks, pool.map(run, tasks, range(len(tasks))), strict=True):
            merge(totals[index], outcome)

    return _runs(work, totals, start)


def _argv(spatch: Spatch, rule: Rule, mode: str, timeout: int, extra_options: Sequence[str]) -> list[str]:
    """The spatch command line of `rule` (the files come with each batch)."""
    return [
        spatch.path,
        "--sp-file",
        str(rule.path.resolve()),
        "-D",
        mode,
        "--quiet",
        "--verbose-parsing",
        "--timeout",
        str(timeout),
        # without this, spatch in a git tree runs a whole-tree `git grep` for every file
        "--no-scanner",
        *rule.options,
        *extra_options,
    ]  # fmt: skip


def _tasks(work: Sequence[tuple[Rule, Sequence[str]]], cwd: Path, jobs: int) -> list[tuple[int, _Batch]]:
    """The batches of every rule (by its index in `work`), sized from the total work,
    largest first."""
    sizes = [[(_size(cwd, f), f) for f in files] for _, files in work]
    total_size = sum(s for sized in sizes for s, _ in sized)
    target = max(1, total_size // (jobs * 4))  # about 4 batches per process in all
    tasks = []
    for index, sized in enumerate(sizes):
        own = sum(s for s, _ in sized)
        count = min(len(sized), max(jobs if len(work) == 1 else 1, -(-own // target)))
        tasks += [(index, batch) for batch in _plan_batches(sized, count)]
    tasks.sort(key=lambda t: -t[1].size)
    return tasks


def _runs(work: Sequence[tuple[Rule, Sequence[str]]], totals: Sequence[Outcome], start: float
          ) -> list[RuleRun]:  # fmt: skip
    """One RuleRun per rule from its merged outcome: a result for each of its files."""
    runs = []
    for (rule, files), total in zip(work, totals, strict=True):
        results = []
        for f in files:
            status, detail = total.problems.get(f, (FileStatus.OK, ""))
            results.append(
                FileResult(
                    file=f,
                    status=status,
                    detail=detail,
                    matches=tuple(total.matches.get(f, ())),
                    diff="".join(total.diffs.get(f, ())),
                    unparsed=tuple(total.unparsed.get(f, ())) if status is FileStatus.PARSE_ERROR else (),
                )
            )
        runs.append(RuleRun(rule.id, tuple(results), tuple(total.stray), time.monotonic() - start,
                            total.processes))  # fmt: skip
    return runs


def _size(cwd: Path, f: str) -> int:
    try:
        return os.path.getsize(cwd / f)
    except OSError:
        return 0


def _plan_batches(sized: Sequence[tuple[int, str]], count: int) -> list[_Batch]:
    """Split (size, file) into `count` batches of similar total size, largest files first."""
    if not sized:
        return []
    batches = [_Batch([]) for _ in range(max(1, count))]
    for size, f in sorted(sized, key=lambda s: -s[0]):
        target = min(batches, key=lambda b: b.size)
        target.files.append(f)
        target.size += size
    return [b for b in batches if b.files]


def _run_batch(
    argv: list[str],
    files: list[str],
    cwd: Path,
    groups: Path,
    timeout: int,
    env: Mapping[str, str] | None = None,
) -> Outcome | None:
    """One spatch process over several files; None when it died or hung."""
    if len(files) == 1:
        return _run_single(argv, files[0], cwd, groups, timeout, env)
    groups.write_text("\n\n".join(files) + "\n")
    res = proc.run([*argv, "--file-groups", str(groups)], cwd=cwd, timeout=timeout * len(files) + 60, env=env)
    if not res.ok:
        return None
    out = parse_output(res.stdout, res.stderr, set(files))
    out.processes = 1
    return out


def _run_single(
    argv: list[str], file: str, cwd: Path, groups: Path, timeout: int, env: Mapping[str, str] | None = None
) -> Outcome:
    """One spatch process over one file: any failure is that file's."""
    groups.write_text(file + "\n")
    try:
        res = proc.run([*argv, "--file-groups", str(groups)], cwd=cwd, timeout=timeout + 30, env=env)
    except OSError as exc:
        return Outcome(problems={file: (FileStatus.CRASH, f"cannot run spatch: {exc}")}, processes=1)
    out = parse_output(res.stdout, res.stderr, {file})
    out.processes = 1
    if res.timed_out:
        out.problems[file] = (FileStatus.TIMEOUT, f"no result after {timeout + 30}s; spatch killed")
    elif res.returncode != 0 and file not in out.problems:
        if "Timeout" in res.stderr:
            out.problems[file] = (FileStatus.TIMEOUT, f"spatch timeout after {timeout}s")
        else:
            out.problems[file] = (FileStatus.CRASH, crash_reason(res))
    return out


def apply_rule(
    spatch: Spatch,
    rule: Rule,
    files: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: int = 300,
) -> str:
    """Run `rule` in patch mode over `files` (relative to `cwd`), editing them in place.

    Used on scratch copies only.  Returns "" on success, else the reason it failed.
    """
    argv = [
        spatch.path, "--sp-file", str(rule.path.resolve()), "-D", "patch",
        "--very-quiet", "--in-place", "--timeout", str(timeout), "--no-scanner",
        "--max-width", "100",  # the kernel's line length: spatch wraps added code at 80
        *rule.options, *files,
    ]  # fmt: skip
    res = proc.run(argv, cwd=cwd, timeout=timeout + 30, env=env)
    if res.timed_out:
        return f"spatch timed out after {timeout}s"
    if res.returncode != 0:
        lines = [ln for ln in (res.stderr + res.stdout).splitlines() if ln.strip()]
        return f"spatch exited with {res.returncode}: {(lines[-1] if lines else '').strip()[:200]}"
    return ""
