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


def _sweep(tree: Path, spatch: Spatch) -> dict[tuple[str, int], tuple[str, str]]:
    result = sweep(load_tree(tree), spatch, load_rules([RULE]), jobs=2)
    return {(f.file, f.line): (f.message, f.fix) for f in result.findings}


def test_messages_name_the_hook_and_the_free(corpus_tree: Path, spatch: Spatch) -> None:
    found = _sweep(corpus_tree, spatch)
    kms = "drivers/gpu/drm/handobj/handobj_kms.c"
    assert sorted(f for f, _ in found) == [kms, kms, "drivers/gpu/drm/oldcrtc/oldcrtc.c"]
    encoder = next(v for (f, _), v in found.items() if f == kms and "encoder" in v[0])
    assert "handobj_encoder_destroy()" in encoder[0]
    assert encoder[1].startswith("allocate with drmm_encoder_alloc()")
    plane = next(v for (f, _), v in found.items() if f == kms and "plane" in v[0])
    assert "kfree() in handobj_kms_fini()" in plane[0]
    assert "drmm_universal_plane_alloc()" in plane[1]
    crtc = next(v for (f, _), v in found.items() if f.endswith("oldcrtc.c"))
    # oldcrtc tears its mode config down by hand: the message says where
    assert "drm_mode_config_cleanup() itself (in oldcrtc_mode_config_fini())" in crtc[0]


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
