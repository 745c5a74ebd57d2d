"""The sweep report for people: the per-driver summary shared by every format, and its
Markdown and HTML renderings (HTML from the jinja2 templates in `refactor/templates/`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2
import unidiff

from refactor import __version__
from refactor.generate.run import Generated, Patch
from refactor.sweep.run import Finding, SweepResult
from refactor.verify.run import Checked

CONFIDENCES = ("high", "medium", "low")
CONTEXT = 3  # lines of code shown either side of a finding in the HTML report


@dataclass(frozen=True)
class DriverSummary:
    """One row of the overview: a driver's findings and patches (or the total)."""

    driver: str
    findings: int
    by_confidence: tuple[tuple[str, int], ...]  # high, medium, low, all three
    by_rule: tuple[tuple[str, int], ...]  # only rules with findings
    patches: int
    without_patch: int  # findings no patch fixes
    by_verdict: tuple[tuple[str, int], ...]  # patches by verdict (only with --verify)

    def confidence(self, level: str) -> int:
        return dict(self.by_confidence).get(level, 0)


@dataclass(frozen=True)
class Summary:
    drivers: tuple[DriverSummary, ...]
    total: DriverSummary
    patched: bool  # patches were generated (not --no-patches)
    verified: bool  # patches have verdicts (--verify)


@dataclass(frozen=True)
class Status:
    """What a finding's report says about its fix: the patch and its verdict, or why none."""

    patch: str
    verdict: str  # a verdict, "not-checked", "no-patch", or "" without patch generation
    reason: str
    built: str = ""  # "arm64, 3/3 hunks compiled": where it was built and its proof


def built_text(c: Checked) -> str:
    """The architecture a patch was built for and its compiled-lines figure."""
    if c.proof is not None:
        return f"{c.arch}, {c.proof.compiled}/{c.proof.hunks} hunks compiled"
    return c.arch


def _row(name: str, found: Sequence[Finding], patches: Sequence[Patch], fixed: set[str],
         verdicts: dict[str, Checked]) -> DriverSummary:  # fmt: skip
    levels = Counter(f.confidence for f in found)
    rules = Counter(f.rule for f in found)
    verdict_counts = Counter(verdicts[p.id].verdict for p in patches if p.id in verdicts)
    return DriverSummary(
        driver=name,
        findings=len(found),
        by_confidence=tuple((c, levels[c]) for c in CONFIDENCES),
        by_rule=tuple(sorted(rules.items())),
        patches=len(patches),
        without_patch=sum(1 for f in found if f.id not in fixed),
        by_verdict=tuple(sorted(verdict_counts.items())),
    )


def summarise(
    result: SweepResult, generated: Generated | None = None, checks: Sequence[Checked] | None = None
) -> Summary:
    """The overview table: one row per driver with findings or patches, and the total."""
    verdicts = {c.patch: c for c in checks or ()}
    patches = generated.patches if generated is not None else ()
    fixed = {fid for p in patches for fid in p.findings}
    names = sorted({f.driver for f in result.findings} | {p.driver for p in patches})
    rows = tuple(
        _row(
            n,
            [f for f in result.findings if f.driver == n],
            [p for p in patches if p.driver == n],
            fixed,
            verdicts,
        )  # fmt: skip
        for n in names
    )
    total = _row("total", result.findings, patches, fixed, verdicts)
    return Summary(rows, total, generated is not None, bool(verdicts))


def skipped_files(result: SweepResult) -> dict[str, tuple[str, str, list[str]]]:
    """Each skipped file once: its reason, detail and the rules that could not check it."""
    out: dict[str, tuple[str, str, list[str]]] = {}
    for s in result.skipped:
        reason, detail, rules = out.setdefault(s.file, (s.reason, s.detail, []))
        rules.append(s.rule)
    return out


