"""The dry-run report in every format on the corpus: text, md, html (also in headless
Chromium), json, sarif (validated against the SARIF 2.1.0 schema), baselines, explain."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from refactor.cli import main
from refactor.cocci.spatch import Spatch
from refactor.generate.run import Generated, generate
from refactor.model.tree import load_tree
from refactor.report import baseline, render, sarif
from refactor.report import text as report
from refactor.sweep.run import SweepResult, load_rules, sweep

# the project's shared copy of the OASIS schema, next to the repository (or DRMM_SARIF_SCHEMA)
# the schema the project was given (../shared/schemas next to the checkout, or the team's
# shared directory when the checkout is a clone elsewhere); DRMM_SARIF_SCHEMA overrides
_SCHEMAS = [Path(__file__).resolve().parents[2] / "shared" / "schemas", Path("/work/shared/schemas")]
SCHEMA = Path(
    os.environ.get("DRMM_SARIF_SCHEMA")
    or next(
        (d / "sarif-schema-2.1.0.json" for d in _SCHEMAS if (d / "sarif-schema-2.1.0.json").is_file()),
        _SCHEMAS[0] / "sarif-schema-2.1.0.json",
    )
)
GOLDEN = Path(__file__).resolve().parent.parent / "corpus" / "golden"


@pytest.fixture(scope="module")
def swept(corpus_tree: Path, spatch: Spatch) -> tuple[SweepResult, Generated]:
    result = sweep(load_tree(corpus_tree), spatch, load_rules(), jobs=2)
    return result, generate(result, spatch, jobs=2)


@pytest.mark.parametrize("fmt", ["text", "md", "html", "json", "sarif"])
def test_every_format_from_the_cli(corpus_tree: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"report.{fmt}"
    res = CliRunner().invoke(main, ["sweep", str(corpus_tree), "--format", fmt, "-o", str(out)])
    assert res.exit_code == 1, res.output
    text = out.read_text()
    assert "\x1b[" not in text  # no colour in a file
    assert "putpanel" in text and "drivers/gpu/drm/tiny/putpanel.c" in text
    if fmt in ("json", "sarif"):
        json.loads(text)


def test_text_summary_and_grouping(swept: tuple[SweepResult, Generated]) -> None:
    result, gen = swept
    text = report.sweep_text(result, gen)
    head = text.splitlines()[2]
    assert head.split() == ["DRIVER", "HIGH", "MEDIUM", "LOW", "PATCHES", "NO", "PATCH", "RULES"]
    assert re.search(r"^putpanel\s+2\s+1\s+double-put 2$", text, re.M)
    assert re.search(r"^TOTAL\s+39\s+18\s+58\s+28\s+56\s+devm-action-on-drm 3, ", text, re.M)
    assert "\n== putpanel\ndrivers/gpu/drm/tiny/putpanel.c:27: putpanel_probe(): [double-put, high]" in text
    assert "\n    no patch: report only: the parent device needs a bound driver\n" in text
    assert "\x1b[" not in text
    coloured = report.sweep_text(result, gen, colour=True)
    assert "\x1b[31mhigh\x1b[0m" in coloured and "\x1b[1m== putpanel" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == text


def test_text_without_patches_has_no_patch_columns(swept: tuple[SweepResult, Generated]) -> None:
    text = report.sweep_text(swept[0], None)
    assert text.splitlines()[2].split() == ["DRIVER", "HIGH", "MEDIUM", "LOW", "RULES"]
    assert "patch:" not in text


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    from refactor.infra.output import use_colour

    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(None, Tty())  # type: ignore[arg-type]
    assert not use_colour(Path("x.txt"), Tty())  # type: ignore[arg-type]
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(None, Tty())  # type: ignore[arg-type]


def test_progress_reports_files_and_drivers(corpus_tree: Path, spatch: Spatch) -> None:
    seen = []
    result = sweep(load_tree(corpus_tree), spatch, load_rules(["double-put", "unbound-parent"]),
                   progress=seen.append)  # fmt: skip
    assert seen[0].done == 0 and seen[-1].done == seen[-1].total > 0
    assert seen[-1].drivers_done == seen[-1].drivers == len(result.drivers)
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert {p.rule for p in seen[1:]} == {"double-put", "unbound-parent"}


def test_md_is_the_text_report_as_markdown(swept: tuple[SweepResult, Generated]) -> None:
    result, gen = swept
    md = render.sweep_md(result, gen)
    assert md.startswith("# drmm-refactor sweep of Linux 7.2.0-corpus\n")
    assert "| driver | findings | high | medium | low | rules | patches | no patch |\n|---|---:|" in md
    assert "| putpanel | 2 | 2 |  |  | double-put 2 | 1 |  |\n" in md
    assert "| **total** | 115 | 39 | 18 | 58 |" in md
    assert (
        "\n### putpanel\n\n- `drivers/gpu/drm/tiny/putpanel.c:27` `putpanel_probe()` **double-put** (high)"
        in md
    )
    assert "drm\\_mode\\_config\\_cleanup" in md  # inert in Markdown
    assert md.count("\n- `drivers/") == len(result.findings)


class _Overview(HTMLParser):
    """The overview table's cells by row id and data-col, and the rule chips."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.rules: dict[str, dict[str, int]] = {}
        self.row = self.col = ""
        self.findings = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and (a.get("id") or "").startswith("ov-"):
            self.row = str(a["id"])[3:]
            self.rows[self.row], self.rules[self.row] = {}, {}
        elif tag == "td" and self.row:
            self.col = str(a.get("data-col"))
            self.rows[self.row][self.col] = ""
        elif tag == "span" and self.row and a.get("data-rule"):
            self.rules[self.row][str(a["data-rule"])] = int(str(a["data-count"]))
        elif tag == "article" and "finding" in (a.get("class") or ""):
            self.findings += 1
        elif tag == "table":
            self.row = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self.col = ""
        elif tag == "tbody":
            self.row = ""

    def handle_data(self, data: str) -> None:
        if self.row and self.col:
            self.rows[self.row][self.col] += data.strip()


