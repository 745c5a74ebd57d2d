"""Generated patches on the corpus: exact expected outputs (.res), reasons for findings
left unpatched, idempotence, and the CLI's --diff and JSON patches[].

Set DRMM_UPDATE_GOLDEN=1 to rewrite corpus/golden/ from the generator (then review the
diff of the golden files by hand before committing them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import unidiff
from click.testing import CliRunner

from refactor.cli import main
from refactor.cocci.spatch import Spatch
from refactor.families.registry import FAMILIES
from refactor.generate.run import Generated, generate
from refactor.generate.tidy import realign, tidy_blank_lines, tidy_guards
from refactor.model.tree import load_tree
from refactor.sweep.run import SweepResult, load_rules, sweep

GOLDEN = Path(__file__).resolve().parent.parent / "corpus" / "golden"
UPDATE = bool(os.environ.get("DRMM_UPDATE_GOLDEN"))


def _apply(tree: Path, diff: str) -> None:
    for args in (["--check"], []):
        res = subprocess.run(["git", "apply", *args, "-p1", "-"], cwd=tree, input=diff, text=True,
                             capture_output=True)  # fmt: skip
        assert res.returncode == 0, res.stderr


@pytest.fixture(scope="module")
def fixed(corpus_tree: Path, spatch: Spatch, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    result = sweep(load_tree(corpus_tree), spatch, load_rules(), jobs=2)
    gen = generate(result, spatch, jobs=2)
    copy = tmp_path_factory.mktemp("patched") / "tree"
    shutil.copytree(corpus_tree, copy)
    for p in gen.patches:
        _apply(copy, p.diff)
    return result, gen, copy


def _changed(corpus_tree: Path, copy: Path) -> dict[str, str]:
    out = {}
    for path in sorted(copy.rglob("*")):
        rel = path.relative_to(copy)
        if path.is_file() and path.read_bytes() != (corpus_tree / rel).read_bytes():
            out[str(rel)] = path.read_text()
    return out


def _res(rel: str) -> Path:
    return GOLDEN / (rel.rsplit(".", 1)[0] + ".res" if rel.endswith(".c") else rel + ".res")


def _refusals(result: SweepResult, gen: Generated) -> str:
    by_id = {f.id: f for f in result.findings}
    rows = sorted(
        f"{by_id[o.finding].file}:{by_id[o.finding].line}: {by_id[o.finding].rule}: {o.reason}"
        for o in gen.refused
    )
    return "\n".join(rows) + "\n"


def test_patched_files_match_golden(fixed, corpus_tree: Path) -> None:  # type: ignore[no-untyped-def]
    _, _, copy = fixed
    changed = _changed(corpus_tree, copy)
    if UPDATE:
        shutil.rmtree(GOLDEN / "drivers", ignore_errors=True)
        for rel, text in changed.items():
            _res(rel).parent.mkdir(parents=True, exist_ok=True)
            _res(rel).write_text(text)
    expected = {str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*.res")}
    assert {str(_res(rel).relative_to(GOLDEN)) for rel in changed} == expected
    for rel, text in changed.items():
        assert text == _res(rel).read_text(), f"{rel} differs from its golden .res"


def test_unpatched_findings_say_why(fixed) -> None:  # type: ignore[no-untyped-def]
    result, gen, _ = fixed
    text = _refusals(result, gen)
    if UPDATE:
        (GOLDEN / "refused.txt").write_text(text)
    assert text == (GOLDEN / "refused.txt").read_text()
    patched = {i for p in gen.patches for i in p.findings}
    refused = {o.finding for o in gen.refused}
    assert patched | refused == {f.id for f in result.findings}
    assert not patched & refused


def test_every_fix_family_has_a_golden_patch(fixed) -> None:  # type: ignore[no-untyped-def]
    result, gen, _ = fixed
    patched_rules = {r for p in gen.patches for r in p.rules}
    fixable = {
        "devm-mode-object",
        "devm-drm-memory",
        "unmanaged-mutex",
        "unmanaged-mode-config",
        "double-put",
        "irq-outlives-unbind",
    }
    assert fixable <= patched_rules
    assert {p.family for p in gen.patches} == set(FAMILIES) - {"drmm-action"}


def test_patch_is_idempotent(fixed, spatch: Spatch) -> None:  # type: ignore[no-untyped-def]
    """After the patches: none of the fixed findings, nothing new, and a second run of the
    fix changes nothing."""
    result, gen, copy = fixed
    again = sweep(load_tree(copy), spatch, load_rules(), jobs=2)
    fixed_ids = {i for p in gen.patches for i in p.findings}
    before = {f.id for f in result.findings}
    after = {f.id for f in again.findings}
    assert not after & fixed_ids
    assert after <= before, "the patches introduced a finding"
    assert after == before - fixed_ids
    second = generate(again, spatch, jobs=2)
    assert second.patches == ()


def test_json_links_findings_and_patches(corpus_tree: Path) -> None:
    res = CliRunner().invoke(main, ["sweep", str(corpus_tree), "--format", "json"])
    assert res.exit_code == 1, res.output
    doc = json.loads(res.output)
    patches = {p["id"]: p for p in doc["patches"]}
    assert patches
    for f in doc["findings"]:
        if f["patch"]:
            assert f["id"] in patches[f["patch"]]["findings"]
            assert f["file"] in patches[f["patch"]]["files"]
        else:
            assert f["no_patch"]
    for p in patches.values():
        parsed = unidiff.PatchSet(p["diff"])
        assert sorted(pf.path for pf in parsed) == sorted(p["files"])
        assert p["verdict"] == "not-checked"


def test_diff_option_prints_applicable_patches(corpus_tree: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["sweep", str(corpus_tree), "--diff"])
    assert res.exit_code == 1, res.output
    copy = tmp_path / "tree"
    shutil.copytree(corpus_tree, copy)
    _apply(copy, res.output)
    assert len(unidiff.PatchSet(res.output).modified_files) >= 10


def test_sweep_leaves_the_tree_alone(corpus_tree: Path, tmp_path: Path) -> None:
    copy = tmp_path / "tree"
    shutil.copytree(corpus_tree, copy)
    res = CliRunner().invoke(main, ["sweep", str(copy), "--diff"])
    assert res.exit_code == 1
    assert _changed(corpus_tree, copy) == {}


def test_realign_follows_a_renamed_call() -> None:
    old = "\tret = drm_encoder_init(drm, enc, &funcs,\n\t\t\t       TYPE, NULL);\n\tfoo(a,\n\t    b);\n"
    new = "\tret = drmm_encoder_init(drm, enc, &funcs,\n\t\t\t       TYPE, NULL);\n\tfoo(a,\n\t    b);\n"
    assert realign(old, new) == (
        "\tret = drmm_encoder_init(drm, enc, &funcs,\n\t\t\t\tTYPE, NULL);\n\tfoo(a,\n\t    b);\n"
    )


def test_guard_goes_above_a_whole_block_comment() -> None:
    """spatch puts the check between a statement and its comment; rockchip_drm_vop.c on
    7.2 has a block comment with bare ` *` lines, where the check once landed inside."""
    head = "{\n\tunsigned long rate;\n\tint idx;\n\n"
    comment = "\t/*\n\t * Clock craziness.\n\t *\n\t * 3. Round the rate.\n\t */\n"
    guard = "\tif (!drm_dev_enter(crtc->dev, &idx))\n\t\treturn false;\n"
    tail = "\trate = clk_round_rate(dclk, 1); /* rounded */\n\tdrm_dev_exit(idx);\n\treturn true;\n}\n"
    assert tidy_guards("", head + comment + guard + tail) == head + guard + "\n" + comment + tail
    # after code with a comment at its end, and right after the declarations
    decls = "{\n\tint a;\n\tint idx;\n"
    assert tidy_guards("", decls + guard + tail) == decls + "\n" + guard + "\n" + tail
    # a blank line already there stays the only one
    assert tidy_guards("", decls + guard + "\n" + tail) == decls + "\n" + guard + "\n" + tail


def test_blank_line_left_by_a_removed_function_goes() -> None:
    old = "int a;\n\nstatic void f(void)\n{\n}\n\nint b;\n"
    assert tidy_blank_lines(old, "int a;\n\n\n\nint b;\n") == "int a;\n\nint b;\n"


def test_sweep_verify_on_a_tree_that_does_not_build_says_not_checked(corpus_tree: Path) -> None:
    res = CliRunner().invoke(main, ["sweep", str(corpus_tree), "--format", "json", "--verify"])
    assert res.exit_code == 1, res.output
    doc = json.loads(res.output)
    assert doc["patches"]
    assert {p["verdict"] for p in doc["patches"]} == {"not-checked"}
    assert all("not a kernel source tree that builds" in p["reason"] for p in doc["patches"])


def test_check_says_not_checked_without_make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tree = tmp_path / "linux"
    (tree / "scripts").mkdir(parents=True)
    (tree / "Makefile").write_text("VERSION = 7\nPATCHLEVEL = 2\nall:\n")
    (tree / "scripts/checkpatch.pl").write_text("exit 0;\n")
    (tree / "drivers/gpu/drm").mkdir(parents=True)
    (tree / "drivers/gpu/drm/x.c").write_text("a\n")
    patch = tmp_path / "x.patch"
    patch.write_text("--- a/drivers/gpu/drm/x.c\n+++ b/drivers/gpu/drm/x.c\n@@ -1 +1 @@\n-a\n+b\n")
    bin_dir = tmp_path / "bin"  # a PATH with everything but make
    bin_dir.mkdir()
    for tool in ("gcc", "perl", "patch", "cp", "git", "spatch", "grep"):
        if shutil.which(tool):
            (bin_dir / tool).symlink_to(shutil.which(tool))  # type: ignore[arg-type]
    monkeypatch.setenv("PATH", str(bin_dir))
    res = CliRunner().invoke(main, ["check", "--tree", str(tree), "--format", "json", str(patch)])
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    assert doc[0]["verdict"] == "not-checked"
    assert "verification needs make" in doc[0]["reason"]
    assert (tree / "drivers/gpu/drm/x.c").read_text() == "a\n"


def test_unknown_or_missing_cross_compiler_is_a_clear_error() -> None:
    import shutil as _shutil

    from refactor.infra.errors import RefactorError
    from refactor.verify.build import arch_env as _arch_env

    assert _arch_env("x86_64") == []
    with pytest.raises(RefactorError, match="no cross compiler known for ARCH=sparc"):
        _arch_env("sparc")
    if _shutil.which("aarch64-linux-gnu-gcc") is None:
        with pytest.raises(RefactorError, match="gcc-aarch64-linux-gnu"):
            _arch_env("arm64")
    else:
        assert _arch_env("arm64") == ["ARCH=arm64", "CROSS_COMPILE=aarch64-linux-gnu-"]


def _why(result: SweepResult, gen: Generated, file: str, rule: str) -> set[str]:
    return {gen.why_not(f.id) for f in result.findings if f.file.endswith(file) and f.rule == rule}


def test_a_driver_with_one_unguardable_hook_gets_no_guard(fixed) -> None:  # type: ignore[no-untyped-def]
    """pairdisp takes a clock between two register writes of its enable: every hardware
    hook of the driver, its plane update too, gets the reason naming that hook."""
    result, gen, _ = fixed
    assert _why(result, gen, "lifedisp/pairdisp.c", "unguarded-hw-access") == {
        "pairdisp_crtc_atomic_enable() (.atomic_enable) cannot be guarded safely: line 41 calls "
        "clk_prepare_enable() (refcounted) between its register accesses: the guard would skip one side "
        "of the count; its 1 other hardware hook(s) stay unguarded too (a partial guard set is not a fix)"
    }
    assert not any("drm_dev_enter" in p.diff for p in gen.patches if p.driver == "pairdisp")


def test_unplug_is_refused_with_what_the_teardown_does(fixed) -> None:  # type: ignore[no-untyped-def]
    result, gen, _ = fixed
    freed = (
        "the teardown still frees what open files reach: dev_private = NULL in freedisp_remove() "
        "(drivers/gpu/drm/lifedisp/freedisp.c:63); make it drm-lifetime safe first"
    )
    assert _why(result, gen, "lifedisp/freedisp.c", "unregister-without-unplug") == {freed}
    assert _why(result, gen, "lifedisp/freedisp.c", "unguarded-hw-access") == {
        "no guard would ever fail, since removal cannot switch to drm_dev_unplug(): " + freed
    }
    assert _why(result, gen, "lifedisp/latedisp.c", "unregister-without-unplug") == {
        "latedisp_remove() calls clk_disable_unprepare() (line 64) before drm_atomic_helper_shutdown() "
        "(line 67): the shutdown commit would touch gated or unpowered hardware; move the shutdown first "
        "by hand"
    }


def test_guards_keep_bookkeeping_outside_and_unplug_comes_first(fixed) -> None:  # type: ignore[no-untyped-def]
    result, gen, _ = fixed
    [patch] = [p for p in gen.patches if p.driver == "guarddisp" and p.family == "drm-guards"]
    assert (
        "\tclk_prepare_enable(gd->pclk);\n"
        " \t// expect: unguarded-hw-access\n"
        "-\tctrl = readl(gd->mmio + GUARDDISP_CTRL);\n"
        "-\twritel(ctrl | GUARDDISP_CTRL_EN, gd->mmio + GUARDDISP_CTRL);\n"
        "+\tif (drm_dev_enter(&gd->drm, &idx)) {\n"
        "+\t\tctrl = readl(gd->mmio + GUARDDISP_CTRL);\n"
        "+\t\twritel(ctrl | GUARDDISP_CTRL_EN, gd->mmio + GUARDDISP_CTRL);\n"
        "+\t\tdrm_dev_exit(idx);\n"
        "+\t}\n"
        " \tdrm_crtc_vblank_on(crtc);\n"
    ) in patch.diff
    assert (
        "+\tif (!drm_dev_enter(&gd->drm, &idx)) {\n"
        "+\t\tif (crtc->state->event) {\n"
        "+\t\t\tspin_lock_irq(&gd->drm.event_lock);\n"
        "+\t\t\tdrm_crtc_send_vblank_event(crtc, crtc->state->event);\n"
        "+\t\t\tcrtc->state->event = NULL;\n"
        "+\t\t\tspin_unlock_irq(&gd->drm.event_lock);\n"
        "+\t\t}\n"
        "+\t\treturn;\n"
        "+\t}\n"
    ) in patch.diff
    assert "+\tdrm_dev_unplug(&gd->drm);\n \tdrm_atomic_helper_shutdown(&gd->drm);\n" in patch.diff
    for hook in ("guarddisp_crtc_atomic_disable", "guarddisp_crtc_mode_valid", "guarddisp_postclose"):
        assert not [f for f in result.findings if f.function == hook]


def test_a_guard_block_keeps_the_comments_and_braces_it_wraps() -> None:
    """spatch re-indents the statements a span guard wraps but not the comments between
    them, and a brace after a comment stays one level too deep: the tidy pass re-indents
    the original lines by one tab instead."""
    old = (
        "\tv = 1;\n\twritel(v, base);\n\n\t/* Signals */\n\tif (x) {\n\t\t/* why */\n\t\tv |= 2;\n\t}\n"
        "\twritel(v, base + 4);\n\tdrm_crtc_vblank_on(crtc);\n"
    )
    spatched = (
        "\tv = 1;\n\tif (drm_dev_enter(crtc->dev, &idx)) {\n\t\twritel(v, base);\n\n\t/* Signals */\n"
        "\t\tif (x) {\n\t\t/* why */\n\t\t\tv |= 2;\n\t\t\t}\n\t\t\twritel(v, base + 4);\n"
        "\t\tdrm_dev_exit(idx);\n\t}\n\tdrm_crtc_vblank_on(crtc);\n"
    )
    assert tidy_guards(old, spatched) == (
        "\tv = 1;\n\tif (drm_dev_enter(crtc->dev, &idx)) {\n\t\twritel(v, base);\n\n\t\t/* Signals */\n"
        "\t\tif (x) {\n\t\t\t/* why */\n\t\t\tv |= 2;\n\t\t}\n\t\twritel(v, base + 4);\n"
        "\t\tdrm_dev_exit(idx);\n\t}\n\tdrm_crtc_vblank_on(crtc);\n"
    )


def test_parallel_and_serial_runs_agree(fixed, spatch: Spatch) -> None:  # type: ignore[no-untyped-def]
    """The patches (texts, order, ids) and refusals do not depend on --jobs, nor on whether
    the planner reuses the sweep's parsed files or parses them again."""
    import dataclasses

    result, gen, _ = fixed
    serial = generate(result, spatch, jobs=1)
    fresh = generate(dataclasses.replace(result, classifier=None), spatch, jobs=3)
    assert gen.patches and (serial.patches, serial.refused) == (gen.patches, gen.refused)
    assert (fresh.patches, fresh.refused) == (gen.patches, gen.refused)