def status(f: Finding, generated: Generated | None, checks: Sequence[Checked] | None) -> Status:
    if generated is None:
        return Status("", "", "")
    pid = generated.patch_of(f.id)
    if not pid:
        return Status("", "no-patch", generated.why_not(f.id))
    c = next((c for c in checks or () if c.patch == pid), None)
    if c is None:
        return Status(pid, "not-checked", "")
    return Status(pid, c.verdict, c.reason, built_text(c))


def status_text(s: Status) -> str:
    """`patch: ID (verdict: reason)` or `no patch: why`, as the text report words it."""
    if s.verdict == "no-patch":
        return f"no patch: {s.reason}"
    if s.verdict in ("not-checked", ""):
        return f"patch: {s.patch}"
    built = f"; {s.built}" if s.built else ""
    return f"patch: {s.patch} ({s.verdict}{': ' + s.reason if s.reason else ''}{built})"


def verdict_cell(row: DriverSummary, summary: Summary) -> str:
    """The PATCHES cell: the count, with the verdicts when the patches were verified."""
    if not row.patches:
        return ""
    if not summary.verified:
        return str(row.patches)
    return f"{row.patches}: " + ", ".join(f"{v} {n}" for v, n in row.by_verdict)


def hunks_at(diff: str, file: str, line: int) -> list[str]:
    """The hunks of `diff` on `file` whose original lines include `line` (the proposed change
    at a finding), as unified diff text, each with its `@@` header."""
    try:
        patch = unidiff.PatchSet(diff)
    except unidiff.UnidiffParseError:
        return []
    out = []
    for pf in patch:
        if pf.source_file.removeprefix("a/") != file:
            continue
        for h in pf:
            if h.source_start <= line < h.source_start + max(h.source_length, 1):
                out.append(str(h))
    return out


# Markdown --------------------------------------------------------------------------------


def _md(text: str) -> str:
    """Plain text made inert in Markdown (no emphasis, tables or HTML)."""
    for ch in "\\`*_[]<>|":
        text = text.replace(ch, "\\" + ch)
    return text


def sweep_md(
    result: SweepResult, generated: Generated | None = None, checks: Sequence[Checked] | None = None
) -> str:
    """The text report as Markdown, for a mail or an issue tracker."""
    model = result.model
    summary = summarise(result, generated, checks)
    out = [
        f"# drmm-refactor sweep of Linux {model.version}\n\n",
        f"Tree `{model.root}`: {len(result.drivers)} drm drivers, {result.files} files, "
        f"{len(result.rules)} rules, spatch {result.spatch_version}, {result.seconds:.1f}s; "
        f"drmm-refactor {__version__}.\n\n",
    ]
    if summary.drivers:
        head = ["driver", "findings", *CONFIDENCES, "rules"]
        if summary.patched:
            head += ["patches", "no patch"]
        out.append("| " + " | ".join(head) + " |\n")
        sep = ["---", *["---:"] * 4, "---", *(["---", "---:"] if summary.patched else [])]
        out.append("|" + "|".join(sep) + "|\n")
        for row in (*summary.drivers, summary.total):
            bold = "**" if row is summary.total else ""
            cells = [f"{bold}{_md(row.driver)}{bold}", str(row.findings),
                     *[str(row.confidence(c) or "") for c in CONFIDENCES],
                     ", ".join(f"{_md(r)} {n}" for r, n in row.by_rule)]  # fmt: skip
            if summary.patched:
                cells += [_md(verdict_cell(row, summary)), str(row.without_patch or "")]
            out.append("| " + " | ".join(cells) + " |\n")
        out.append("\n## Findings\n")
    driver = None
    for f in result.findings:
        if f.driver != driver:
            driver = f.driver
            out.append(f"\n### {_md(driver)}\n\n")
        place = f"`{f.file}:{f.line}` `{f.function}()`"
        out.append(f"- {place} **{f.rule}** ({f.confidence}): {_md(f.message)}  \n")
        out.append(f"  fix: {_md(f.fix)}")
        st = status(f, generated, checks)
        out.append(f"  \n  {_md(status_text(st))}\n" if st.verdict else "\n")
    skipped = skipped_files(result)
    out.append(f"\n{len(result.findings)} findings in {len(summary.drivers)} drivers; "
               f"{len(skipped)} files skipped.\n")  # fmt: skip
    if skipped:
        out.append("\n## Skipped files\n\n")
        for file, (reason, detail, rules) in sorted(skipped.items()):
            out.append(f"- `{file}`: {reason}: {_md(detail)} (rules: {', '.join(rules)})\n")
    if generated is not None and generated.patches:
        out.append("\n## Patches\n\n")
        for p in generated.patches:
            c = next((c for c in checks or () if c.patch == p.id), None)
            verdict = f", {c.verdict}" + (f": {_md(c.reason)}" if c.reason else "") if c else ""
            verdict += f" ({_md(built_text(c))})" if c and c.arch else ""
            out.append(f"- `{p.id}` {_md(p.driver)}: {p.family} ({', '.join(p.rules)}), "
                       f"{len(p.findings)} findings{verdict}\n")  # fmt: skip
    return "".join(out)