def _check_overview(page: str, doc: dict) -> None:  # type: ignore[type-arg]
    """The overview numbers against the JSON report."""
    view = _Overview()
    view.feed(page)
    drivers = {f["driver"] for f in doc["findings"]}
    assert set(view.rows) == drivers | {"total"}
    for name in (*drivers, "total"):
        found = [f for f in doc["findings"] if name in ("total", f["driver"])]
        patches = [p for p in doc["patches"] if name in ("total", p["driver"])]
        row = view.rows[name]
        assert int(row["findings"]) == len(found)
        for level in ("high", "medium", "low"):
            assert int(row[level]) == sum(1 for f in found if f["confidence"] == level), (name, level)
        rules: dict[str, int] = {}
        for f in found:
            rules[f["rule"]] = rules.get(f["rule"], 0) + 1
        assert view.rules[name] == rules
        assert int(row["patches"]) == len(patches)
        assert int(row["no-patch"]) == sum(1 for f in found if not f["patch"])
    assert view.findings == len(doc["findings"])


def test_html_overview_matches_json(swept: tuple[SweepResult, Generated]) -> None:
    result, gen = swept
    page = render.sweep_html(result, gen)
    _check_overview(page, json.loads(report.sweep_json(result, gen)))
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # self-contained
    assert '<span class="ln">27</span>\t\tdrm_dev_put(&amp;pp-&gt;drm);</span>' in page  # the code
    assert '<span class="del">-\t\tdrm_dev_put(&amp;pp-&gt;drm);</span>' in page  # the change
    assert 'data-rule="double-put" data-confidence="high" data-verdict="not-checked"' in page
    assert 'data-verdict="no-patch"' in page


def _chromium() -> str:
    """Debian's chromium, installed when missing (as root or with password-less sudo)."""
    found = shutil.which("chromium")
    if found:
        return found
    sudo: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo") or subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode:
            pytest.skip("chromium is missing and cannot be installed: not root and no password-less sudo")
        sudo = ["sudo", "-n"]
    if not shutil.which("apt-get"):
        pytest.skip("chromium is missing and apt-get is not available to install Debian's chromium")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run([*sudo, "apt-get", "update", "-qq"], capture_output=True, env=env, timeout=600)
    res = subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "chromium"], capture_output=True,
                         text=True, env=env, timeout=1800)  # fmt: skip
    found = shutil.which("chromium")
    if not found:
        pytest.skip(f"apt-get install chromium failed: {res.stderr.strip().splitlines()[-1:]}")
    return found


@pytest.mark.slow
def test_html_in_headless_chromium(swept: tuple[SweepResult, Generated], tmp_path: Path) -> None:
    """The browser's DOM (after the filter script ran) shows the JSON's numbers."""
    result, gen = swept
    page = tmp_path / "report.html"
    page.write_text(render.sweep_html(result, gen))
    browser = _chromium()
    res = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    dom = res.stdout
    _check_overview(dom, json.loads(report.sweep_json(result, gen)))
    assert '<form id="filters" aria-label="filters" class="on">' in dom  # the script ran
    assert f'<span id="shown">{len(result.findings)} findings shown</span>' in dom