def test_unplug_is_refused_while_a_component_encoder_is_devm(fixed) -> None:  # type: ignore[no-untyped-def]
    """dsidisp's DSI output keeps its encoder in probe-time devm_ memory: the unplug (and so
    the guards) are refused with that object, not emitted (review v2, sprd)."""
    result, gen, _ = fixed
    devm = (
        "the teardown still frees what open files reach: the encoder dsi->encoder in struct dsidisp_dsi "
        "(drivers/gpu/drm/scopedisp/dsidisp_dsi.c:46) lives in devm_ memory, freed at unbind; make it "
        "drm-lifetime safe first"
    )
    assert _why(result, gen, "scopedisp/dsidisp_drv.c", "unregister-without-unplug") == {devm}
    assert _why(result, gen, "scopedisp/dsidisp_drv.c", "unguarded-hw-access") == {
        "no guard would ever fail, since removal cannot switch to drm_dev_unplug(): " + devm
    }
    assert not [p for p in gen.patches if p.driver == "dsidisp"]


def test_unplug_comes_with_the_shutdown_the_removal_lacks(fixed) -> None:  # type: ignore[no-untyped-def]
    """quietdisp's remove only unregisters: the patch unplugs and then shuts the pipeline
    down, in upstream's order; spidisp, which already does both, keeps its removal."""
    _, gen, _ = fixed
    quiet = next(p for p in gen.patches if p.driver == "quietdisp")
    assert "-\tdrm_dev_unregister(&qd->drm);\n+\tdrm_dev_unplug(&qd->drm);\n" \
           "+\tdrm_atomic_helper_shutdown(&qd->drm);\n" in quiet.diff  # fmt: skip
    spi = next(p for p in gen.patches if p.driver == "spidisp")
    assert "drm_atomic_helper_shutdown" not in spi.diff