# HTML ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    number: int | str
    text: str
    cls: str


def _code_around(root: Path, file: str, line: int, cache: dict[str, list[str]]) -> list[_Line]:
    if file not in cache:
        try:
            cache[file] = (root / file).read_text(errors="replace").splitlines()
        except OSError:
            cache[file] = []
    lines = cache[file]
    first, last = max(1, line - CONTEXT), min(len(lines), line + CONTEXT)
    return [_Line(n, lines[n - 1], "hit" if n == line else "") for n in range(first, last + 1)]


def _diff_lines(diff: str) -> list[_Line]:
    cls = {"+": "add", "-": "del", "@": "hunk"}
    out = []
    for line in diff.splitlines():
        kind = "file" if line.startswith(("+++ ", "--- ")) else cls.get(line[:1], "")
        out.append(_Line("", line, kind))
    return out


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("refactor", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def sweep_html(
    result: SweepResult, generated: Generated | None = None, checks: Sequence[Checked] | None = None
) -> str:
    """One self-contained HTML page: overview, per-driver findings with their code and
    proposed change, the patches, the skipped files; filters work with JavaScript only."""
    summary = summarise(result, generated, checks)
    cache: dict[str, list[str]] = {}
    patches = {p.id: p for p in generated.patches} if generated is not None else {}
    sections = []
    for row in summary.drivers:
        items = []
        for f in (f for f in result.findings if f.driver == row.driver):
            st = status(f, generated, checks)
            hunks = hunks_at(patches[st.patch].diff, f.file, f.line) if st.patch else []
            items.append({
                "f": f, "status": st, "code": _code_around(result.model.root, f.file, f.line, cache),
                "change": _diff_lines("".join(hunks)), "status_text": status_text(st) if st.verdict else "",
            })  # fmt: skip
        own = [p for p in patches.values() if p.driver == row.driver]
        verdicts = {c.patch: c for c in checks or ()}
        sections.append({
            "row": row, "findings": items,
            "patches": [{"p": p, "check": verdicts.get(p.id), "lines": _diff_lines(p.diff)} for p in own],
        })  # fmt: skip
    filters = {
        "rule": sorted({f.rule for f in result.findings}),
        "confidence": [c for c in CONFIDENCES if summary.total.confidence(c)],
        "verdict": sorted({status(f, generated, checks).verdict for f in result.findings} - {""}),
    }
    return _environment().get_template("report.html.j2").render(
        result=result, model=result.model, summary=summary, sections=sections, filters=filters,
        skipped=sorted(skipped_files(result).items()), version=__version__,
        confidences=CONFIDENCES, verdict_cell=verdict_cell,
    )  # fmt: skip
