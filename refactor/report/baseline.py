"""Baselines: a previous `sweep --format json` report, so that a run shows only what is new.

Finding ids hash the rule, file, function and the normalised code line, not the line
number, so moving code does not make a finding new.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from refactor.generate.run import Generated
from refactor.infra.errors import RefactorError
from refactor.sweep.run import SweepResult


class BaselineError(RefactorError):
    """The baseline file cannot be read or is not a sweep JSON report."""


def load(path: Path) -> frozenset[str]:
    """The finding ids of the JSON report at `path`."""
    try:
        doc = json.loads(path.read_text())
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"baseline {path} is not JSON: {exc}") from None
    findings = doc.get("findings") if isinstance(doc, dict) else None
    if not isinstance(findings, list) or not all(
        isinstance(f, dict) and isinstance(f.get("id"), str) for f in findings
    ):
        raise BaselineError(
            f"baseline {path} is not a drmm-refactor sweep report (--format json): no findings[] with ids"
        )
    return frozenset(f["id"] for f in findings)


def only_new(
    result: SweepResult, generated: Generated | None, known: frozenset[str]
) -> tuple[SweepResult, Generated | None]:
    """`result` without the findings in `known`, and only the patches that fix a new one."""
    new = tuple(f for f in result.findings if f.id not in known)
    ids = {f.id for f in new}
    if generated is not None:
        generated = dataclasses.replace(
            generated,
            patches=tuple(p for p in generated.patches if ids & set(p.findings)),
            outcomes=tuple(o for o in generated.outcomes if o.finding in ids),
        )
    return dataclasses.replace(result, findings=new), generated
