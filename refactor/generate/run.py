"""Generate: the patches that fix the findings, written by the rules' `virtual patch` mode.

For each driver, the fix families are applied in a fixed order (one future commit each)
to a scratch copy of the driver's files: the family's planner (`families/registry.py`) decides the edits, the
semantic patches make them, and every planned edit must be reported as made, or the
family's patch is dropped and its findings say why.  Each patch is a unified diff that
applies with `patch -p1` (or `git apply`) at the tree root on top of the patches of the
same driver before it.  The user's tree is only read.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from refactor.classify.classifier import Classifier
from refactor.classify.findings import Finding
from refactor.cocci.rules import Rule
from refactor.cocci.spatch import Spatch, apply_rule
from refactor.csrc import cindex
from refactor.families import registry
from refactor.families.ops import Plan
from refactor.families.planner import Planner
from refactor.families.registry import FAMILIES, HEADERS, PATCH_RULES, REPORT_ONLY
from refactor.generate.insert import INSERT_OPS, insert_lines
from refactor.generate.outcomes import Failure, Fixed, Why, patched, unfixed
from refactor.generate.tidy import tidy, unified, with_includes
from refactor.generate.voidint import VOIDINT_OPS, void_to_int
from refactor.invariants import checks as invariants
from refactor.model.tree import Driver
from refactor.model.treecache import SweepCache
from refactor.sweep.run import SweepResult, load_rules


@dataclass(frozen=True)
class Patch:
    id: str
    driver: str
    family: str
    rules: tuple[str, ...]
    findings: tuple[str, ...]  # ids of the findings it fixes
    files: tuple[str, ...]
    diff: str


@dataclass(frozen=True)
class Generated:
    patches: tuple[Patch, ...]
    outcomes: tuple[Fixed, ...]  # one per finding (the first counts if a finding had two)
    seconds: float
    cache_hits: int = 0  # drivers whose patches and refusals came from the cache

    @property
    def refused(self) -> tuple[Fixed, ...]:
        """The outcomes of the findings without a patch (refused, failed, report only)."""
        return tuple(o for o in self.outcomes if o.why is not None)

    def outcome(self, finding: str) -> Fixed | None:
        return next((o for o in self.outcomes if o.finding == finding), None)

    def patch_of(self, finding: str) -> str:
        return next((o.patch for o in self.outcomes if o.finding == finding and o.patch), "")

    def why_not(self, finding: str) -> str:
        return next((o.reason for o in self.refused if o.finding == finding), "")


# about 65 lines: the cache lookup, the planning in this thread and the spatch runs in the
# pool are one sequence whose order is the point (planning is not thread-safe)
def generate(
    result: SweepResult, spatch: Spatch, *, jobs: int = 2, timeout: int = 300, cache: SweepCache | None = None
) -> Generated:
    """Patches for the findings of `result`, one per driver and fix family.  With `cache`
    (the sweep's, from `treecache.load()`), a driver whose key (`SweepCache.patch_key`) is
    stored gives its stored patches and refusals without planning or running spatch."""
    start = time.monotonic()
    classifier = result.classifier or Classifier(result.model)  # the sweep's parsed files
    planner = Planner(classifier)
    rules = {r.id: r for r in result.rules}
    # the rules whose patch mode another rule's plans use, also when the sweep left them out
    wanted = {dep for r in rules for dep in PATCH_RULES.get(r, ())} - set(rules)
    rules.update({r.id: r for r in (load_rules(sorted(wanted)) if wanted else [])})
    by_driver: dict[str, list[Finding]] = {}
    for f in result.findings:
        by_driver.setdefault(f.driver, []).append(f)
    drivers = {d.name: d for d in result.drivers}
    done: dict[str, _Made] = {}
    keys: dict[str, str] = {}

    def dirs(d: Driver) -> set[str]:
        return {os.path.dirname(f) for f in d.module.files}

    for name, found in sorted(by_driver.items()):
        here = dirs(drivers[name])
        near = sorted(f"{d.module.path}:{d.role}" for d in result.model.drivers if dirs(d) & here)
        key = cache.patch_key(drivers[name], found, timeout, near) if cache is not None else None
        hit = cache.results.get(key) if cache is not None and key else None
        if isinstance(hit, _Made) and cache is not None and cache.deps_hold(hit.deps):
            done[name] = hit
        elif key:
            keys[name] = key

    def work(name: str, mine: list[Plan], deps: tuple[tuple[str, str], ...]) -> _Made:
        made, failed = _driver_patches(result.model.root, drivers[name], mine, rules, spatch, timeout)
        planned = tuple(unfixed(r.finding, Why.PLANNER, r.reason) for p in mine for r in p.refused)
        return _Made(planned, tuple(made), tuple(failed), deps)

    # planning parses files with caches that are not thread-safe: it stays in this thread,
    # each driver's spatch runs start in the pool as soon as its plans are made
    running: dict[str, Future[_Made]] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for name, found in sorted(by_driver.items()):
            if name in done:
                continue
            classifier.reads = set()
            try:
                mine = registry.plans(planner, drivers[name], found)
            finally:
                read, classifier.reads = classifier.reads, None
            deps = tuple((rel, cache.snap.digest_of(rel)) for rel in sorted(read)) if cache else ()
            running[name] = pool.submit(work, name, mine, deps)
        for name, future in running.items():
            made = done[name] = future.result()
            transient = any(o.why is Why.SPATCH for o in made.failed)
            if cache is not None and name in keys and not transient:  # a timeout may not recur
                cache.results.put(keys[name], made)
    patches: list[Patch] = []
    refused: list[Fixed] = []
    for name, found in sorted(by_driver.items()):
        refused.extend(unfixed(f.id, Why.NO_FAMILY, REPORT_ONLY[f.rule])
                       for f in found if f.rule in REPORT_ONLY)  # fmt: skip
        refused.extend(done[name].planned)
    for name in sorted(by_driver):
        patches.extend(done[name].patches)
        refused.extend(done[name].failed)
    fixed = [patched(fid, p.id) for p in patches for fid in p.findings]
    return Generated(tuple(patches), (*refused, *fixed), time.monotonic() - start,
                     sum(1 for n in by_driver if n not in running))  # fmt: skip


@dataclass(frozen=True)
class _Made:
    """What one driver's findings give, as the cache stores it."""

    planned: tuple[Fixed, ...]  # refusals of the planner
    patches: tuple[Patch, ...]
    failed: tuple[Fixed, ...]  # planned fixes that gave no patch (not made, unsafe, spatch failed)
    deps: tuple[tuple[str, str], ...]  # (file, content hash) of every file the planner asked for


def _driver_patches(
    root: Path, driver: Driver, plans: Sequence[Plan], rules: dict[str, Rule], spatch: Spatch, timeout: int
) -> tuple[list[Patch], list[Fixed]]:
    patches: list[Patch] = []
    refused: list[Fixed] = []
    with tempfile.TemporaryDirectory(prefix="drmm-generate-") as tmp:
        scratch = Path(tmp) / "tree"
        # the module's files, and the headers of its directories that a plan edits (a prototype)
        edited = {op.file for plan in plans for op in plan.ops if (root / op.file).is_file()}
        for rel in sorted({*driver.module.files, *edited}):
            (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / rel, scratch / rel)
        for plan in plans:
            if not plan.ops:
                continue
            files = sorted({op.file for op in plan.ops})
            before = {f: (scratch / f).read_text(errors="surrogateescape") for f in files}
            why = _apply(plan, files, scratch, Path(tmp), rules, spatch, timeout)
            made, unplaced = {}, []
            for f in files:
                made[f], lost = insert_lines(plan.ops, f, _declare(plan, f, (scratch / f).read_text(
                    errors="surrogateescape")))  # fmt: skip
                made[f], lost_too = void_to_int(plan.ops, f, made[f])
                unplaced += lost + lost_too
            if why is None and unplaced:
                op = unplaced[0]
                why = Failure(Why.NOT_MADE, f"the planned {op.kind} edit found no statement {op.code!r} "
                              f"in {op.name}() ({op.file})")  # fmt: skip
            after = {f: with_includes(before[f], tidy(before[f], made[f]), HEADERS) for f in files}
            diff = "".join(unified(f, before[f], after[f]) for f in files if before[f] != after[f])
            if why is None and not diff:
                why = Failure(Why.NOT_MADE, "the semantic patch changed nothing")
            if why is None:  # the semantic stage's invariants, on the driver's own files
                why = _unsafe(driver, plan, scratch, before, after)
            if why is not None:
                for f in files:
                    (scratch / f).write_text(before[f], errors="surrogateescape")
                refused.extend(unfixed(fid, why.why, why.reason) for fid in plan.findings)
                continue
            for f in files:
                (scratch / f).write_text(after[f], errors="surrogateescape")
            touched = tuple(f for f in files if before[f] != after[f])
            pid = hashlib.sha256(f"{driver.name}\0{plan.family}\0{diff}".encode()).hexdigest()[:12]
            patches.append(Patch(pid, driver.name, plan.family, plan.rules, plan.findings, touched, diff))
    return patches, refused


def _unsafe(driver: Driver, plan: Plan, scratch: Path, before: dict[str, str], after: dict[str, str]
            ) -> Failure | None:  # fmt: skip
    """Why the patch breaks a lifetime invariant ("unsafe: ..."), None when it breaks none."""
    files = tuple(f for f in before if before[f] != after[f])
    paths = tuple(sorted({os.path.dirname(f) for f in driver.module.files}))
    change = invariants.Change("", driver.name, plan.family, files, {f: before[f] for f in files},
                               {f: after[f] for f in files}, paths, scratch)  # fmt: skip
    found = invariants.check(change)
    return Failure(Why.UNSAFE, f"unsafe: {invariants.reason(found)}") if found else None


def _apply(
    plan: Plan,
    files: list[str],
    scratch: Path,
    tmp: Path,
    rules: dict[str, Rule],
    spatch: Spatch,
    timeout: int,
) -> Failure | None:
    """Run the family's rules in patch mode with the plan; None when every edit was made."""
    plan_file = tmp / f"plan-{plan.family}.json"
    applied_file = tmp / f"applied-{plan.family}.jsonl"
    plan_file.write_text(json.dumps([{"key": op.key, "args": op.args.as_json()} for op in plan.ops]))
    applied_file.write_text("")
    env = {
        "DRMM_REFACTOR": "1",
        "DRMM_REFACTOR_PLAN": str(plan_file),
        "DRMM_REFACTOR_APPLIED": str(applied_file),
    }
    # a plan may hold another family's edits (a struct's memory and its locks in one commit)
    wanted = {r for rule_id in plan.rules for r in PATCH_RULES.get(rule_id, (rule_id,))}
    for rule_id in dict.fromkeys(r for family in FAMILIES.values() for r in family.rules):
        rule = rules.get(rule_id)
        if rule is None or rule_id not in wanted:
            continue
        for file in files:  # one file a run: the rule names it in its keys
            failed = apply_rule(spatch, rule, [file], cwd=scratch, env={**env, "DRMM_REFACTOR_FILE": file},
                                timeout=timeout)  # fmt: skip
            if failed:
                return Failure(Why.SPATCH, failed)
    made = {json.loads(line) for line in applied_file.read_text().splitlines() if line.strip()}
    missing = [op for op in plan.ops if op.key not in made and op.kind not in GENERATOR_OPS]
    if missing:
        op = missing[0]
        where = f"{op.file}: {op.name}" + (f": {op.code}" if op.code else "")
        return Failure(
            Why.NOT_MADE, f"the semantic patch could not make the planned {op.kind} edit ({where})"
        )
    return None


GENERATOR_OPS = ("declare", *INSERT_OPS, *VOIDINT_OPS)  # edits made here rather than by a rule


def _declare(plan: Plan, rel: str, text: str) -> str:
    """`int VAR;` after the last declaration at the top of each function that needs it."""
    for op in plan.ops:
        if op.kind != "declare" or op.file != rel:
            continue
        data = text.encode(errors="surrogateescape")
        lines = text.splitlines(keepends=True)
        for node in cindex.walk(cindex.parse(data).root_node):
            if (
                node.type != "function_definition"
                or cindex._declarator_name(node.child_by_field_name("declarator"), data) != op.name
            ):
                continue
            body = node.child_by_field_name("body")
            if body is None:
                break
            decls = []
            for child in body.named_children:
                if child.type != "declaration":
                    break
                decls.append(child)
            line = f"\tint {op.args.var};\n"
            if decls:
                lines.insert(decls[-1].end_point[0] + 1, line)
            else:
                lines[body.start_point[0] + 1 : body.start_point[0] + 1] = [line, "\n"]
            text = "".join(lines)
            break
    return text
