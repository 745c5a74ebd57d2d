"""The sweep as SARIF 2.1.0, for CI and code-scanning dashboards.

Rules carry the `.cocci` header; results carry the finding's place relative to the tree
root (`SRCROOT`), its stable id as a partial fingerprint, and, where a patch fixes it,
the patch as a SARIF fix made of whole-line replacements taken from the diff's hunks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import unidiff

from refactor import __version__
from refactor.cocci.spatch import Rule
from refactor.generate.run import Generated, Patch
from refactor.sweep.run import SweepResult, confidence
from refactor.verify.run import Checked

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
ROOT = "SRCROOT"
LEVELS = {"high": "error", "medium": "warning", "low": "note"}
FINGERPRINT = "drmmFindingId/v1"


def _split(description: str) -> tuple[str, str, str]:
    """(first sentence, what and why, fix) of a `///` header."""
    what, _, fix = description.partition(" Fix: ")
    first = what.split(".  ")[0].rstrip(".") + "."
    return first, what.strip(), fix.strip()


def rule_descriptor(rule: Rule) -> dict[str, Any]:
    first, what, fix = _split(rule.description)
    level = confidence(rule.confidence)
    help_text = f"{what}\n\nFix: {fix}" if fix else what
    help_text += f"\n\nConfidence: {level}." + (f" {rule.comments}" if rule.comments else "")
    return {
        "id": rule.id,
        "name": "".join(part.capitalize() for part in rule.id.split("-")),
        "shortDescription": {"text": first},
        "fullDescription": {"text": what},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": LEVELS.get(level, "warning")},
        "properties": {"confidence": level, "tags": ["drm", "lifetime", level]},
    }


@dataclass(frozen=True)
class Change:
    """Lines `start`..`start + deleted - 1` replaced by `inserted` (an insertion before line
    `start` when `deleted` is 0)."""

    start: int
    deleted: int
    inserted: tuple[str, ...]


def changes(diff: str, file: str) -> list[Change]:
    """The runs of changed lines of `file` in `diff`, in the coordinates of the file the
    diff applies to."""
    out: list[Change] = []
    for pf in unidiff.PatchSet(diff):
        if pf.source_file.removeprefix("a/") != file:
            continue
        for hunk in pf:
            line = hunk.source_start if hunk.source_length else hunk.source_start + 1
            start, deleted, inserted = line, 0, list[str]()
            for item in (*hunk, None):  # None ends the last run
                if item is None or item.is_context:
                    if deleted or inserted:
                        out.append(Change(start, deleted, tuple(inserted)))
                    line += 1
                    start, deleted, inserted = line, 0, []
                elif item.is_removed:
                    deleted += 1
                    line += 1
                elif item.is_added:
                    inserted.append(item.value)
    return out


def original_changes(root: Path, patches: Sequence[Patch]) -> dict[str, dict[str, list[Change]] | None]:
    """Each patch's changes per file in the coordinates of the tree's files.

    A driver's patches apply on top of each other, so a later one's line numbers count the
    lines the earlier ones added or removed; SARIF fixes apply to the file as it is.  The
    patches are applied in memory, tracking where each line came from; a patch that
    changes lines an earlier one wrote maps to None (no fix can say it alone)."""
    out: dict[str, dict[str, list[Change]] | None] = {}
    origin: dict[tuple[str, str], list[int | None]] = {}  # (driver, file): original line numbers
    for p in patches:
        mapped: dict[str, list[Change]] | None = {}
        for file in p.files:
            key = (p.driver, file)
            if key not in origin:
                try:
                    count = len((root / file).read_text(errors="replace").splitlines())
                except OSError:
                    mapped = None
                    break
                origin[key] = list(range(1, count + 1))
            lines = origin[key]
            own = []
            for c in changes(p.diff, file):
                span = lines[c.start - 1 : c.start - 1 + c.deleted]
                first = (
                    lines[c.start - 1]
                    if c.start - 1 < len(lines)
                    else max(filter(None, lines), default=0) + 1
                )
                if first is None or None in span or span != list(range(first, first + c.deleted)):
                    mapped = None
                    break
                own.append(Change(first, c.deleted, c.inserted))
            for c in reversed(changes(p.diff, file)):
                lines[c.start - 1 : c.start - 1 + c.deleted] = [None] * len(c.inserted)
            if mapped is not None:
                mapped[file] = own
        out[p.id] = mapped
    return out


def _replacement(c: Change) -> dict[str, Any]:
    """A change of whole lines: from column 1 of its first line to column 1 of the line
    after it (an insertion deletes the empty region at the start of the line it precedes)."""
    return {
        "deletedRegion": {
            "startLine": c.start,
            "startColumn": 1,
            "endLine": c.start + c.deleted,
            "endColumn": 1,
        },
        "insertedContent": {"text": "".join(c.inserted)},
    }


def _artifact(file: str) -> dict[str, str]:
    return {"uri": file, "uriBaseId": ROOT}


def _fix(patch: Patch, check: Checked | None, mapped: dict[str, list[Change]]) -> dict[str, Any]:
    verdict = check.verdict if check else "not-checked"
    return {
        "description": {"text": f"patch {patch.id} ({patch.family}, {verdict}): {', '.join(patch.rules)}"},
        "artifactChanges": [
            {"artifactLocation": _artifact(f), "replacements": [_replacement(c) for c in mapped[f]]}
            for f in patch.files
        ],
    }


def sweep_sarif(
    result: SweepResult, generated: Generated | None = None, checks: Sequence[Checked] | None = None
) -> str:
    """The SARIF log of `result`: one run, one result per finding."""
    rules = list(result.rules)
    index = {r.id: i for i, r in enumerate(rules)}
    verdicts = {c.patch: c for c in checks or ()}
    patches = {p.id: p for p in generated.patches} if generated is not None else {}
    mapped = original_changes(result.model.root, list(patches.values()))
    results = []
    for f in result.findings:
        pid = generated.patch_of(f.id) if generated is not None else ""
        props: dict[str, Any] = {"confidence": f.confidence, "driver": f.driver, "function": f.function,
                                 "fix": f.fix}  # fmt: skip
        res: dict[str, Any] = {
            "ruleId": f.rule,
            "ruleIndex": index[f.rule],
            "level": LEVELS.get(f.confidence, "warning"),
            "message": {"text": f"{f.function}(): {f.message}. Fix: {f.fix}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": _artifact(f.file),
                        "region": {"startLine": f.line, "startColumn": f.column + 1},
                    },
                    "logicalLocations": [{"name": f.function, "kind": "function"}],
                }
            ],
            "partialFingerprints": {FINGERPRINT: f.id},
        }
        if pid:
            props["patch"] = pid
            props["verdict"] = verdicts[pid].verdict if pid in verdicts else "not-checked"
            fix = mapped[pid]
            if fix is not None:
                res["fixes"] = [_fix(patches[pid], verdicts.get(pid), fix)]
            else:
                props["no_sarif_fix"] = "the patch changes lines an earlier patch of the driver wrote"
        elif generated is not None:
            props["no_patch"] = generated.why_not(f.id)
        res["properties"] = props
        results.append(res)
    root = str(result.model.root.resolve()).rstrip("/") + "/"
    doc = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "drmm-refactor",
                        "version": __version__,
                        "rules": [rule_descriptor(r) for r in rules],
                    }
                },
                "originalUriBaseIds": {ROOT: {"uri": "file://" + root}},
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "toolExecutionNotifications": [
                            {
                                "level": "warning",
                                "message": {"text": f"{s.rule}: file skipped: {s.reason}: {s.detail}"},
                                "locations": [{"physicalLocation": {"artifactLocation": _artifact(s.file)}}],
                            }
                            for s in result.skipped
                        ],
                    }
                ],
                "results": results,
                "properties": {"tree_version": result.model.version, "spatch": result.spatch_version},
            }
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
