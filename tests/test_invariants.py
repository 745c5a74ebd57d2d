"""The semantic stage: each drmm_ invariant catches a patch that breaks it (written the way
the first version's generator wrote them), with the exact reason, and leaves the patches
the generator writes now alone; the stage's verdict is `unsafe`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from refactor.invariants import checks as invariants
from refactor.verify.checked import Candidate
from refactor.verify.run import _verdict, stage_semantic

DRM = "drivers/gpu/drm"


def _change(tmp_path: Path, corpus_tree: Path, driver: str, edits: list[tuple[str, str, str]],
            family: str = "drmm-mutex") -> invariants.Change:  # fmt: skip
    """The corpus driver `driver` copied to a tree in tmp_path with `edits` (file, old,
    new) applied, as the Change the semantic stage sees."""
    root = tmp_path / "tree"
    shutil.copytree(corpus_tree / DRM / driver, root / DRM / driver)
    before, after = {}, {}
    for name, old, new in edits:
        rel = f"{DRM}/{driver}/{name}"
        text = before.get(rel) or (root / rel).read_text()
        before.setdefault(rel, text)
        assert old in after.get(rel, text), old
        after[rel] = after.get(rel, text).replace(old, new, 1)
        (root / rel).write_text(after[rel])
    files = tuple(sorted(after))
    return invariants.Change("p", driver, family, files, before, after, (f"{DRM}/{driver}",), root)


def _reasons(change: invariants.Change) -> list[str]:
    return [f"{v.invariant}: {v.reason}" for v in invariants.check(change)]


def test_lock_of_a_struct_freed_by_hand(tmp_path: Path, corpus_tree: Path) -> None:
    """xe_pxp: drmm_mutex_init() on a struct an error path frees."""
    c = _change(tmp_path, corpus_tree, "lockdisp",
                [("lockdisp.c", "\tmutex_init(&s->lock);", "\tdrmm_mutex_init(&ld->drm, "
                                                           "&s->lock);")])  # fmt: skip
    assert _reasons(c) == [
        "drmm-freed-by-hand: lockdisp_session_start() frees s (struct lockdisp_session) with "
        "kfree(), but its "
        "s->lock has a drmm_mutex_init() release action (drivers/gpu/drm/lockdisp/lockdisp.c:41) "
        "that runs on "
        "the freed memory at the final drm_dev_put()"
    ]


def test_drmm_memory_freed_with_kfree(tmp_path: Path, corpus_tree: Path) -> None:
    c = _change(tmp_path, corpus_tree, "lockdisp",
                [("lockdisp.c", "\ts = kzalloc(sizeof(*s), GFP_KERNEL);",
                  "\ts = drmm_kzalloc(&ld->drm, sizeof(*s), GFP_KERNEL);")], family="drmm-alloc")  # fmt: skip
    assert _reasons(c) == [
        "drmm-freed-by-hand: lockdisp_session_start() frees s (struct lockdisp_session, drmm_ memory) with "
        "kfree(): drmm_ frees it again at the final drm_dev_put()"
    ]


def test_one_of_three_sibling_locks(tmp_path: Path, corpus_tree: Path) -> None:
    """amdgpu: one lock of a struct converted, its siblings left with mutex_init()."""
    c = _change(tmp_path, corpus_tree, "lockdisp", [("lockdisp.c", "\tmutex_init(&ld->commit_lock);",
                "\tret = drmm_mutex_init(&ld->drm, &ld->commit_lock);\n\tif (ret)\n\t\treturn "
                "ret;")])  # fmt: skip
    assert _reasons(c) == [
        "partial-mutex-conversion: ld->commit_lock of struct lockdisp uses drmm_mutex_init() "
        "(drivers/gpu/drm/lockdisp/lockdisp.c:66) but ld->vblank_lock of the same struct keeps mutex_init(): "
        "convert the locks of one object together"
    ]


def test_devm_lock_left_in_drmm_memory(tmp_path: Path, corpus_tree: Path) -> None:
    """xe_hwmon: the memory moves to drmm_, its lock stays devm_."""
    c = _change(tmp_path, corpus_tree, "lockdisp", [
        ("lockdisp.c", "\ts = kzalloc(sizeof(*s), GFP_KERNEL);", "\ts = drmm_kzalloc(&ld->drm, "
                                                                 "sizeof(*s), GFP_KERNEL);"),
        ("lockdisp.c", "\tmutex_init(&s->lock);", "\tdevm_mutex_init(ld->drm.dev, &s->lock);"),
        ("lockdisp.c", "\t\tkfree(s);\n", "\t\tdrmm_kfree(&ld->drm, s);\n"),
    ], family="drmm-alloc")  # fmt: skip
    assert _reasons(c) == [
        "devm-mutex-in-drmm-memory: s->lock is a devm_mutex_init() lock in struct lockdisp_session, which is "
        "drmm_ memory: the lock is destroyed at unbind while the memory lives on"
    ]


def test_goto_to_a_teardown_of_what_is_set_up_later(tmp_path: Path, corpus_tree: Path) -> None:
    """armada: a new `goto err` before the drm_mm the label takes down is initialised."""
    probe = "\tret = lockdisp_session_start(ld);\n\tif (ret)\n\t\treturn ret;\n"
    c = _change(tmp_path, corpus_tree, "lockdisp", [
        ("lockdisp.c", "\tret = drmm_mode_config_init(&ld->drm);\n\tif (ret)\n\t\treturn ret;\n",
         "\tret = drmm_mode_config_init(&ld->drm);\n\tif (ret)\n\t\tgoto err_mm;\n"),
        ("lockdisp.c", probe, "\tdrm_mm_init(&ld->linear, 0, 4096);\n" + probe + "\treturn 0;\n\nerr_mm:\n"
         "\tdrm_mm_takedown(&ld->linear);\n\treturn ret;\n"),
    ], family="drmm-mode-config")  # fmt: skip
    assert _reasons(c) == [
        "goto-unwinds-uninitialised: the goto err_mm in lockdisp_probe() runs drm_mm_takedown(&ld->linear) "
        "(line 82), but drm_mm_init(&ld->linear) only sets it up at line 75, after the goto"
    ]


def test_new_exit_that_skips_an_earlier_checks_unwinding(tmp_path: Path, corpus_tree: Path) -> None:
    """A new check that returns where the checks before it jump to the ladder's label
    leaks what the label undoes (the ring and the range allocator)."""
    c = _change(tmp_path, corpus_tree, "ladderdisp", [
        ("ladderdisp_drv.c", "\tmutex_init(&ld->poll_lock);\n",
         "\tret = drmm_mutex_init(&ld->drm, &ld->poll_lock);\n\tif (ret)\n\t\treturn ret;\n"),
    ])  # fmt: skip
    assert [r for r in _reasons(c) if r.startswith("goto-")] == [
        "goto-unwinds-too-little: the new error exit at line 68 of ladderdisp_probe() does not run "
        "kfree(ld->ring), which the earlier error check at line 60 runs: it would leak what that check "
        "unwinds"
    ]


def test_new_exit_down_the_ladder_is_safe(tmp_path: Path, corpus_tree: Path) -> None:
    """The same check jumping to the ladder's label, as the generator writes it, breaks nothing."""
    c = _change(tmp_path, corpus_tree, "ladderdisp", [
        ("ladderdisp_drv.c", "\tmutex_init(&ld->poll_lock);\n",
         "\tret = drmm_mutex_init(&ld->drm, &ld->poll_lock);\n\tif (ret)\n\t\tgoto err_vram;\n"),
    ])  # fmt: skip
    assert [r for r in _reasons(c) if r.startswith("goto-")] == []


