"""Generate: the patches that fix the findings, written by the rules' `virtual patch` mode.

For each driver, the fix families are applied in a fixed order (one future commit each)
to a scratch copy of the driver's files: the planner (`plan.py`) decides the edits, the
semantic patches make them, and every planned edit must be reported as made, or the
family's patch is dropped and its findings say why.  Each patch is a unified diff that
applies with `patch -p1` (or `git apply`) at the tree root on top of the patches of the
same driver before it.  The user's tree is only read.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from refactor.classify.classifier import Classifier
from refactor.cocci.spatch import Rule, Spatch, apply_rule
from refactor.csrc import cindex
from refactor.families.plan import FAMILIES, FAMILY_OF, NO_PATCH, PATCH_RULES, Plan, Planner
from refactor.invariants import checks as invariants
from refactor.model.tree import Driver
from refactor.sweep.run import Finding, SweepResult, load_rules

if TYPE_CHECKING:
    from refactor.model.treecache import SweepCache


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
    refused: tuple[tuple[str, str], ...]  # (finding id, why it has no patch)
    seconds: float
    cache_hits: int = 0  # drivers whose patches and refusals came from the cache

    def patch_of(self, finding: str) -> str:
        return next((p.id for p in self.patches if finding in p.findings), "")

    def why_not(self, finding: str) -> str:
        return next((why for fid, why in self.refused if fid == finding), "")


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
    for name, found in sorted(by_driver.items()):
        key = cache.patch_key(drivers[name], found, timeout) if cache is not None else None
        hit = cache.results.get(key) if cache is not None and key else None
        if isinstance(hit, _Made) and cache is not None and cache.deps_hold(hit.deps):
            done[name] = hit
        elif key:
            keys[name] = key

    def work(name: str, mine: list[Plan], deps: tuple[tuple[str, str], ...]) -> _Made:
        made, failed = _driver_patches(result.model.root, drivers[name], mine, rules, spatch, timeout)
        return _Made(tuple(r for p in mine for r in p.refused), tuple(made), tuple(failed), deps)

    # planning parses files with caches that are not thread-safe: it stays in this thread,
    # each driver's spatch runs start in the pool as soon as its plans are made
    running: dict[str, Future[_Made]] = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for name, found in sorted(by_driver.items()):
            if name in done:
                continue
            classifier.reads = set()
            try:
                mine = _plans(planner, drivers[name], found)
            finally:
                read, classifier.reads = classifier.reads, None
            deps = tuple((rel, cache.snap.digest_of(rel)) for rel in sorted(read)) if cache else ()
            running[name] = pool.submit(work, name, mine, deps)
        for name, future in running.items():
            made = done[name] = future.result()
            transient = any(why.startswith(_SPATCH_FAILED) for _, why in made.failed)
            if cache is not None and name in keys and not transient:  # a timeout may not recur
                cache.results.put(keys[name], made)
    patches: list[Patch] = []
    refused: list[tuple[str, str]] = []
    for name, found in sorted(by_driver.items()):
        refused.extend((f.id, NO_PATCH[f.rule]) for f in found if f.rule in NO_PATCH)
        refused.extend(done[name].planned)
    for name in sorted(by_driver):
        patches.extend(done[name].patches)
        refused.extend(done[name].failed)
    return Generated(tuple(patches), tuple(refused), time.monotonic() - start,
                     sum(1 for n in by_driver if n not in running))  # fmt: skip


@dataclass(frozen=True)
class _Made:
    """What one driver's findings give, as the cache stores it."""

    planned: tuple[tuple[str, str], ...]  # refusals of the planner
    patches: tuple[Patch, ...]
    failed: tuple[tuple[str, str], ...]  # planned fixes the semantic patches did not make
    deps: tuple[tuple[str, str], ...]  # (file, content hash) of every file the planner asked for


def _plans(planner: Planner, driver: Driver, findings: Sequence[Finding]) -> list[Plan]:
    plans = []
    for family in FAMILIES:
        mine = [f for f in findings if FAMILY_OF.get(f.rule) == family]
        if mine:
            plans.append(planner.plan(driver, family, mine))
    return planner.commits(driver, plans, findings)


