"""The sweep: run the catalogue's semantic patches over the files of every drm driver.

Only the files of modules that create a drm_device reach spatch.  Each report line of a
rule becomes a Finding tied to its driver, with the enclosing function (from the C
index) and a stable id that does not change when unrelated lines move.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from refactor import cindex
from refactor.classify import Classifier
from refactor.errors import RefactorError
from refactor.model import Driver, TreeModel, unreadable
from refactor.spatch import FileStatus, Rule, RuleError, Spatch, rules_in, run_rule

RULES_DIR = Path(__file__).resolve().parent.parent / "semantic_patches"

# Fixes of rules that need no struct knowledge (the others are chosen in classify.py).
FIXES: dict[str, str] = {
    "double-put": "drop the drm_dev_put(): devres drops the reference on unbind",
}


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


@dataclass(frozen=True)
class Progress:
    """Where a sweep is: file checks (one file under one rule) and drivers done."""

    done: int
    total: int
    drivers_done: int
    drivers: int
    rule: str
    seconds: float


@dataclass(frozen=True)
class SweepResult:
    model: TreeModel
    spatch_version: str
    rules: tuple[Rule, ...]
    drivers: tuple[Driver, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]
    files: int
    seconds: float


def confidence(header: str) -> str:
    """The JSON contract's high/medium/low from a kernel-style `// Confidence:` value."""
    value = header.strip().lower()
    return {"moderate": "medium"}.get(value, value)


def load_rules(names: Sequence[str] = (), directory: Path = RULES_DIR) -> list[Rule]:
    if not directory.is_dir():
        raise RefactorError(f"{directory}: no such rules directory")
    rules = list(rules_in(directory))
    if not rules:
        raise RefactorError(f"{directory} has no .cocci rules")
    if names:
        known = {r.id for r in rules}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise RefactorError(f"unknown rule {unknown[0]}: known rules are {', '.join(sorted(known))}")
        rules = [r for r in rules if r.id in names]
    return rules


def finding_id(rule: str, file: str, function: str, code: str) -> str:
    """Stable across unrelated edits: rule, file, function and the normalised code line."""
    key = "\0".join([rule, file, function, " ".join(code.split())])
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def sweep(
    model: TreeModel,
    spatch: Spatch,
    rules: Sequence[Rule],
    *,
    jobs: int = 2,
    timeout: int = 120,
    include_tests: bool = False,
    progress: Callable[[Progress], None] | None = None,
) -> SweepResult:
    """Run `rules` over the files of `model`'s drivers; `progress`, when given, is called
    as the work advances (from worker threads, one call at a time)."""
    start = time.monotonic()
    drivers = [d for d in model.drivers if include_tests or not d.test]
    owner: dict[str, Driver] = {}
    for d in drivers:
        for f in d.module.files:
            owner.setdefault(f, d)
    files = sorted(owner)
    classifier = Classifier(model)
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    lines_of: dict[str, list[str]] = {}
    unread = dict(model.unreadable) | {f: why for f in files if (why := unreadable(model.root, f))}
    skipped += [
        Skipped(f, "", "unreadable", why) for f, why in sorted(unread.items())
    ]  # never silently empty
    files = [f for f in files if f not in unread]
    placed: set[tuple[str, str, int]] = set()
    work = [(rule, [f for f in files if rule.may_match(classifier.data(f))]) for rule in rules]
    tracker = _Tracker(work, drivers, owner, start, progress) if progress else None
    for rule, candidates in work:
        try:
            run = run_rule(spatch, rule, candidates, cwd=model.root, jobs=jobs, timeout=timeout,
                           progress=tracker.batch_done(rule.id) if tracker else None,
                           env={"DRMM_REFACTOR": "1"})  # fmt: skip
        except RuleError as exc:  # a rule spatch rejects is reported; the others still run
            skipped.append(Skipped(str(rule.path.name), rule.id, "rule-error", str(exc)))
            continue
        for res in run.results:
            if res.status is FileStatus.PARSE_ERROR and not _hides_match(
                rule, classifier.data(res.file), res.unparsed
            ):
                pass  # the code spatch could not parse cannot hold what the rule looks for
            elif res.status is not FileStatus.OK:
                skipped.append(Skipped(res.file, rule.id, res.status.value, res.detail))
            for m in res.matches:
                verdict = classifier.classify(rule.id, owner[res.file], m)
                if verdict is None:
                    continue
                # a verdict may place the finding elsewhere (a callback, not its table entry)
                file, line = verdict.file or res.file, verdict.line or m.line
                if (rule.id, file, line) in placed:
                    continue  # one callback in two tables
                placed.add((rule.id, file, line))
                if file not in lines_of:
                    lines_of[file] = classifier.data(file).decode(errors="replace").splitlines()
                lines = lines_of[file]
                code = lines[line - 1] if 0 < line <= len(lines) else ""
                function = classifier.function_at(file, line)
                fix = verdict.fix or FIXES.get(rule.id, "")
                findings.append(
                    Finding(
                        id=finding_id(rule.id, file, function, code),
                        rule=rule.id,
                        confidence=confidence(rule.confidence),
                        driver=owner[res.file].name,
                        file=file,
                        line=line,
                        column=m.column if line == m.line else 0,
                        function=function,
                        message=verdict.message,
                        fix=fix,
                        helpers=verdict.helpers,
                        data=tuple(m.data) + verdict.detail,
                    )
                )
    findings.sort(key=lambda f: (f.driver, f.file, f.line, f.rule))
    return SweepResult(
        model=model,
        spatch_version=spatch.version_text,
        rules=tuple(rules),
        drivers=tuple(drivers),
        findings=tuple(findings),
        skipped=tuple(skipped),
        files=len(files),
        seconds=time.monotonic() - start,
    )


class _Tracker:
    """Counts the file checks left per driver and reports each finished batch."""

    def __init__(
        self,
        work: Sequence[tuple[Rule, list[str]]],
        drivers: Sequence[Driver],
        owner: dict[str, Driver],
        start: float,
        report: Callable[[Progress], None],
    ) -> None:
        self.owner, self.start, self.report = owner, start, report
        self.left = {d.name: 0 for d in drivers}
        for _, candidates in work:
            for f in candidates:
                self.left[owner[f].name] += 1
        self.total = sum(self.left.values())
        self.done = 0
        self.lock = threading.Lock()
        self._emit("")

    def _emit(self, rule: str) -> None:
        finished = sum(1 for n in self.left.values() if n == 0)
        self.report(Progress(self.done, self.total, finished, len(self.left), rule,
                             time.monotonic() - self.start))  # fmt: skip

    def batch_done(self, rule: str) -> Callable[[Sequence[str]], None]:
        def done(batch: Sequence[str]) -> None:
            with self.lock:
                self.done += len(batch)
                for f in batch:
                    self.left[self.owner[f].name] -= 1
                self._emit(rule)

        return done


def _hides_match(rule: Rule, source: bytes, lines: Sequence[int]) -> bool:
    """Whether a top-level definition spatch failed to parse mentions the rule's keywords
    (without keywords, or without line numbers, assume it may)."""
    if not rule.keywords or not lines:
        return True
    spans = cindex.toplevel_spans(source)
    text = source.splitlines()
    for line in lines:
        first, last = next(((a, b) for a, b in spans if a <= line <= b), (line, line))
        chunk = b"\n".join(text[first - 1 : last])
        if rule.may_match(chunk):
            return True
    return False
