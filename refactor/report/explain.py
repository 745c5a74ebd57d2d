"""`drmm-refactor explain RULE`: what a rule finds, why it is a bug, the fix, and an
example from the bundled corpus: a marked bug site (`// expect: RULE`) and the change the
tool generates for it (`corpus/golden/**/*.res`), or why it generates none."""

from __future__ import annotations

import difflib
import re
import textwrap
from dataclasses import dataclass
from pathlib import Path

from refactor.cocci.spatch import Rule
from refactor.infra.bundled import bundled
from refactor.infra.errors import RefactorError
from refactor.report import render
from refactor.sweep.run import confidence, load_rules

CORPUS = bundled("corpus")
_MARK = re.compile(r"//\s*expect:\s*([\w-]+)\s*$")
WIDTH = 88


@dataclass(frozen=True)
class Example:
    file: str  # relative to the corpus tree
    line: int
    before: str  # the code around the bug site, numbered
    after: str  # the generated change (a unified diff hunk), or ""
    why_none: str  # why the corpus has no generated change for it


def find_rule(name: str) -> Rule:
    rules = load_rules()
    for r in rules:
        if r.id == name:
            return r
    raise RefactorError(f"unknown rule {name}: known rules are {', '.join(sorted(r.id for r in rules))}")


def _sites(tree: Path, rule: str) -> list[tuple[str, int]]:
    """The (file, line) of each `// expect: RULE` mark: its line, or the next when alone."""
    out = []
    for path in sorted((tree / "drivers").rglob("*.c")):
        lines = path.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            m = _MARK.search(line)
            if m and m.group(1) == rule:
                out.append((str(path.relative_to(tree)), i + 2 if line.strip().startswith("//") else i + 1))
    return out


def _before(lines: list[str], line: int, context: int = 4) -> str:
    first, last = max(1, line - context), min(len(lines), line + context)
    return "".join(f"{'>' if n == line else ' '}{n:5} {lines[n - 1]}\n" for n in range(first, last + 1))


def example(rule: str, corpus: Path = CORPUS) -> Example | None:
    """The first corpus site of `rule` that has a generated fix; else the first site."""
    tree, golden = corpus / "tree", corpus / "golden"
    if not tree.is_dir():
        return None
    sites = _sites(tree, rule)
    refused: dict[tuple[str, int], str] = {}
    if (golden / "refused.txt").is_file():
        for entry in (golden / "refused.txt").read_text().splitlines():
            place, _, rest = entry.partition(f": {rule}: ")
            if rest:
                path, _, number = place.rpartition(":")
                refused[(path, int(number))] = rest
    for file, line in sites:
        res = golden / Path(file).with_suffix(".res")
        if not res.is_file():
            continue
        diff = "".join(difflib.unified_diff(
            (tree / file).read_text().splitlines(keepends=True), res.read_text().splitlines(keepends=True),
            f"a/{file}", f"b/{file}",
        ))  # fmt: skip
        hunks = render.hunks_at(diff, file, line)
        if hunks:
            lines = (tree / file).read_text().splitlines()
            return Example(file, line, _before(lines, line), "".join(hunks), "")
    if not sites:
        return None
    file, line = sites[0]
    why = refused.get((file, line), "the corpus has no generated change for this site")
    return Example(file, line, _before((tree / file).read_text().splitlines(), line), "", why)


def explain(name: str, corpus: Path = CORPUS) -> str:
    """The explanation of rule `name` as text; RefactorError for an unknown rule."""
    rule = find_rule(name)
    what, _, fix = rule.description.partition(" Fix: ")
    first, _, why = what.partition(".  ")
    level = confidence(rule.confidence)

    def para(title: str, text: str) -> str:
        return f"{title}\n" + textwrap.fill(" ".join(text.split()), WIDTH, initial_indent="  ",
                                            subsequent_indent="  ") + "\n\n"  # fmt: skip

    out = [f"{rule.id} (confidence: {level})\n\n"]
    if why:
        out.append(para("What it finds:", first.rstrip(".") + "."))
        out.append(para("Why it is a bug:", why))
    else:
        out.append(para("What it finds, and why it is a bug:", what))
    out.append(para("The fix:", (fix[:1].upper() + fix[1:]) if fix else "none proposed"))
    if rule.comments:
        out.append(para(f"Confidence {level}:", rule.comments))
    ex = example(rule.id, corpus)
    if ex is None:
        out.append("Example: none (the bundled corpus is not installed with the package)\n")
        return "".join(out)
    out.append(f"Example from the corpus: corpus/tree/{ex.file}:{ex.line}\n\nBefore:\n{ex.before}\n")
    if ex.after:
        out.append(f"After (the change drmm-refactor generates, corpus/golden):\n{ex.after}")
    else:
        out.append(para("After: no generated change:", ex.why_none))
    return "".join(out).rstrip("\n") + "\n"
