"""The sweep on the bundled corpus: findings match the cases' inline marks exactly."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from refactor.classify.findings import finding_id
from refactor.cli import main
from refactor.cocci.spatch import Spatch, run_rule
from refactor.model.tree import load_tree
from refactor.sweep.run import load_rules, sweep

_MARK = re.compile(r"//\s*(expect|ok):\s*([\w-]+)\s*$")


def _marks(tree: Path, kind: str) -> set[tuple[str, str, int]]:
    """(rule, file, line) of each `// expect: X` (or `// ok: X`) mark: the line it ends, or
    the next line when the comment stands alone."""
    out = set()
    for path in sorted((tree / "drivers").rglob("*.c")):
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines):
            m = _MARK.search(line)
            if m and m.group(1) == kind:
                alone = line.strip().startswith("//")
                out.add((m.group(2), str(path.relative_to(tree)), i + 2 if alone else i + 1))
    return out


def test_findings_match_marks(corpus_tree: Path, spatch: Spatch) -> None:
    rules = load_rules()
    result = sweep(load_tree(corpus_tree), spatch, rules, jobs=2)
    ids = {r.id for r in rules}
    got = {(f.rule, f.file, f.line) for f in result.findings}
    expected = {m for m in _marks(corpus_tree, "expect") if m[0] in ids}
    assert expected, "the corpus has no marked case for the catalogue's rules"
    assert got == expected
    assert not got & _marks(corpus_tree, "ok")
    assert result.skipped == ()


def test_double_put_fields(corpus_tree: Path, spatch: Spatch) -> None:
    result = sweep(load_tree(corpus_tree), spatch, load_rules(["double-put"]))
    probe = next(f for f in result.findings if f.function == "putpanel_probe")
    assert (probe.driver, probe.confidence, probe.line) == ("putpanel", "high", 27)
    assert probe.id == finding_id("double-put", "drivers/gpu/drm/tiny/putpanel.c", "putpanel_probe",
                                  "drm_dev_put(&pp->drm);")  # fmt: skip


def test_finding_id_ignores_position_and_whitespace() -> None:
    a = finding_id("double-put", "a.c", "f", "\tdrm_dev_put(drm);")
    assert a == finding_id("double-put", "a.c", "f", "drm_dev_put(drm);  ")
    assert a != finding_id("double-put", "a.c", "g", "drm_dev_put(drm);")


def test_cli_sweep_json_and_exit_status(corpus_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    res = CliRunner().invoke(main, ["sweep", str(corpus_tree), "--format", "json", "-o", str(out)])
    assert res.exit_code == 1, res.output  # findings
    doc = json.loads(out.read_text())
    assert doc["tree"]["version"] == "7.2.0-corpus"
    assert doc["spatch"]["version"].startswith("1.")
    puts = {(f["file"], f["line"]) for f in doc["findings"] if f["rule"] == "double-put"}
    assert puts == {("drivers/gpu/drm/tiny/putpanel.c", 27), ("drivers/gpu/drm/tiny/putpanel.c", 40)}
    assert {f["rule"] for f in doc["findings"]} == {r["id"] for r in doc["rules"]}
    assert all(f["fix"] and f["message"] and f["function"] for f in doc["findings"])
    assert doc["skipped"] == [] and doc["stats"]["drivers"] == 54


def test_cli_sweep_clean_exit_0(corpus_tree: Path) -> None:
    res = CliRunner().invoke(main, ["sweep", str(corpus_tree), "--paths", "drivers/gpu/drm/cleandisp"])
    assert res.exit_code == 0, res.output
    assert "0 findings in 0 drivers; 0 files skipped." in res.output


def test_cli_unknown_rule(corpus_tree: Path) -> None:
    res = CliRunner().invoke(main, ["sweep", str(corpus_tree), "--rules", "nope"])
    assert res.exit_code == 2
    assert res.output.startswith(
        "drmm-refactor: unknown rule nope: known rules are devm-action-on-drm, devm-drm-memory"
    )


@pytest.mark.parametrize("args", [["rules"]])
def test_cli_rules_lists_headers(args: list[str]) -> None:
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 0
    assert re.search(r"^double-put\s+high\s+drm_dev_put\(\) on a drm_device", res.output, re.M)


def test_every_rule_has_firing_and_silent_cases(corpus_tree: Path) -> None:
    ids = {r.id for r in load_rules()}
    fire = {m[0] for m in _marks(corpus_tree, "expect")}
    silent = {m[0] for m in _marks(corpus_tree, "ok")}
    assert ids <= fire, ids - fire
    assert ids <= silent, ids - silent


def test_fixes_use_only_declared_helpers(corpus_tree: Path, spatch: Spatch) -> None:
    """Without drmm_universal_plane_alloc and drmm_kcalloc in the tree, no fix names them."""
    model = load_tree(corpus_tree)
    entries = tuple(
        e for e in model.api.entries if e.name not in ("drmm_universal_plane_alloc", "drmm_kcalloc")
    )
    poorer = dataclasses.replace(model, api=dataclasses.replace(model.api, entries=entries))
    rules = load_rules(["devm-mode-object", "devm-drm-memory"])
    rich_findings = sweep(model, spatch, rules).findings
    poor_findings = sweep(poorer, spatch, rules).findings
    rich = {(f.file, f.line): f.fix for f in rich_findings}
    poor = {(f.file, f.line): f.fix for f in poor_findings}
    assert rich.keys() == poor.keys()
    assert rich[("drivers/gpu/drm/trapdisp/trapdisp_planes.c", 25)] == (
        "allocate struct trapdisp_primary with drmm_universal_plane_alloc()"
    )
    assert poor[("drivers/gpu/drm/trapdisp/trapdisp_planes.c", 25)] == "allocate with drmm_kzalloc()"
    assert rich[("drivers/gpu/drm/corpdisp/corpdisp_kms.c", 22)] == (
        "allocate with drmm_kzalloc() and initialise with drmm_crtc_init_with_planes()"
    )
    buf = (corpus_tree / "drivers/gpu/drm/bufdisp/bufdisp.c").read_text().splitlines()
    lut = next(i for i, x in enumerate(buf, 1) if "bdev->lut = devm_kcalloc" in x)
    assert poor[("drivers/gpu/drm/bufdisp/bufdisp.c", lut)] == (
        "none: the tree declares no drmm_ counterpart of devm_kcalloc()"
    )
    assert any("drmm_kcalloc" in f.helpers for f in rich_findings)
    assert all(set(f.helpers) <= poorer.api.names for f in poor_findings)


def test_rules_run_standalone_as_under_coccicheck(corpus_tree: Path, spatch: Spatch) -> None:
    """Without DRMM_REFACTOR=1 each rule filters by itself (same-file knowledge only)."""
    files = ["drivers/gpu/drm/rootdemo/rootdemo.c", "drivers/gpu/drm/rootdemo/rootgroup.c",
             "drivers/gpu/drm/oldcrtc/oldcrtc.c", "drivers/gpu/drm/legacyfb/legacyfb.c"]  # fmt: skip
    found = set()
    for rule in load_rules():
        run = run_rule(spatch, rule, files, cwd=corpus_tree)
        assert all(r.status.value == "ok" for r in run.results), rule.id
        for r in run.results:
            for m in r.matches:
                assert "\t" not in m.message and m.data == ()
                found.add((rule.id, m.file, m.line))
    assert ("unbound-parent", "drivers/gpu/drm/rootdemo/rootdemo.c", 31) in found
    assert not any(f[1].endswith("rootgroup.c") and f[0] == "unbound-parent" for f in found)
    assert ("devm-drm-private", "drivers/gpu/drm/legacyfb/legacyfb.c", 21) in found
    assert ("unmanaged-mode-config", "drivers/gpu/drm/oldcrtc/oldcrtc.c", 53) in found  # the manual cleanup
    assert ("devm-action-on-drm", "drivers/gpu/drm/oldcrtc/oldcrtc.c", 95) in found
    # the init whose funcs table's hook cleans up and frees, in the same file
    assert ("unmanaged-mode-object", "drivers/gpu/drm/oldcrtc/oldcrtc.c", 105) in found
