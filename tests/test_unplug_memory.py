"""devm-drm-memory in a driver that removes with drm_dev_unplug() and then
drm_atomic_helper_shutdown(): memory only the mode objects' commit hooks use is right in
devm_ memory (review C2), memory a release hook uses, or an ioctl, is not (the corpus marks
themselves are checked by test_sweep.py); unguarded-hw-access in such a driver is low."""

from __future__ import annotations

import shutil
from pathlib import Path

from refactor.cocci.spatch import Spatch
from refactor.model.tree import load_tree
from refactor.sweep.run import load_rules, sweep

RULE = "devm-drm-memory"
DRV = "drivers/gpu/drm/unplugbuf/unplugbuf.c"


def _found(tree: Path, spatch: Spatch) -> dict[int, str]:
    result = sweep(load_tree(tree), spatch, load_rules([RULE]), jobs=2)
    return {f.line: f.message for f in result.findings if f.file == DRV}


def _line(path: Path, needle: str) -> int:
    return next(i for i, x in enumerate(path.read_text().splitlines(), 1) if needle in x)


def test_commit_hook_memory_of_an_unplugging_driver(
    corpus_tree: Path, spatch: Spatch, tmp_path: Path
) -> None:
    src = corpus_tree / DRV
    line, stats = _line(src, "ub->line = devm_kzalloc"), _line(src, "ub->stats = devm_kcalloc")
    assert sorted(_found(corpus_tree, spatch)) == [stats]  # .destroy runs at the final put
    # without the shutdown commit after the unplug, a commit in flight is waited for by nothing
    tree = tmp_path / "tree"
    shutil.copytree(corpus_tree, tree)
    text = (tree / DRV).read_text()
    (tree / DRV).write_text(text.replace("\tdrm_atomic_helper_shutdown(&ub->drm);\n", ""))
    assert sorted(_found(tree, spatch)) == [line, stats]


def test_unguarded_hook_of_an_unplugging_driver_is_low(corpus_tree: Path, spatch: Spatch) -> None:
    """Only a call in flight at drm_dev_unplug() outlasts it: spidisp unplugs, guarddisp not."""
    result = sweep(load_tree(corpus_tree), spatch, load_rules(["unguarded-hw-access"]), jobs=2)
    level = {f.file.split("/")[-1]: f.confidence for f in result.findings}
    assert level["spidisp.c"] == "low" and "in flight" in next(
        f.message for f in result.findings if f.file.endswith("spidisp.c"))  # fmt: skip
    assert {v for k, v in level.items() if k != "spidisp.c"} == {"medium"}
