"""The sweep: run the catalogue's semantic patches over the files of every drm driver.

Only the files of modules that create a drm_device reach spatch.  Each report line of a
rule becomes a Finding tied to its driver, with the enclosing function (from the C
index) and a stable id that does not change when unrelated lines move.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter

from refactor.classify import dispatch
from refactor.classify.classifier import Classifier
from refactor.classify.findings import Finding, Skipped, finding_id
from refactor.cocci.results import FileResult, FileStatus, RuleRun
from refactor.cocci.rules import Rule, rules_in
from refactor.cocci.spatch import Spatch, check_rules, run_rules
from refactor.csrc import cindex
from refactor.infra.bundled import bundled
from refactor.infra.errors import RefactorError
from refactor.model.tree import Driver, TreeModel, unreadable
from refactor.model.treecache import SweepCache

RULES_DIR = bundled("semantic_patches")

# Fixes of rules that need no struct knowledge (the others are chosen in classify.py).
FIXES: dict[str, str] = {
    "double-put": "drop the drm_dev_put(): devres drops the reference on unbind",
}


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
    cache_hits: int = 0  # results read from the cache (drivers and files)
    # the files the sweep read and parsed, for generate to reuse (not part of the result)
    classifier: Classifier | None = field(default=None, compare=False, repr=False)


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


def sweep(
    model: TreeModel,
    spatch: Spatch,
    rules: Sequence[Rule],
    *,
    jobs: int = 2,
    timeout: int = 120,
    include_tests: bool = False,
    progress: Callable[[Progress], None] | None = None,
    cache: SweepCache | None = None,
) -> SweepResult:
    """Run `rules` over the files of `model`'s drivers; `progress`, when given, is called
    as the work advances (from worker threads, one call at a time).  With `cache` (from
    `treecache.load()`), a driver whose inputs did not change gives its stored findings
    without running anything, and a file whose contents did not change its stored spatch
    results."""
    start = time.monotonic()
    drivers = [d for d in model.drivers if include_tests or not d.test]
    owner, owned = _owners(drivers)
    files = sorted(owner)
    if cache is not None:
        classifier = Classifier(model, cache.decls, cache.remember_decls)
    else:
        classifier = Classifier(model)
    unread = dict(model.unreadable) | {f: why for f in files if (why := unreadable(model.root, f))}
    noted = [Skipped(f, "", "unreadable", why) for f, why in sorted(unread.items())]  # never silently empty
    files = [f for f in files if f not in unread]
    if cache is not None:
        cache.setup(spatch, rules, timeout, model.api.names)
    keys, done, pending = _cached_drivers(drivers, owned, unread, cache)
    work = [(rule, [f for d in pending for f in owned[d.name] if f not in unread
                    and rule.may_match(classifier.data(f))]) for rule in rules]  # fmt: skip
    results, to_run = _cached_files(work, owner, keys, cache)
    rejected = check_rules(spatch, [r for r, left in to_run if left], jobs)
    for rule_id, exc in rejected.items():  # a rule spatch rejects is reported; the others still run
        rule = next(r for r in rules if r.id == rule_id)
        noted.append(Skipped(str(rule.path.name), rule.id, "rule-error", str(exc)))
    work = [(r, c) for r, c in work if r.id not in rejected]
    to_run = [(r, left) for r, left in to_run if r.id not in rejected]
    tracker = _Tracker(to_run, drivers, owner, start, progress) if progress else None
    report = tracker.batch_done if tracker else None
    runs = run_rules(spatch, to_run, cwd=model.root, jobs=jobs, timeout=timeout, progress=report,
                     env={"DRMM_REFACTOR": "1"}, checked=True)  # fmt: skip
    _record_runs(to_run, runs, results, owner, keys, cache)
    for d in pending:
        done[d.name] = ([], [])
    # a driver at a time (its rules in order), so the parse cache holds the trees it asks for
    mine: dict[str, list[tuple[Rule, str]]] = {d.name: [] for d in pending}
    for rule, candidates in work:
        for f in candidates:
            mine[owner[f].name].append((rule, f))
    for d in pending:
        found, skipped = done[d.name]
        placed: set[tuple[str, str, int]] = set()  # (rule, file, line) of the driver's findings
        for rule, f in mine[d.name]:
            _classify(classifier, rule, d, results[rule.id, f], found, skipped, placed)
    if cache is not None:
        _store(cache, pending, keys, done, bool(rejected))
    findings, skipped = _ordered(rules, drivers, done, noted, len(unread))
    return SweepResult(model=model, spatch_version=spatch.version_text, rules=tuple(rules),
                       drivers=tuple(drivers), findings=tuple(findings), skipped=tuple(skipped),
                       files=len(files), seconds=time.monotonic() - start,
                       cache_hits=cache.hits if cache is not None else 0, classifier=classifier)  # fmt: skip


_Done = dict[str, tuple[list[Finding], list[Skipped]]]  # per driver: its findings and skipped files
_Results = dict[tuple[str, str], FileResult]  # (rule id, file) -> spatch's result


def _owners(drivers: Sequence[Driver]) -> tuple[dict[str, Driver], dict[str, list[str]]]:
    """The driver each file belongs to (the first that lists it), and each driver's files."""
    owner: dict[str, Driver] = {}
    for d in drivers:
        for f in d.module.files:
            owner.setdefault(f, d)
    owned: dict[str, list[str]] = {d.name: [] for d in drivers}
    for f in sorted(owner):
        owned[owner[f].name].append(f)
    return owner, owned