def test_spi_transfers_are_hardware_hooks(fixed) -> None:  # type: ignore[no-untyped-def]
    """spidisp's plane update reaches spi_write() on its spi_device: the one guard patch
    covers it with the GPIO-raising CRTC enable (review v2, sharp-memory)."""
    result, gen, _ = fixed
    hooks = {f.function for f in result.findings if f.file.endswith("scopedisp/spidisp.c")
             and f.rule == "unguarded-hw-access"}  # fmt: skip
    assert hooks == {"spidisp_plane_atomic_update", "spidisp_crtc_atomic_enable"}
    spi = [p for p in gen.patches if p.driver == "spidisp"]
    assert len(spi) == 1 and spi[0].diff.count("drm_dev_enter(&sd->drm, &idx)") == 2


def test_devm_memory_with_device_lifetime_is_left_alone(fixed) -> None:  # type: ignore[no-untyped-def]
    """keepbuf's scratch, line buffer, pixel engine and sensor block and dsidisp's register
    shadow have device lifetime by the rule's own exclusions: no finding, no drmm_ patch
    (review v2: gud, repaper, imx8-dc, xe_hwmon, rockchip regsbak and tidss)."""
    result, gen, _ = fixed
    assert not [f for f in result.findings if f.rule == "devm-drm-memory" and "scopedisp/" in f.file]
    assert not any("drmm_kzalloc" in p.diff for p in gen.patches if p.driver in ("keepbuf", "dsidisp"))


