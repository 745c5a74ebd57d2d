"""bench/review_sample.py: the quotas of the stratified draw and its reproducibility, on a
synthetic report (no tree needed)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("review_sample", REPO / "bench" / "review_sample.py")
assert _spec is not None and _spec.loader is not None
review_sample = importlib.util.module_from_spec(_spec)
sys.modules["review_sample"] = review_sample
_spec.loader.exec_module(review_sample)

# the populations of the 7.2.13 sweep the review drew from
POPULATIONS = {
    "unguarded-hw-access": 240,
    "unmanaged-mutex": 144,
    "unmanaged-mode-object": 129,
    "devm-mode-object": 59,
    "unmanaged-mode-config": 39,
    "unregister-without-unplug": 36,
    "devm-drm-memory": 6,
    "devm-drm-private": 5,
    "devm-action-on-drm": 3,
    "unbound-parent": 1,
}


def _report(populations: dict[str, int]) -> list[dict]:
    return [
        {"rule": rule, "confidence": "low", "id": f"{rule}-{i}", "file": f"drivers/x/{rule}.c",
         "line": i + 1, "function": "f"}
        for rule, n in populations.items()
        for i in range(n)
    ]  # fmt: skip


def test_quotas_take_small_rules_whole_and_give_big_rules_more():
    q = review_sample.quotas(POPULATIONS, 40)
    assert sum(q.values()) == 40
    assert q["unbound-parent"] == 1 and q["devm-action-on-drm"] == 3
    assert all(q[r] >= 3 for r, n in POPULATIONS.items() if n >= 3)
    ranked = sorted(POPULATIONS, key=lambda r: -POPULATIONS[r])
    assert [q[r] for r in ranked] == sorted((q[r] for r in ranked), reverse=True)
    assert q["unguarded-hw-access"] == 10


def test_quotas_never_exceed_a_population():
    q = review_sample.quotas({"a": 2, "b": 1}, 40)
    assert q == {"a": 2, "b": 1}


def test_draw_is_reproducible_and_stratified(tmp_path, capsys):
    findings = _report(POPULATIONS)
    first = review_sample.draw(findings, 40, 20261202)
    again = review_sample.draw(list(reversed(findings)), 40, 20261202)
    assert [f["id"] for f, _ in first] == [f["id"] for f, _ in again]  # input order does not matter
    other = review_sample.draw(findings, 40, 1)
    assert [f["id"] for f, _ in first] != [f["id"] for f, _ in other]
    per_rule = {}
    for f, _ in first:
        per_rule[f["rule"]] = per_rule.get(f["rule"], 0) + 1
    assert per_rule == review_sample.quotas(POPULATIONS, 40)
    report = tmp_path / "r.json"
    report.write_text(json.dumps({"findings": findings}))
    assert review_sample.main([str(report)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert sum(1 for x in lines if x[:2].strip().isdigit()) == 40


def test_unreadable_report_is_exit_2(tmp_path, capsys):
    assert review_sample.main([str(tmp_path / "missing.json")]) == 2
    assert "cannot read findings" in capsys.readouterr().err