def _cached_drivers(drivers: Sequence[Driver], owned: dict[str, list[str]], unread: dict[str, str],
                    cache: SweepCache | None) -> tuple[dict[str, str], _Done, list[Driver]]:  # fmt: skip
    """Each driver's cache key, the results of the drivers whose inputs did not change, and
    the drivers left to sweep (a driver with an unreadable file is never taken from it)."""
    keys: dict[str, str] = {}
    done: _Done = {}
    pending = []
    for d in drivers:
        if cache is not None and not any(f in unread for f in d.module.files):
            keys[d.name] = cache.keys[d.name] = cache.driver_key(d, owned[d.name])
            hit = cache.results.get(keys[d.name])
            if hit is not None:
                done[d.name] = hit
                continue
        pending.append(d)
    return keys, done, pending


def _cached_files(work: Sequence[tuple[Rule, list[str]]], owner: dict[str, Driver], keys: dict[str, str],
                  cache: SweepCache | None) -> tuple[_Results, list[tuple[Rule, list[str]]]]:  # fmt: skip
    """The stored spatch results of the files whose contents did not change, and per rule
    the files left to run it on."""
    results: _Results = {}
    to_run: list[tuple[Rule, list[str]]] = []
    for rule, candidates in work:
        left = []
        for f in candidates:
            key = keys.get(owner[f].name)
            hit = cache.results.get(cache.file_key(rule, f, key)) if cache is not None and key else None
            if isinstance(hit, FileResult):
                results[rule.id, f] = hit
            else:
                left.append(f)
        to_run.append((rule, left))
    return results, to_run


def _record_runs(to_run: Sequence[tuple[Rule, list[str]]], runs: Sequence[RuleRun],
                 results: _Results, owner: dict[str, Driver], keys: dict[str, str],
                 cache: SweepCache | None) -> None:  # fmt: skip
    """Add what spatch gave to `results`, and store the results worth keeping (a timeout
    or a crash may not recur)."""
    for (rule, _), run in zip(to_run, runs, strict=True):
        for res in run.results:
            results[rule.id, res.file] = res
            key = keys.get(owner[res.file].name)
            if cache is not None and key and res.status in (FileStatus.OK, FileStatus.PARSE_ERROR):
                cache.results.put(cache.file_key(rule, res.file, key), res)