def _apply(original: str, replacements: list[dict]) -> str:  # type: ignore[type-arg]
    lines = original.splitlines(keepends=True)
    for r in sorted(replacements, key=lambda r: -r["deletedRegion"]["startLine"]):
        region = r["deletedRegion"]
        assert region["startColumn"] == region["endColumn"] == 1
        start, end = region["startLine"] - 1, region["endLine"] - 1
        lines[start:end] = r["insertedContent"]["text"].splitlines(keepends=True)
    return "".join(lines)


def test_sarif_is_valid_and_its_fixes_make_the_golden_files(
    swept: tuple[SweepResult, Generated], corpus_tree: Path
) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    result, gen = swept
    log = json.loads(sarif.sweep_sarif(result, gen))
    if not SCHEMA.is_file():
        pytest.skip(f"no SARIF schema at {SCHEMA} (set DRMM_SARIF_SCHEMA)")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(log)
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {r.id for r in result.rules}
    assert rules["double-put"]["shortDescription"]["text"] == (
        "drm_dev_put() on a drm_device that devm_drm_dev_alloc() allocated."
    )
    assert "Fix: drop the put." in rules["double-put"]["help"]["text"]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"] == corpus_tree.resolve().as_uri() + "/"
    assert [r["partialFingerprints"]["drmmFindingId/v1"] for r in run["results"]] == [
        f.id for f in result.findings
    ]
    put = next(r for r in run["results"] if r["ruleId"] == "double-put")
    assert put["level"] == "error"
    loc = put["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "drivers/gpu/drm/tiny/putpanel.c", "uriBaseId": "SRCROOT"}
    assert loc["region"]["startLine"] == 27
    with_fix = [r for r in run["results"] if "fixes" in r]
    assert len(with_fix) == sum(1 for f in result.findings if gen.patch_of(f.id))
    # every patch's fix, in the coordinates of the unpatched file, together give the golden file
    per_file: dict[str, dict[str, dict]] = {}  # type: ignore[type-arg]
    for r in with_fix:
        for change in r["fixes"][0]["artifactChanges"]:
            for rep in change["replacements"]:
                key = json.dumps(rep, sort_keys=True)
                per_file.setdefault(change["artifactLocation"]["uri"], {})[key] = rep
    assert per_file
    for file, reps in per_file.items():
        golden = (
            GOLDEN / (file.rsplit(".", 1)[0] + ".res" if file.endswith(".c") else file + ".res")
        ).read_text()
        assert _apply((corpus_tree / file).read_text(), list(reps.values())) == golden, file


def _copy(corpus_tree: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "tree"
    shutil.copytree(corpus_tree, copy)
    return copy


def test_baseline_reports_only_the_new_finding(corpus_tree: Path, tmp_path: Path) -> None:
    old = tmp_path / "old.json"
    res = CliRunner().invoke(main, ["sweep", str(corpus_tree), "--format", "json", "-o", str(old)])
    assert res.exit_code == 1, res.output
    copy = _copy(corpus_tree, tmp_path)
    src = copy / "drivers/gpu/drm/tiny/putpanel.c"
    text = src.read_text()
    # line shifts alone: blank lines and comments above every finding of the file
    shifted = text.replace("static int putpanel_probe", "/* moved */\n\n\nstatic int putpanel_probe")
    shifted = shifted.replace("\tdrm_dev_unregister(drm);", "\t/* a comment */\n\n\tdrm_dev_unregister(drm);")
    src.write_text(shifted)
    res = CliRunner().invoke(main, ["sweep", str(copy), "--baseline", str(old)])
    assert res.exit_code == 0, res.output
    assert "0 findings in 0 drivers" in res.output
    # one new finding: a second device put in a new function
    shutdown = (
        "\nstatic void putpanel_shutdown(struct platform_device *pdev)\n{\n"
        "\tstruct putpanel *pp = platform_get_drvdata(pdev);\n\n\tdrm_dev_put(&pp->drm);\n}\n"
    )
    src.write_text(shifted + shutdown)
    new = tmp_path / "new.json"
    res = CliRunner().invoke(
        main, ["sweep", str(copy), "--baseline", str(old), "--format", "json", "-o", str(new)]
    )
    assert res.exit_code == 1, res.output
    doc = json.loads(new.read_text())
    assert [(f["rule"], f["function"]) for f in doc["findings"]] == [("double-put", "putpanel_shutdown")]
    assert all(set(p["findings"]) & {doc["findings"][0]["id"]} for p in doc["patches"])
    res = CliRunner().invoke(main, ["sweep", str(copy), "--baseline", str(old), "--format", "md"])
    assert res.exit_code == 1 and res.output.count("\n- `drivers/") == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read baseline"),
        ("{not json", "is not JSON"),
        ('{"findings": [{"rule": "x"}]}', "is not a drmm-refactor sweep report"),
        ("[]", "is not a drmm-refactor sweep report"),
    ],
)
def test_bad_baseline_is_one_line_and_exit_2(
    corpus_tree: Path, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "old.json"
    if content is not None:
        path.write_text(content)
    res = CliRunner().invoke(main, ["sweep", str(corpus_tree), "--baseline", str(path)])
    assert res.exit_code == 2
    assert res.output.startswith("drmm-refactor: ") and message in res.output
    assert res.output.count("\n") == 1


def test_only_new_keeps_patches_of_new_findings(swept: tuple[SweepResult, Generated]) -> None:
    result, gen = swept
    keep = {f.id for f in result.findings if f.driver != "putpanel"}
    new, newgen = baseline.only_new(result, gen, frozenset(keep))
    assert {f.driver for f in new.findings} == {"putpanel"}
    assert newgen is not None and {p.driver for p in newgen.patches} == {"putpanel"}


def test_explain_rule_with_corpus_example() -> None:
    res = CliRunner().invoke(main, ["explain", "double-put"])
    assert res.exit_code == 0, res.output
    out = res.output
    assert out.startswith("double-put (confidence: high)\n")
    for part in ("What it finds:", "Why it is a bug:", "The fix:\n  Drop the put.",
                 "Example from the corpus: corpus/tree/drivers/gpu/drm/tiny/putpanel.c:27",
                 ">   27 \t\tdrm_dev_put(&pp->drm);", "After (the change drmm-refactor generates",
                 "-\t\tdrm_dev_put(&pp->drm);"):  # fmt: skip
        assert part in out, part


def test_explain_rule_without_generated_fix() -> None:
    res = CliRunner().invoke(main, ["explain", "unbound-parent"])
    assert res.exit_code == 0, res.output
    assert "rootdemo.c:31" in res.output
    assert "After: no generated change:\n  report only: the parent device needs a bound driver" in res.output


@pytest.mark.parametrize("rule", [r.id for r in load_rules()])
def test_explain_every_rule_has_an_example(rule: str) -> None:
    res = CliRunner().invoke(main, ["explain", rule])
    assert res.exit_code == 0 and "Example from the corpus: corpus/tree/drivers/" in res.output


def test_explain_unknown_rule() -> None:
    res = CliRunner().invoke(main, ["explain", "nope"])
    assert res.exit_code == 2
    assert res.output == (
        "drmm-refactor: unknown rule nope: known rules are devm-action-on-drm, devm-drm-memory, "
        "devm-drm-private, devm-mode-object, double-put, irq-outlives-unbind, unbound-parent, "
        "unguarded-hw-access, unmanaged-mode-config, unmanaged-mode-object, unmanaged-mutex, "
        "unregister-without-unplug\n"
    )


def test_output_file_follows_the_umask(tmp_path: Path) -> None:
    from refactor.infra.output import write_text

    old = os.umask(0o022)
    try:
        write_text("x\n", tmp_path / "r.html")
    finally:
        os.umask(old)
    assert (tmp_path / "r.html").stat().st_mode & 0o777 == 0o644


def test_verdicts_in_summary_text_and_html(swept: tuple[SweepResult, Generated]) -> None:
    """With --verify, the PATCHES column counts the patches by verdict (checks made up here)."""
    from refactor.verify.checked import Checked

    result, gen = swept
    put = next(p for p in gen.patches if p.driver == "putpanel")
    checks = [Checked(p.id, "build-failed" if p is put else "verified", "boom" if p is put else "", (), 0.0)
              for p in gen.patches]  # fmt: skip
    summary = render.summarise(result, gen, checks)
    expected = {"build-failed": 1, "verified": len(gen.patches) - 1}
    assert summary.verified and dict(summary.total.by_verdict) == expected
    text = report.sweep_text(result, gen, checks)
    assert re.search(r"^putpanel\s+2\s+1: build-failed 1\s+double-put 2$", text, re.M)
    assert f"    patch: {put.id} (build-failed: boom)\n" in text
    page = render.sweep_html(result, gen, checks)
    assert 'data-rule="double-put" data-confidence="high" data-verdict="build-failed"' in page
    assert '<input type="checkbox" name="verdict" value="verified" checked>' in page
    assert "build-failed: boom" in render.sweep_md(result, gen, checks)
