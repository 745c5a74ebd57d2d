"""The tree model on the bundled corpus: modules, drm allocation sites, wrappers, API table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from refactor.cli import main
from refactor.infra.errors import TreeError
from refactor.model.tree import check_tree, load_tree, read_api, tree_version


def test_corpus_version(corpus_tree: Path) -> None:
    assert tree_version(corpus_tree) == "7.2.0-corpus"


def test_corpus_drivers(corpus_tree: Path) -> None:
    model = load_tree(corpus_tree)
    got = {
        d.name: [(a.call, a.api, a.file, a.line, a.function, a.struct, a.member) for a in d.allocations]
        for d in model.drivers
    }
    drm = "drivers/gpu/drm"
    assert set(got) == {"bufdisp", "cleandisp", "compdisp", "corpdisp", "legacyfb", "legacylcd", "oldcrtc",
                        "pipedisp", "rootdemo", "rootgroup", "splitcrtc", "putpanel", "tinypanel",
                        "wrapdev_core", "wrapdev_pci", "compdisp_lvds", "trapdisp", "keepdisp", "mastdisp",
                        "mastdisp_dsi", "guarddisp", "plugdisp", "pairdisp", "freedisp",
                        "latedisp", "handobj", "unloaddisp", "lockdisp",
                        "reldisp", "gotodisp", "ladderdisp", "dsidisp", "quietdisp", "spidisp", "keepbuf",
                        "npudisp", "halfdisp", "kzdisp", "kzhook", "tearcomp", "tearcomp_lcd", "tearcomp_out",
                        "ipdisp", "teardisp", "tearioctl", "flushdisp", "unplugbuf", "irqnever", "irqlate",
                        "irqunwind", "irqdevm", "irqremove", "irqact", "irqwait"}  # fmt: skip
    assert {name: got[name] for name in ("corpdisp", "legacyfb", "putpanel", "tinypanel", "wrapdev_core",
                                         "wrapdev_pci")} == {
        "corpdisp": [("devm_drm_dev_alloc", "devm_drm_dev_alloc", f"{drm}/corpdisp/corpdisp_drv.c", 15,
                      "corpdisp_probe", "struct corpdisp_device", "drm")],
        "legacyfb": [("drm_dev_alloc", "drm_dev_alloc", f"{drm}/legacyfb/legacyfb.c", 25,
                      "legacyfb_probe", "", "")],
        "putpanel": [("devm_drm_dev_alloc", "devm_drm_dev_alloc", f"{drm}/tiny/putpanel.c", 19,
                      "putpanel_probe", "struct putpanel", "drm")],
        # typeof(*tp) is resolved from tp's declaration
        "tinypanel": [("devm_drm_dev_alloc", "devm_drm_dev_alloc", f"{drm}/tiny/tinypanel.c", 20,
                       "tinypanel_probe", "struct tinypanel", "drm")],
        "wrapdev_core": [("devm_drm_dev_alloc", "devm_drm_dev_alloc", f"{drm}/wrapdev/wrapdev_core.c", 13,
                          "wrapdev_device_create", "struct wrapdev_device", "drm")],
        # created through the exported wrapper of another module
        "wrapdev_pci": [("wrapdev_device_create", "devm_drm_dev_alloc", f"{drm}/wrapdev/wrapdev_pci.c", 9,
                         "wrapdev_pci_probe", "", "")],
    }  # fmt: skip
    corpdisp = next(d for d in model.drivers if d.name == "corpdisp")
    assert corpdisp.module.files == (f"{drm}/corpdisp/corpdisp_drv.c", f"{drm}/corpdisp/corpdisp_kms.c")
    assert corpdisp.module.config == "CONFIG_DRM_CORPDISP"
    assert not any(d.test for d in model.drivers)
    # a separate module whose component bind() attaches an encoder to compdisp's drm_device
    lvds = next(d for d in model.drivers if d.name == "compdisp_lvds")
    assert (lvds.role, lvds.allocations) == ("component", ())
    # drivers/misc/corpus-led is a module, but creates no drm_device
    assert "drivers/misc/corpus-led.o" in {m.path for m in model.kbuild.modules}
    # npudisp_dev_init() is not static: a wrapper, like rocket_device_init() in Linux
    assert [w.name for w in model.wrappers] == ["npudisp_dev_init", "wrapdev_device_create"]
    assert model.unmapped == ()


def test_corpus_paths_filter(corpus_tree: Path) -> None:
    model = load_tree(corpus_tree, ["drivers/gpu/drm/wrapdev"])
    assert [d.name for d in model.drivers] == ["wrapdev_core", "wrapdev_pci"]


def test_corpus_api_table(corpus_tree: Path) -> None:
    api = read_api(corpus_tree)
    assert api.get("drmm_kzalloc").kind == "inline"  # type: ignore[union-attr]
    assert api.get("devm_drm_dev_alloc").kind == "macro"  # type: ignore[union-attr]
    assert api.get("drm_dev_enter").header == "include/drm/drm_drv.h"  # type: ignore[union-attr]
    assert api.has("drmm_crtc_alloc_with_planes") and api.has("drmm_universal_plane_alloc")
    # the corpus, like a 6.1 tree, has neither refcounted bridge nor panel allocator
    assert not api.has("devm_drm_bridge_alloc") and not api.has("devm_drm_panel_alloc")
    # non-API names in the same headers are not recorded
    assert not api.has("drm_crtc_cleanup") and not api.has("drm_mode_config_init")


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: p / "missing", "{p}/missing: no such directory"),
        (
            lambda p: (p / "f.c").write_text("int x;\n") and p / "f.c",
            "{p}/f.c is a file, not a kernel tree directory",
        ),
        (lambda p: p, "{p} is not a Linux kernel tree: no readable top-level Makefile"),
    ],
)
def test_bad_tree(tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(TreeError) as err:
        check_tree(make(tmp_path))
    assert str(err.value) == message.format(p=tmp_path)


def test_tree_without_drm(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text("VERSION = 6\nPATCHLEVEL = 1\n")
    (tmp_path / "drivers").mkdir()
    with pytest.raises(TreeError, match=r"has no drivers/gpu/drm: nothing to sweep$"):
        check_tree(tmp_path)


def test_makefile_without_version(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text("all:\n\techo hi\n")
    with pytest.raises(
        TreeError, match=r"is not a Linux kernel tree: its Makefile sets no VERSION/PATCHLEVEL$"
    ):
        check_tree(tmp_path)


def test_cli_drivers_json(corpus_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "drivers.json"
    res = CliRunner().invoke(main, ["drivers", str(corpus_tree), "--format", "json", "-o", str(out)])
    assert res.exit_code == 0, res.output
    doc = json.loads(out.read_text())
    assert doc["tree"] == {"path": str(corpus_tree.resolve()), "version": "7.2.0-corpus"}
    names = [d["name"] for d in doc["drivers"]]
    assert names[:4] == ["bufdisp", "cleandisp", "compdisp", "compdisp_lvds"] and len(names) == 54
    corpdisp = next(d for d in doc["drivers"] if d["name"] == "corpdisp")
    assert corpdisp["allocations"][0]["line"] == 15
    assert [f.name for f in tmp_path.iterdir()] == ["drivers.json"]  # no temporary left


def test_cli_drivers_text_defaults_to_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # not inside a kernel tree: the bundled corpus is used
    res = CliRunner().invoke(main, ["drivers"])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0].startswith("Linux 7.2.0-corpus at ")
    assert "wrapdev_device_create -> devm_drm_dev_alloc" in res.output
    assert (
        "50 drivers create a drm_device (48 with devm_drm_dev_alloc, 0 in test code), 4 component"
        in res.output
    )


def test_cli_bad_tree_exit_2(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["drivers", str(tmp_path / "nope")])
    assert res.exit_code == 2
    assert res.output == f"drmm-refactor: {tmp_path / 'nope'}: no such directory\n"
