"""The tree model on real Linux trees from Debian's packages (fetched once, cached)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from refactor.cocci.spatch import Spatch
from refactor.model.tree import is_test_path, load_tree, read_api
from refactor.sweep.run import load_rules, sweep

pytestmark = pytest.mark.realtree


def _grep_callers(root: Path) -> list[str]:
    """What a maintainer would type: every file calling either allocator, by grep -rl."""
    res = subprocess.run(
        ["grep", "-rlE", r"(devm_drm_dev_alloc|drm_dev_alloc)\(", "."],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return sorted(line[2:] for line in res.stdout.splitlines())


def _coverage(root: Path) -> tuple[list[str], list[str], list[str]]:
    model = load_tree(root)
    in_modules = {f for d in model.drivers for f in d.module.files}
    calls = [f for f in _grep_callers(root) if not is_test_path(f)]
    c_files = [f for f in calls if f.endswith(".c")]
    missed = [f for f in c_files if f not in in_modules]
    return calls, c_files, missed


@pytest.mark.parametrize("series", ["7.2", "6.12"])
def test_drivers_account_for_grep(series: str, request: pytest.FixtureRequest) -> None:
    root = request.getfixturevalue(f"linux_{series.replace('.', '_')}")
    calls, c_files, missed = _coverage(root)
    # Only C files call: the other hits are documentation, the API's own headers and Rust
    # bindings (rust/kernel/drm), which the tool does not handle.
    others = sorted(set(calls) - set(c_files))
    assert all(f.startswith(("Documentation/", "include/", "rust/")) or f.endswith(".h") for f in others), (
        others
    )
    assert len(c_files) > 80
    assert (len(c_files) - len(missed)) / len(c_files) >= 0.98, missed


def test_known_drivers_on_7_2(linux_7_2: Path) -> None:
    model = load_tree(linux_7_2)
    by = {d.name: d for d in model.drivers}
    repaper = by["repaper"]
    assert repaper.module.files == ("drivers/gpu/drm/tiny/repaper.c",)
    assert repaper.module.config == "CONFIG_TINYDRM_REPAPER"
    site = repaper.allocations[0]
    assert (site.call, site.function, site.struct, site.member) == (
        "devm_drm_dev_alloc", "repaper_probe", "struct repaper_epd", "drm",
    )  # fmt: skip
    # typeof(*adev) resolved from the declaration of adev
    amd = by["amdgpu"].allocations[0]
    assert (amd.struct, amd.member) == ("struct amdgpu_device", "ddev")
    # the big composite modules read through include'd Kbuild files and make functions
    assert len(by["amdgpu"].module.files) > 800  # amdgpu + display, from ../display
    assert len(by["nouveau"].module.files) > 500  # nvkm/*/Kbuild, included
    assert "drivers/gpu/drm/i915/display/intel_display.c" in by["xe"].module.files  # pattern rule
    # kunit helpers create drm devices too, through a wrapper macro, and are marked as tests
    assert any(d.test for d in model.drivers)
    assert not by["repaper"].test


def test_api_table_differs_between_6_1_and_7_2(linux_6_1: Path, linux_7_2: Path) -> None:
    old, new = read_api(linux_6_1), read_api(linux_7_2)
    both = {"drmm_kzalloc", "drmm_kcalloc", "drmm_mutex_init", "drmm_mode_config_init",
            "drmm_crtc_alloc_with_planes", "drmm_universal_plane_alloc", "drmm_encoder_alloc",
            "drmm_add_action_or_reset", "devm_drm_dev_alloc", "drm_dev_enter", "drm_dev_unplug"}  # fmt: skip
    assert both <= old.names and both <= new.names
    only_new = {"devm_drm_bridge_alloc", "devm_drm_panel_alloc", "drmm_writeback_connector_init",
                "drmm_kms_helper_poll_init", "__drm_dev_alloc"}  # fmt: skip
    assert only_new <= new.names
    assert not only_new & old.names
    assert new.get("devm_drm_bridge_alloc").header == "include/drm/drm_bridge.h"  # type: ignore[union-attr]
    assert new.get("devm_drm_bridge_alloc").kind == "macro"  # type: ignore[union-attr]


def test_sweep_logicvc_on_7_2(linux_7_2: Path, spatch: Spatch) -> None:
    """The issue's reference case: logicvc's CRTC, encoder and planes live in devm_ memory."""
    result = sweep(
        load_tree(linux_7_2, ["drivers/gpu/drm/logicvc"]), spatch, load_rules(["devm-mode-object"])
    )
    got = {(f.file.rsplit("/", 1)[1], f.function, f.helpers) for f in result.findings}
    assert got == {
        ("logicvc_crtc.c", "logicvc_crtc_init", ("drmm_kzalloc", "drmm_crtc_init_with_planes")),
        ("logicvc_interface.c", "logicvc_interface_init",
         ("drmm_kzalloc", "drmm_encoder_init", "drmm_connector_init")),
        ("logicvc_layer.c", "logicvc_layer_init", ("drmm_universal_plane_alloc",)),
    }  # fmt: skip
    assert result.skipped == ()


def test_no_fix_proposes_a_helper_6_1_lacks(linux_6_1: Path, spatch: Spatch) -> None:
    """A whole sweep of 6.1: every helper a fix names is declared in that tree's include/drm."""
    model = load_tree(linux_6_1)
    result = sweep(model, spatch, load_rules(), jobs=2)
    assert len(result.findings) > 50
    proposed = {h for f in result.findings for h in f.helpers}
    assert proposed and proposed <= model.api.names
    # 7.2 has drmm_writeback_connector_init, 6.1 does not: no fix may mention it
    assert not any("drmm_writeback_connector_init" in f.fix for f in result.findings)


def test_logicvc_patch_on_7_2(linux_7_2: Path, spatch: Spatch) -> None:
    """logicvc's layer is a plane whose formats are chosen after the allocation: it cannot
    move to drm lifetime and stays refused with that reason.  Its CRTC and interface move
    (drmm_kzalloc() and the drmm_ inits, their .destroy entries and the encoder's cleanup
    on the error path gone): the driver's mode config is drmm_ already, so no manual
    cleanup is removed, and the plane left in devm_ memory is no worse than before (the
    semantic stage counts only what a patch brings)."""
    from refactor.generate.run import generate

    result = sweep(
        load_tree(linux_7_2, ["drivers/gpu/drm/logicvc"]), spatch, load_rules(["devm-mode-object"])
    )
    gen = generate(result, spatch)
    assert [p.files for p in gen.patches] == [
        ("drivers/gpu/drm/logicvc/logicvc_crtc.c", "drivers/gpu/drm/logicvc/logicvc_interface.c")
    ]
    diff = gen.patches[0].diff
    assert "+\tcrtc = drmm_kzalloc(drm_dev, sizeof(*crtc), GFP_KERNEL);" in diff
    assert "+\tret = drmm_crtc_init_with_planes(drm_dev, &crtc->drm_crtc," in diff
    assert "+\tret = drmm_encoder_init(drm_dev, &interface->drm_encoder," in diff
    assert "-\t.destroy\t\t= drm_crtc_cleanup," in diff and "drm_mode_config_cleanup" not in diff
    layer = next(f for f in result.findings if f.file.endswith("logicvc_layer.c"))
    assert gen.why_not(layer.id) == "formats is only set after the allocation: the init cannot move there"