def test_sibling_locks_are_converted_together(fixed) -> None:  # type: ignore[no-untyped-def]
    """keepbuf's two device locks, one in a nested struct, go in one patch: the
    mutex_destroy() of another struct's member of the same name is not theirs (radeon)."""
    _, gen, _ = fixed
    locks = [p for p in gen.patches if p.driver == "keepbuf"]
    assert len(locks) == 1 and locks[0].family == "drmm-mutex"
    assert "drmm_mutex_init(&kb->drm, &kb->ring_lock)" in locks[0].diff
    assert "drmm_mutex_init(&kb->drm, &kb->gem.mutex)" in locks[0].diff


def test_unbound_parent_through_the_module_function(fixed) -> None:  # type: ignore[no-untyped-def]
    """npudisp hands its never-bound platform device to its own function, which allocates
    the drm device on it; the module's platform driver binds other devices (rocket)."""
    result, _, _ = fixed
    found = [f for f in result.findings if f.rule == "unbound-parent" and "scopedisp/" in f.file]
    assert [(f.file, f.line, f.function) for f in found] == [
        ("drivers/gpu/drm/scopedisp/npudisp_drv.c", 27, "npudisp_core_probe")
    ]
    assert "handed to npudisp_dev_init(), which calls devm_drm_dev_alloc() on it" in found[0].message


