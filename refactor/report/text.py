"""Rendering: the tree model and results as text tables and JSON documents."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import click

from refactor import __version__
from refactor.generate.run import Generated
from refactor.model.tree import Driver, TreeModel
from refactor.report import render
from refactor.sweep.run import SweepResult, confidence
from refactor.verify.checked import Checked


def _driver_json(d: Driver) -> dict[str, Any]:
    m = d.module
    return {
        "name": d.name,
        "module": m.path,
        "config": m.config,
        "makefile": m.makefile,
        "files": list(m.files),
        "test": d.test,
        "private_structs": list(d.private_structs),
        "allocations": [
            {
                "call": a.call,
                "api": a.api,
                "file": a.file,
                "line": a.line,
                "function": a.function,
                "struct": a.struct,
                "member": a.member,
                "assigned_to": a.assigned_to,
            }
            for a in d.allocations
        ],
    }


def drivers_json(model: TreeModel, drivers: list[Driver]) -> str:
    doc = {
        "tool": {"name": "drmm-refactor", "version": __version__},
        "tree": {"path": str(model.root), "version": model.version},
        "drivers": [_driver_json(d) for d in drivers],
        "wrappers": [
            {"name": w.name, "api": w.api, "file": w.file, "line": w.line, "kind": w.kind}
            for w in model.wrappers
        ],
        "unmapped": [{"file": a.file, "line": a.line, "call": a.call} for a in model.unmapped],
        "api": [
            {"name": e.name, "kind": e.kind, "header": e.header, "line": e.line} for e in model.api.entries
        ],
        "stats": {
            "modules": len(model.kbuild.modules),
            "kbuild_files": len(model.kbuild.makefiles),
            "drivers": len(drivers),
        },
    }
    return json.dumps(doc, indent=2) + "\n"


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines) + "\n"


def drivers_text(model: TreeModel, drivers: list[Driver]) -> str:
    rows = []
    for d in drivers:
        for i, a in enumerate(d.allocations):
            call = a.call if a.call == a.api else f"{a.call} -> {a.api}"
            rows.append(
                [
                    d.name if i == 0 else "",
                    d.module.path if i == 0 else "",
                    str(len(d.module.files)) if i == 0 else "",
                    call,
                    f"{a.file}:{a.line}",
                    f"{a.struct}.{a.member}" if a.struct else "",
                ]
            )
        if not d.allocations:
            rows.append([d.name, d.module.path, str(len(d.module.files)), f"({d.role})", "", ""])
    out = [f"Linux {model.version} at {model.root}\n"]
    out.append(table(["DRIVER", "MODULE", "FILES", "ALLOCATION", "SITE", "PRIVATE STRUCT"], rows))
    managed = sum(1 for d in drivers if any(a.managed for a in d.allocations))
    tests = sum(1 for d in drivers if d.test)
    creators = sum(1 for d in drivers if d.allocations)
    components = len(drivers) - creators
    out.append(
        f"\n{creators} drivers create a drm_device ({managed} with devm_drm_dev_alloc, "
        f"{tests} in test code), {components} component modules bind to one; "
        f"{len(model.kbuild.modules)} modules in "
        f"{len(model.kbuild.makefiles)} Kbuild files.\n"
    )
    if model.unmapped:
        out.append(f"{len(model.unmapped)} allocation sites in files no Kbuild module lists:\n")
        out += [f"  {a.file}:{a.line} {a.call}\n" for a in model.unmapped]
    return "".join(out)


# about 75 lines: the JSON contract (DESIGN.md, section 4) as one document, section by section,
# so that the code reads like the contract it must keep
def sweep_json(
    result: SweepResult, generated: Generated | None = None, checks: Sequence[Checked] | None = None
) -> str:
    model = result.model
    gen = generated or Generated((), (), 0.0)
    verdicts = {c.patch: c for c in checks or ()}
    unchecked = "verification not run (sweep --verify)"
    doc = {
        "tool": {"name": "drmm-refactor", "version": __version__},
        "tree": {"path": str(model.root), "version": model.version},
        "spatch": {"version": result.spatch_version},
        "rules": [
            {"id": r.id, "confidence": confidence(r.confidence), "description": r.description}
            for r in result.rules
        ],
        "drivers": [
            {
                "name": d.name,
                "module": d.module.path,
                "files": list(d.module.files),
                "role": d.role,
                "allocation": d.allocations[0].call if d.allocations else "",
                "allocations": [
                    {"call": a.call, "api": a.api, "file": a.file, "line": a.line} for a in d.allocations
                ],
            }
            for d in result.drivers
        ],
        "findings": [
            {
                "id": f.id,
                "rule": f.rule,
                "confidence": f.confidence,
                "driver": f.driver,
                "file": f.file,
                "line": f.line,
                "function": f.function,
                "message": f.message,
                "fix": f.fix,
                "fix_helpers": list(f.helpers),
                "patch": gen.patch_of(f.id) or None,
                **({"no_patch": gen.why_not(f.id)} if generated is not None and gen.why_not(f.id) else {}),
            }
            for f in result.findings
        ],
        "skipped": [
            {"file": s.file, "rule": s.rule, "reason": s.reason, "detail": s.detail} for s in result.skipped
        ],
        "patches": [
            {
                "id": p.id,
                "driver": p.driver,
                "family": p.family,
                "rules": list(p.rules),
                "findings": list(p.findings),
                "files": list(p.files),
                "diff": p.diff,
                "verdict": verdicts[p.id].verdict if p.id in verdicts else "not-checked",
                "reason": verdicts[p.id].reason if p.id in verdicts else unchecked,
                "arch": verdicts[p.id].arch or None if p.id in verdicts else None,
                "proof": _proof(verdicts.get(p.id)),
            }
            for p in gen.patches
        ],
        "stats": {
            "files": result.files,
            "drivers": len(result.drivers),
            "seconds": round(result.seconds, 2),
            "cache_hits": result.cache_hits,
            "patch_seconds": round(gen.seconds, 2),
            "patch_cache_hits": gen.cache_hits,
        },
    }
    return json.dumps(doc, indent=2) + "\n"


_COLOURS = {"high": "red", "medium": "yellow", "low": "cyan", "verified": "green"}


def _paint(text: str, colour: bool, **style: str | bool) -> str:
    return click.style(text, **style) if colour and text else text  # type: ignore[arg-type]


def sweep_text(
    result: SweepResult,
    generated: Generated | None = None,
    checks: Sequence[Checked] | None = None,
    *,
    colour: bool = False,
) -> str:
    """The terminal report: the summary table per driver, the findings grouped by driver,
    the skipped files and the counts (`colour`: ANSI colours, for a terminal)."""
    model = result.model
    summary = render.summarise(result, generated, checks)
    out = [
        f"Linux {model.version} at {model.root}: {len(result.drivers)} drm drivers, {result.files} files, "
        f"{len(result.rules)} rules, spatch {result.spatch_version}, {result.seconds:.1f}s\n\n"
    ]
    if summary.drivers:
        # the rules last: the total's list is long
        patch_cols = ["PATCHES", "NO PATCH"] if summary.patched else []
        head = ["DRIVER", "HIGH", "MEDIUM", "LOW", *patch_cols, "RULES"]
        rows = []
        for row in (*summary.drivers, summary.total):
            cells = [row.driver.upper() if row is summary.total else row.driver,
                     *[str(row.confidence(c) or "") for c in render.CONFIDENCES]]  # fmt: skip
            if summary.patched:
                cells += [render.verdict_cell(row, summary), str(row.without_patch or "")]
            rows.append([*cells, ", ".join(f"{r} {n}" for r, n in row.by_rule)])
        lines = table(head, rows).splitlines(keepends=True)
        lines.insert(-1, "  ".join("-" * len(c) for c in lines[1].split()) + "\n")
        out += [_paint(lines[0], colour, bold=True), *lines[1:], "\n"]
    driver = None
    for f in result.findings:
        if f.driver != driver:
            driver = f.driver
            out.append(_paint(f"== {driver}", colour, bold=True) + "\n")
        level = _paint(f.confidence, colour, fg=_COLOURS.get(f.confidence, ""))
        out.append(f"{f.file}:{f.line}: {f.function}(): [{f.rule}, {level}] {f.message}\n    fix: {f.fix}\n")
        st = render.status(f, generated, checks)
        if st.verdict:
            text = render.status_text(st)
            bad = st.verdict not in ("verified", "not-checked")
            out.append("    " + _paint(text, colour and st.verdict != "not-checked",
                                       fg="red" if bad else "green") + "\n")  # fmt: skip
    skipped = render.skipped_files(result)
    reasons = Counter(reason for reason, _, _ in skipped.values())
    by_reason = f" ({', '.join(f'{r} {n}' for r, n in sorted(reasons.items()))})" if reasons else ""
    by_rule = summary.total.by_rule
    out.append(
        f"\n{len(result.findings)} findings in {len(summary.drivers)} drivers"
        + (f" ({', '.join(f'{r} {n}' for r, n in by_rule)})" if by_rule else "")
        + f"; {len(skipped)} files skipped{by_reason}.\n"
    )
    for file, (reason, detail, rules) in sorted(skipped.items()):
        out.append(f"  skipped {file}: {reason}: {detail} (rules: {', '.join(rules)})\n")
    if generated is not None:
        fixed = sum(len(p.findings) for p in generated.patches)
        drivers = len({p.driver for p in generated.patches})
        out.append(f"{len(generated.patches)} patches fix {fixed} findings in {drivers} drivers; "
                   f"{len(generated.refused)} without a patch ({generated.seconds:.1f}s).\n")  # fmt: skip
    return "".join(out)


def _verdict_counts(checks: Sequence[Checked]) -> str:
    counts = Counter(c.verdict for c in checks)
    return ", ".join(f"{v} {n}" for v, n in sorted(counts.items()))


def _proof(c: Checked | None) -> dict[str, object] | None:
    return c.proof.as_json() if c is not None and c.proof is not None else None


def checks_text(checks: Sequence[Checked], cache_hits: int, seconds: float) -> str:
    """One line per patch with its verdict and reason (and where it was built), then the
    counts."""
    out = [f"{c.verdict:18} {c.patch}" + (f": {c.reason}" if c.reason else "")
           + (f" [{render.built_text(c)}]" if c.arch else "") + "\n" for c in checks]  # fmt: skip
    out.append(
        f"{len(checks)} patches: {_verdict_counts(checks)}; {seconds:.0f}s, {cache_hits} cached results\n"
    )
    return "".join(out)


def checks_json(checks: Sequence[Checked]) -> str:
    rows = [
        {
            "patch": c.patch,
            "verdict": c.verdict,
            "reason": c.reason,
            "seconds": round(c.seconds, 2),
            "arch": c.arch or None,
            "proof": _proof(c),
            "stages": [{"stage": s.name, "ok": s.ok, "reason": s.reason, "log": s.log} for s in c.stages],
        }
        for c in checks
    ]
    return json.dumps(rows, indent=2) + "\n"


def patches_text(generated: Generated) -> str:
    """The patches as one text: a header line per patch, then its diff (`sweep --diff`)."""
    out = []
    for p in generated.patches:
        out.append(f"# patch {p.id}: {p.driver}: {p.family} ({', '.join(p.rules)}), "
                   f"{len(p.findings)} findings\n{p.diff}")  # fmt: skip
    return "".join(out)