def test_rename_only_mode_config_patch_leaves_the_crash(tmp_path: Path, corpus_tree: Path) -> None:
    """atmel-hlcdc: drmm_ objects without .destroy, and the manual cleanup kept."""
    c = _change(tmp_path, corpus_tree, "unloaddisp", [("unloaddisp.c", "\tdrm_mode_config_init(drm);",
                "\tret = drmm_mode_config_init(drm);")], family="drmm-mode-config")  # fmt: skip
    assert _reasons(c) == [
        "mode-config-cleanup-left: drm_mode_config_cleanup() by hand in unloaddisp_unload() on the removal "
        "path calls the .destroy hook of drmm_universal_plane_alloc()'s object "
        "(drivers/gpu/drm/unloaddisp/unloaddisp.c:57), which a drmm_ object does not have"
    ]


def test_cleanup_removed_while_an_object_is_devm(tmp_path: Path, corpus_tree: Path) -> None:
    """tve200/sun4i: dropping the cleanup while the CRTC is in devm_ memory."""
    gone = ("keepdisp.c", "\tdrm_mode_config_cleanup(&kd->drm);\n", "")
    c = _change(tmp_path, corpus_tree, "keepdisp", [gone], family="drmm-mode-config")
    assert _reasons(c) == [
        "mode-config-cleanup-removed: no drm_mode_config_cleanup() is left before the final "
        "drm_dev_put(), but "
        "the CRTC kcrtc->base in struct keepdisp_crtc (drivers/gpu/drm/keepdisp/keepdisp.c:76) "
        "lives in devm_ "
        "memory, freed at unbind"
    ]


@pytest.mark.parametrize(("driver", "file", "old", "new"), [
    ("unloaddisp", "unloaddisp.c", "\t// expect: "
                                   "unmanaged-mode-config\n\tdrm_mode_config_cleanup(drm);\n", ""),
    ("lockdisp", "lockdisp.c", "\tmutex_destroy(&ld->vblank_lock);\n\tmutex_destroy(&ld->hpd_lock);\n", ""),
])  # fmt: skip
def test_the_generators_patches_are_safe(tmp_path: Path, corpus_tree: Path, driver: str, file: str, old: str,
                                         new: str) -> None:  # fmt: skip
    edits = [(file, old, new)]
    if driver == "lockdisp":
        for lock in ("commit_lock", "vblank_lock", "hpd_lock"):
            edits.append((file, f"\tmutex_init(&ld->{lock});",
                          f"\tret = drmm_mutex_init(&ld->drm, &ld->{lock});\n\tif (ret)\n\t\treturn "
                          f"ret;"))  # fmt: skip
    c = _change(tmp_path, corpus_tree, driver, edits, family="drmm-mode-config")
    assert invariants.check(c) == []


def test_the_stage_says_unsafe(tmp_path: Path, corpus_tree: Path) -> None:
    c = _change(tmp_path, corpus_tree, "lockdisp",
                [("lockdisp.c", "\tmutex_init(&s->lock);", "\tdrmm_mutex_init(&ld->drm, "
                                                           "&s->lock);")])  # fmt: skip
    cand = Candidate("p", "lockdisp", "", (), c.paths, family="drmm-mutex")
    stage = stage_semantic(c.root, cand, dict(c.before))
    assert not stage.ok and stage.name == "semantic"
    verdict, reason = _verdict([stage])
    assert verdict == "unsafe"
    assert reason.startswith(
        "drmm-freed-by-hand: drivers/gpu/drm/lockdisp/lockdisp.c:43: lockdisp_session_start()"
    )