def test_an_emptied_error_label_keeps_no_blank_line() -> None:
    """rockchip's dw_hdmi bind on 7.2: the drm_encoder_cleanup() under err_bind: goes with
    the drmm_ init, and the label must not stand over a blank line."""
    old = "\treturn 0;\n\nerr_bind:\n\tdrm_encoder_cleanup(encoder);\n\n\treturn ret;\n}\n"
    new = "\treturn 0;\n\nerr_bind:\n\n\treturn ret;\n}\n"
    assert tidy_blank_lines(old, new) == "\treturn 0;\n\nerr_bind:\n\treturn ret;\n}\n"


def test_no_unplug_while_other_hardware_hooks_stay_open(fixed) -> None:  # type: ignore[no-untyped-def]
    """halfdisp has one guard already, but its enable cannot be guarded: the unplug that
    would make that guard work alone is refused with the enable's reason (review v3, hibmc)."""
    result, gen, _ = fixed
    (why,) = _why(result, gen, "lifedisp/halfdisp.c", "unregister-without-unplug")
    assert why.startswith(
        "the driver's other hardware hooks cannot be guarded, and an unplug that leaves "
        "them open is a partial guard set: halfdisp_crtc_atomic_enable() (.atomic_enable) "
        "cannot"
    )
    assert not [p for p in gen.patches if p.driver == "halfdisp"]