def _driver_patches(
    root: Path, driver: Driver, plans: Sequence[Plan], rules: dict[str, Rule], spatch: Spatch, timeout: int
) -> tuple[list[Patch], list[tuple[str, str]]]:
    patches: list[Patch] = []
    refused: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="drmm-generate-") as tmp:
        scratch = Path(tmp) / "tree"
        for rel in driver.module.files:
            (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(root / rel, scratch / rel)
        for plan in plans:
            if not plan.ops:
                continue
            files = sorted({op.file for op in plan.ops})
            before = {f: (scratch / f).read_text(errors="surrogateescape") for f in files}
            why = _apply(plan, files, scratch, Path(tmp), rules, spatch, timeout)
            made = {f: _declare(plan, f, (scratch / f).read_text(errors="surrogateescape")) for f in files}
            after = {f: _with_includes(before[f], _tidy(before[f], made[f])) for f in files}
            diff = "".join(_unified(f, before[f], after[f]) for f in files if before[f] != after[f])
            if not why and not diff:
                why = "the semantic patch changed nothing"
            if not why:  # the semantic stage's invariants, on the driver's own files
                why = _unsafe(driver, plan, scratch, before, after)
            if why:
                for f in files:
                    (scratch / f).write_text(before[f], errors="surrogateescape")
                refused.extend((fid, why) for fid in plan.findings)
                continue
            for f in files:
                (scratch / f).write_text(after[f], errors="surrogateescape")
            touched = tuple(f for f in files if before[f] != after[f])
            pid = hashlib.sha256(f"{driver.name}\0{plan.family}\0{diff}".encode()).hexdigest()[:12]
            patches.append(Patch(pid, driver.name, plan.family, plan.rules, plan.findings, touched, diff))
    return patches, refused


def _unsafe(driver: Driver, plan: Plan, scratch: Path, before: dict[str, str], after: dict[str, str]) -> str:
    """Why the patch breaks a lifetime invariant ("unsafe: ..."), "" when it breaks none."""
    files = tuple(f for f in before if before[f] != after[f])
    paths = tuple(sorted({os.path.dirname(f) for f in driver.module.files}))
    change = invariants.Change("", driver.name, plan.family, files, {f: before[f] for f in files},
                               {f: after[f] for f in files}, paths, scratch)  # fmt: skip
    found = invariants.check(change)
    return f"unsafe: {invariants.reason(found)}" if found else ""


def _apply(
    plan: Plan,
    files: list[str],
    scratch: Path,
    tmp: Path,
    rules: dict[str, Rule],
    spatch: Spatch,
    timeout: int,
) -> str:
    """Run the family's rules in patch mode with the plan; "" when every edit was made."""
    plan_file = tmp / f"plan-{plan.family}.json"
    applied_file = tmp / f"applied-{plan.family}.jsonl"
    plan_file.write_text(json.dumps([{"key": op.key, "args": dict(op.args)} for op in plan.ops]))
    applied_file.write_text("")
    env = {
        "DRMM_REFACTOR": "1",
        "DRMM_REFACTOR_PLAN": str(plan_file),
        "DRMM_REFACTOR_APPLIED": str(applied_file),
    }
    # a plan may hold another family's edits (a struct's memory and its locks in one commit)
    wanted = {r for rule_id in plan.rules for r in PATCH_RULES.get(rule_id, (rule_id,))}
    for rule_id in [r for family in FAMILIES.values() for r in family]:
        rule = rules.get(rule_id)
        if rule is None or rule_id not in wanted:
            continue
        for file in files:  # one file a run: the rule names it in its keys
            failed = apply_rule(spatch, rule, [file], cwd=scratch, env={**env, "DRMM_REFACTOR_FILE": file},
                                timeout=timeout)  # fmt: skip
            if failed:
                return failed
    made = {json.loads(line) for line in applied_file.read_text().splitlines() if line.strip()}
    missing = [op for op in plan.ops if op.key not in made and op.kind not in GENERATOR_OPS]
    if missing:
        op = missing[0]
        where = f"{op.file}: {op.name}" + (f": {op.code}" if op.code else "")
        return f"the semantic patch could not make the planned {op.kind} edit ({where})"
    return ""


GENERATOR_OPS = ("declare",)  # edits made here rather than by a rule
_SPATCH_FAILED = ("spatch timed out", "spatch exited with")  # apply_rule's failures


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
            line = f"\tint {dict(op.args)['var']};\n"
            if decls:
                lines.insert(decls[-1].end_point[0] + 1, line)
            else:
                lines[body.start_point[0] + 1 : body.start_point[0] + 1] = [line, "\n"]
            text = "".join(lines)
            break
    return text


def _unified(rel: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{rel}", f"b/{rel}", n=3
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _tidy(old: str, new: str) -> str:
    """What spatch's pretty printer leaves for a person to fix: blank lines doubled where
    code went, and arguments aligned to a paren that moved.  (A comment right above a
    statement the patch removes describes it, and spatch removes it too.)"""
    return _realign(old, _tidy_guards(old, _tidy_blank_lines(old, _tidy_whitespace(old, new))))


def _tidy_whitespace(old: str, new: str) -> str:
    """A line the patch writes holds no trailing whitespace (spatch indents the blank line
    after statements it adds); the file's own lines stay as they are."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out: list[str] = []
    written: set[int] = set()  # indices in `out` of blank lines the patch wrote
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        for x in b[j1:j2]:
            if tag in ("replace", "insert"):
                x = x.rstrip() + "\n" if x.endswith("\n") else x.rstrip()
                if not x.strip():
                    written.add(len(out))
            out.append(x)
    # a blank line written next to another blank line doubles it
    keep: list[str] = []
    for i, x in enumerate(out):
        after = i + 1 < len(out) and not out[i + 1].strip() and i + 1 not in written
        if i in written and ((keep and not keep[-1].strip()) or after):
            continue
        keep.append(x)
    return "".join(keep)


# header -> the helpers a patch may add that it declares (the others come with the
# unmanaged function they replace: drm_crtc.h, drm_plane.h, ...)
HEADERS = {"drm/drm_drv.h": re.compile(r"\bdrm_dev_(enter|exit|unplug|unregister|register)\("),
           "drm/drm_managed.h": re.compile(r"\bdrmm_(kzalloc|kmalloc|kcalloc|kmalloc_array|kstrdup|kfree|"
                                           r"mutex_init|add_action|add_action_or_reset)\(")}  # fmt: skip
_INCLUDE = re.compile(r"^#include <(\w+)/([\w./-]+)>")


def _with_includes(old: str, new: str) -> str:
    """Include what the patch now uses: the header of a helper the file did not use before
    goes into its `#include <drm/...>` block, in order (after the `<linux/...>` block when
    there is none)."""
    for header, uses in HEADERS.items():
        line = f"#include <{header}>\n"
        if line in new or not uses.search(new) or uses.search(old):
            continue
        lines = new.splitlines(keepends=True)
        group = header.split("/")[0]
        block = [
            (i, m.group(2)) for i, x in enumerate(lines) if (m := _INCLUDE.match(x)) and m.group(1) == group
        ]
        if block:
            leaf = header.split("/", 1)[1]
            lines.insert(next((i for i, name in block if name > leaf), block[-1][0] + 1), line)
        else:
            linux = [i for i, x in enumerate(lines) if x.startswith("#include <")]
            if not linux:
                continue
            at = linux[-1] + 1
            # the file's own habit: a blank line between groups, or none
            lines[at:at] = ["\n", line] if at < len(lines) and not lines[at].strip() else [line]
        new = "".join(lines)
    return new


def _width(text: str) -> int:
    return len(text.expandtabs(8))


def _open_paren(line: str) -> int | None:
    """The display column of the last unclosed `(` of a line, None when all are closed."""
    stack: list[int] = []
    col = 0
    for ch in line:
        if ch == "(":
            stack.append(col)
        elif ch == ")" and stack:
            stack.pop()
        col = (col // 8 + 1) * 8 if ch == "\t" else col + 1
    return stack[-1] if stack else None


def _indent(width: int) -> str:
    return "\t" * (width // 8) + " " * (width % 8)


def _realign(old: str, new: str) -> str:
    """Continuation lines aligned to the open paren of a line the patch changed (a renamed
    call) move with the paren, as checkpatch expects."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out = list(b)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "replace":
            continue
        for k in range(min(i2 - i1, j2 - j1)):
            was, now = _open_paren(a[i1 + k]), _open_paren(b[j1 + k])
            if was is None or now is None or was == now:
                continue
            j = j1 + k + 1
            while j < len(out) and j - j1 < (j2 - j1) + 8:
                body = out[j].lstrip(" \t")
                lead = out[j][: len(out[j]) - len(body)]
                if not body.strip() or _width(lead) != was + 1 or (j < j2 and j - j1 < j2 - j1):
                    break
                out[j] = _indent(now + 1) + body
                if body.rstrip().endswith((";", "{", ")")) and _open_paren(out[j]) is None:
                    break
                j += 1
    return "".join(out)


_GUARD = re.compile(r"^\s*if \(!drm_dev_enter\(.*\)\)( \{)?$")
_IF = re.compile(r"^\s*(} else )?if \(.*\)$")


def _comment_above(lines: list[str], i: int) -> int:
    """The first line of the comments right above line `i` (`i` when there are none): `//`
    lines and whole block comments, not code with a comment at its end."""
    j = i
    while j > 0:
        prev = lines[j - 1].strip()
        if prev.startswith("//"):
            j -= 1
        elif prev.endswith("*/"):
            k = j - 1
            while k >= 0 and "/*" not in lines[k]:
                k -= 1
            if k < 0 or not lines[k].strip().startswith("/*"):
                break
            j = k
        else:
            break
    return j


def _guard_size(lines: list[str], i: int) -> int:
    """The lines of the drm_dev_enter() check at `i`: the check and its return, or a braced
    failure path (which delivers the pending event) down to its closing brace."""
    head = lines[i].rstrip("\n")
    if not head.endswith("{"):
        return 2
    indent = head[: len(head) - len(head.lstrip())]
    for k in range(i + 1, len(lines)):
        if lines[k].rstrip("\n") == indent + "}":
            return k - i + 1
    return 2


_SPAN = re.compile(r"^(\s*)if \(drm_dev_enter\(.*\)\) \{$")


def _reindent_spans(old: str, new: str) -> str:
    """The statements a guard block wraps, as they were plus one tab: spatch re-indents
    them itself but leaves the comments between them (and braces after a comment) where
    they were."""
    before = old.splitlines(keepends=True)
    lines = new.splitlines(keepends=True)
    keys = [x.strip() for x in before]
    for i, line in enumerate(lines):
        m = _SPAN.match(line.rstrip("\n"))
        if not m or line in before:
            continue
        end = next((k for k in range(i + 1, len(lines)) if lines[k].rstrip("\n") == m.group(1) + "}"), None)
        if end is None or end - 2 <= i or not lines[end - 1].strip().startswith("drm_dev_exit("):
            continue
        inner = [x.strip() for x in lines[i + 1 : end - 1]]
        at = next((k for k in range(len(keys)) if keys[k : k + len(inner)] == inner), None)
        if at is not None:
            lines[i + 1 : end - 1] = [("\t" + x if x.strip() else x) for x in before[at : at + len(inner)]]
    return "".join(lines)


def _tidy_guards(old: str, new: str) -> str:
    """Where spatch puts an added drm_dev_enter() check (its return, or its braced failure
    path), as checkpatch and a reader want it: above the comment of the statement it
    precedes (not between them), after a blank line that ends the declarations; and an
    `if` arm left unbraced when its `else` was braced
    (to hold drm_dev_exit()) gets braces too."""
    if "drm_dev_enter(" not in new:
        return new
    new = _reindent_spans(old, new)
    before = set(old.splitlines())
    lines = new.splitlines(keepends=True)
    i = 0
    while i + 1 < len(lines):
        if _GUARD.match(lines[i].rstrip("\n")) and lines[i].rstrip("\n") not in before:
            size = _guard_size(lines, i)
            guard = lines[i : i + size]
            j = _comment_above(lines, i)
            if j < i:
                lines[j : i + size] = guard + lines[j:i]
                i = j
            if i > 0 and lines[i - 1].strip().endswith(";"):
                lines.insert(i, "\n")
                i += 1
            i += size
            continue
        i += 1
    for k in range(2, len(lines)):
        arm, stmt, cond = lines[k].rstrip("\n"), lines[k - 1], lines[k - 2].rstrip("\n")
        if (arm.strip() == "else {" and arm not in before and stmt.strip().endswith(";")
                and _IF.match(cond) and not cond.endswith("{")):  # fmt: skip
            indent = arm[: len(arm) - len(arm.lstrip())]
            lines[k - 2] = cond + " {\n"
            lines[k] = f"{indent}}} else {{\n"
    return "".join(lines)


def _tidy_blank_lines(old: str, new: str) -> str:
    """Where the patch removed code (a function, a statement), spatch can leave a blank
    line in its place, and the blank lines that framed it now meet: keep one."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out: list[str] = []
    cuts: list[int] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        chunk = b[j1:j2]
        if (
            tag in ("replace", "delete")
            and any(x.strip() for x in a[i1:i2])
            and all(not x.strip() for x in chunk)
        ):
            cuts.append(len(out))
            continue
        out.extend(chunk)
    for k in reversed(cuts):
        if k < len(out) and not out[k].strip() and (k == 0 or not out[k - 1].strip()):
            del out[k]
    return "".join(out)
