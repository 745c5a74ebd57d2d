"""Each patch-mode rule on its own, as Coccinelle's tests run: `spatch --sp-file RULE -D
patch` on a small corpus file (tests/cocci/RULE/CASE.c) with the plan it is given
(CASE.plan.json, as DRMM_REFACTOR_PLAN), compared with the expected file (CASE.res:
spatch's output, before generate's tidying and the declarations it adds).  A rule can
so be changed and tested without the Python planner; tests/cocci/record.py records the
cases from the corpus.  By hand, in a directory holding the file at the path its plan's
keys name:

    DRMM_REFACTOR_PLAN=CASE.plan.json DRMM_REFACTOR_FILE=drivers/gpu/drm/... \\
        spatch --sp-file semantic_patches/RULE.cocci -D patch --no-scanner --max-width 100 FILE
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from refactor.cocci.rules import read_rule
from refactor.cocci.spatch import Spatch
from refactor.infra import proc

ROOT = Path(__file__).resolve().parent.parent
CASES = sorted((ROOT / "tests/cocci").glob("*/*.plan.json"))


def _rule_of(case: Path) -> Path:
    return ROOT / "semantic_patches" / f"{case.parent.name}.cocci"


def test_every_patch_mode_rule_has_a_case() -> None:
    rules = (ROOT / "semantic_patches").glob("*.cocci")
    patch_mode = {p.stem for p in rules if "virtual patch" in p.read_text()}
    assert len(patch_mode) >= 7
    cases = {c.parent.name for c in CASES}
    assert patch_mode == cases, "a patch-mode rule has no case (tests/cocci/record.py)"


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.parent.name}/{c.name.split('.')[0]}")
def test_a_rule_makes_its_planned_edits(case: Path, tmp_path: Path, spatch: Spatch) -> None:
    stem = case.name.removesuffix(".plan.json")
    source, expected = case.with_name(f"{stem}.c"), case.with_name(f"{stem}.res")
    plan = json.loads(case.read_text())
    rel = plan[0]["key"].split("\0")[1]  # the file the keys name (file, function, line text)
    (tmp_path / rel).parent.mkdir(parents=True)
    (tmp_path / rel).write_text(source.read_text())
    applied = tmp_path / "applied.jsonl"
    applied.write_text("")
    rule = read_rule(_rule_of(case))
    env = {"DRMM_REFACTOR": "1", "DRMM_REFACTOR_PLAN": str(case), "DRMM_REFACTOR_FILE": rel,
           "DRMM_REFACTOR_APPLIED": str(applied)}  # fmt: skip
    res = proc.run([spatch.path, "--sp-file", str(rule.path), "-D", "patch", "--very-quiet", "--in-place",
                    "--no-scanner", "--max-width", "100", *rule.options, rel],
                   cwd=tmp_path, timeout=300, env=env)  # fmt: skip
    assert res.ok, res.stderr[-2000:]
    assert (tmp_path / rel).read_text() == expected.read_text()
    made = {json.loads(x) for x in applied.read_text().splitlines() if x.strip()}
    assert made and made <= {op["key"] for op in plan}, "the rule reported edits it was not given"