def _store(cache: SweepCache, pending: Sequence[Driver], keys: dict[str, str], done: _Done,
           rejected: bool) -> None:  # fmt: skip
    """Store the swept drivers' results and save the cache."""
    for d in pending:  # a timeout or crash may not recur; a rejected rule reported nothing
        transient = any(
            s.reason in (FileStatus.TIMEOUT.value, FileStatus.CRASH.value) for s in done[d.name][1]
        )
        if d.name in keys and not transient and not rejected:
            cache.results.put(keys[d.name], done[d.name])
    cache.save()


def _ordered(rules: Sequence[Rule], drivers: Sequence[Driver], done: _Done, noted: list[Skipped],
             unread: int) -> tuple[list[Finding], list[Skipped]]:  # fmt: skip
    """The findings by driver, file, line and rule; the unreadable files first (in `noted`'s
    first `unread` entries), then the other skipped entries by rule and file."""
    order = {r.id: i for i, r in enumerate(rules)}
    findings = sorted((f for d in drivers for f in done[d.name][0]),
                      key=lambda f: (f.driver, f.file, f.line, f.rule))  # fmt: skip
    skipped = noted[:unread] + sorted(
        noted[unread:] + [s for d in drivers for s in done[d.name][1]],
        key=lambda s: (order[s.rule], s.file),
    )
    return findings, skipped


def _classify(
    classifier: Classifier, rule: Rule, driver: Driver, res: FileResult, found: list[Finding],
    skipped: list[Skipped], placed: set[tuple[str, str, int]],
) -> None:  # fmt: skip
    """The findings and skipped entries one rule's result on one file gives; `placed` holds
    the (rule, file, line) of the driver's findings so far."""
    unparsed = res.status is FileStatus.PARSE_ERROR
    if unparsed and not _hides_match(rule, *classifier.source(res.file), res.unparsed):
        pass  # the code spatch could not parse cannot hold what the rule looks for
    elif res.status is not FileStatus.OK:
        skipped.append(Skipped(res.file, rule.id, res.status.value, res.detail))
    for m in res.matches:
        verdict = dispatch.decide(classifier, rule.id, driver, m)
        if verdict is None:
            continue
        # a verdict may place the finding elsewhere (a callback, not its table entry)
        file, line = verdict.file or res.file, verdict.line or m.line
        if (rule.id, file, line) in placed:
            continue  # one callback in two tables
        placed.add((rule.id, file, line))
        lines = classifier.lines(file)
        code = lines[line - 1] if 0 < line <= len(lines) else ""
        function = classifier.function_at(file, line)
        found.append(
            Finding(
                id=finding_id(rule.id, file, function, code),
                rule=rule.id,
                confidence=verdict.confidence or confidence(rule.confidence),
                driver=driver.name,
                file=file,
                line=line,
                column=m.column if line == m.line else 0,
                function=function,
                message=verdict.message,
                fix=verdict.fix or FIXES.get(rule.id, ""),
                helpers=verdict.helpers,
                data=tuple(m.data) + verdict.detail,
            )
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

    def batch_done(self, rule: str, batch: Sequence[str]) -> None:
        with self.lock:
            self.done += len(batch)
            for f in batch:
                self.left[self.owner[f].name] -= 1
            self._emit(rule)


def _hides_match(rule: Rule, source: bytes, tree: tree_sitter.Tree, lines: Sequence[int]) -> bool:
    """Whether a top-level definition spatch failed to parse mentions the rule's keywords
    (without keywords, or without line numbers, assume it may)."""
    if not rule.keywords or not lines:
        return True
    spans = cindex.toplevel_spans(source, tree)
    text = source.splitlines()
    for line in lines:
        first, last = next(((a, b) for a, b in spans if a <= line <= b), (line, line))
        chunk = b"\n".join(text[first - 1 : last])
        if rule.may_match(chunk):
            return True
    return False
