"""unmanaged-mode-object: what its findings say, and silence in a tree without the drmm_
helpers (the corpus marks themselves are checked by test_sweep.py)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from refactor.cocci.spatch import Spatch
from refactor.model.tree import load_tree
from refactor.sweep.run import load_rules, sweep

RULE = "unmanaged-mode-object"
TEAR = Path(__file__).resolve().parent.parent / "corpus/tree/drivers/gpu/drm/teardisp/teardisp.c"


def _line(path: Path, needle: str) -> int:
    return next(i for i, x in enumerate(path.read_text().splitlines(), 1) if needle in x)


def _sweep(tree: Path, spatch: Spatch) -> dict[tuple[str, int], tuple[str, str]]:
    result = sweep(load_tree(tree), spatch, load_rules([RULE]), jobs=2)
    return {(f.file, f.line): (f.message, f.fix) for f in result.findings}


def test_messages_name_the_hook_and_the_free(corpus_tree: Path, spatch: Spatch) -> None:
    found = _sweep(corpus_tree, spatch)
    kms = "drivers/gpu/drm/handobj/handobj_kms.c"
    mine = [f for f, _ in found if "/kz" not in f]  # kzdisp and kzhook: the patch cases below
    tear = ["drivers/gpu/drm/tearcomp/tearcomp_out.c", "drivers/gpu/drm/teardisp/teardisp.c",
            "drivers/gpu/drm/teardisp/tearioctl.c"]  # fmt: skip
    assert sorted(mine) == [kms] * 5 + ["drivers/gpu/drm/oldcrtc/oldcrtc.c", *tear]
    assert len(found) - len(mine) == 7
    encoder = next(v for (f, _), v in found.items() if f == kms and "encoder" in v[0])
    assert "handobj_encoder_destroy()" in encoder[0]
    assert encoder[1].startswith("allocate with drmm_encoder_alloc()")
    plane = next(v for (f, _), v in found.items() if f == kms and "plane" in v[0])
    assert "kfree() in handobj_kms_fini()" in plane[0]
    assert "drmm_universal_plane_alloc()" in plane[1]
    crtc = next(v for (f, _), v in found.items() if f.endswith("oldcrtc.c"))
    # oldcrtc tears its mode config down by hand: the message says where
    assert "drm_mode_config_cleanup() itself (in oldcrtc_mode_config_fini())" in crtc[0]
    # embedded in the drm device with a hook that only cleans up: the drmm_ init of the same arguments
    embedded = [v for (f, _), v in found.items() if f == kms and "embedded in struct handobj_device" in v[0]]
    assert sorted(v[1].split(";")[0] for v in embedded) == [
        "initialise with drmm_connector_init()", "initialise with drmm_crtc_init_with_planes()",
        "initialise with drmm_encoder_init()"]  # fmt: skip
    # devm_ memory destroyed by remove's own drm_mode_config_cleanup() first: low, no UAF claimed
    torn = found[("drivers/gpu/drm/teardisp/teardisp.c", _line(TEAR, "drm_crtc_init_with_planes"))]
    assert "teardisp_remove() on the removal path destroys it before devres frees" in torn[0]
    assert torn[1].endswith("then drop the manual drm_mode_config_cleanup()")


def test_silent_without_the_drmm_helpers(corpus_tree: Path, spatch: Spatch, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(corpus_tree, tree)
    assert _sweep(tree, spatch)  # the copy fires as the corpus does
    for header in (tree / "include/drm").glob("*.h"):
        text = header.read_text()
        # drop every declaration and macro of a drmm_ mode-object helper
        helper = r"_*drmm_(crtc|encoder|universal_plane|connector|writeback)\w*"
        text = re.sub(r"^(int|void \*)\s*" + helper + r"\([^;]*;\n", "", text, flags=re.M)
        text = re.sub(r"^#define drmm_(crtc|encoder|universal_plane)\w*\(.*(\\\n.*)*\n", "", text, flags=re.M)
        header.write_text(text)
    assert _sweep(tree, spatch) == {}


def _patches(tree: Path, spatch: Spatch, driver: str) -> tuple[list, list]:  # type: ignore[type-arg]
    from refactor.generate.run import generate

    model = load_tree(tree, (f"drivers/gpu/drm/{driver}",))
    result = sweep(model, spatch, load_rules([RULE, "unmanaged-mode-config"]), jobs=2)
    gen = generate(result, spatch, jobs=2)
    return [p for p in gen.patches if p.driver == driver], [f for f in result.findings if f.driver == driver]


def test_whole_driver_in_one_commit(corpus_tree: Path, spatch: Spatch) -> None:
    """kzdisp: every object converts, so the same commit drops the manual mode-config
    cleanups (probe's error label and remove) and every hook."""
    patches, findings = _patches(corpus_tree, spatch, "kzdisp")
    assert len(patches) == 1
    patch = patches[0]
    assert set(patch.findings) == {f.id for f in findings} and len(findings) == 6
    added = "\n".join(x for x in patch.diff.splitlines() if x.startswith("+"))
    removed = "\n".join(x for x in patch.diff.splitlines() if x.startswith("-"))
    for helper in ("drmm_crtc_alloc_with_planes(", "drmm_universal_plane_alloc(", "drmm_encoder_alloc(",
                   "drmm_kzalloc(", "drmm_connector_init("):  # fmt: skip
        assert helper in added, helper
    assert removed.count("drm_mode_config_cleanup(") == 2 and "drm_mode_config_cleanup(" not in added
    assert removed.count(".destroy = ") == 4 and "kfree(" not in added
    assert "kfree(kp);" in removed  # the goto ladder's free of drmm_ memory goes
    assert "struct drm_encoder *encoder;" in removed  # the alias the allocator leaves unused


def test_extra_teardown_becomes_a_release_action(corpus_tree: Path, spatch: Spatch) -> None:
    """kzhook: the encoder's hook also puts a phy: that stays, as a drmm_ release action
    registered after drmm_encoder_init() with the init's error exit; the CRTC, whose
    primary plane only exists after the allocation, keeps its init in place."""
    patches, _ = _patches(corpus_tree, spatch, "kzhook")
    assert len(patches) == 1
    diff = patches[0].diff
    assert "+static void kzhook_encoder_release(struct drm_device *drm, void *arg)" in diff
    assert "+\tret = drmm_add_action_or_reset(&kh->drm, kzhook_encoder_release, &ke->base);" in diff
    assert " \tkzhook_phy_put(ke->phy);" in diff  # kept, as context
    assert "+\tret = drmm_crtc_init_with_planes(&kh->drm, &kc->base, primary, NULL," in diff
    assert not re.search(r"^\+.*[ \t]$", diff, re.M)  # no trailing whitespace written


def test_hook_parts() -> None:
    from refactor.families.modeobj_hooks import hook_parts as _hook_parts

    body = """
	struct foo_crtc *fc = to_foo_crtc(crtc);

	if (!crtc)
		return;
	DBG("bye");
	drm_crtc_cleanup(crtc);
	kfree(fc);
"""
    assert _hook_parts(body, "drm_crtc_cleanup") == ([], "fc", "")
    assert _hook_parts("foo_bo_unref(&fc->bo); drm_crtc_cleanup(crtc); kfree(fc);", "drm_crtc_cleanup") == (
        ["foo_bo_unref()"], "fc", "")  # fmt: skip
    # a register write at release would touch hardware after unbind
    hw = "writel(0, fc->regs); drm_crtc_cleanup(crtc); kfree(fc);"
    assert _hook_parts(hw, "drm_crtc_cleanup")[2] == "writel()"
    assert _hook_parts("drm_crtc_cleanup(crtc);", "drm_crtc_cleanup")[2]  # frees nothing: not this shape
