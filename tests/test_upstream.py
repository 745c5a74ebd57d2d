"""bench/upstream.py: the conversions it extracts from two tiny synthetic trees, and how it
scores a sweep report against them."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("upstream", REPO / "bench" / "upstream.py")
assert _spec is not None and _spec.loader is not None
upstream = importlib.util.module_from_spec(_spec)
sys.modules["upstream"] = upstream
_spec.loader.exec_module(upstream)

OLD_FOO = """\
// SPDX-License-Identifier: GPL-2.0-only
static void foo_crtc_destroy(struct drm_crtc *crtc)
{
	drm_crtc_cleanup(crtc);
	kfree(to_foo_crtc(crtc));
}

static const struct drm_crtc_funcs foo_crtc_funcs = {
	.reset = foo_crtc_reset,
	.destroy = foo_crtc_destroy,
};

static int foo_crtc_create(struct foo_device *foo)
{
	struct foo_crtc *fc;

	fc = kzalloc(sizeof(*fc), GFP_KERNEL);
	if (!fc)
		return -ENOMEM;
	fc->index = 0;
	fc->flags = 1;
	return drm_crtc_init_with_planes(&foo->drm, &fc->base, NULL, NULL,
					&foo_crtc_funcs, NULL);
}

static int foo_probe(struct platform_device *pdev)
{
	struct foo_device *foo = platform_get_drvdata(pdev);
	int ret;

	foo->lut = devm_kzalloc(&pdev->dev, 256, GFP_KERNEL);
	if (!foo->lut)
		return -ENOMEM;
	foo->regs = devm_kzalloc(&pdev->dev, 64, GFP_KERNEL);
	mutex_init(&foo->lock);
	drm_mode_config_init(&foo->drm);
	ret = foo_crtc_create(foo);
	if (ret)
		goto err;
	return drm_dev_register(&foo->drm, 0);
err:
	drm_mode_config_cleanup(&foo->drm);
	return ret;
}

static void foo_remove(struct platform_device *pdev)
{
	struct foo_device *foo = platform_get_drvdata(pdev);

	drm_dev_unregister(&foo->drm);
	drm_mode_config_cleanup(&foo->drm);
}

static int foo_renamed_old(struct foo_device *foo)
{
	foo->tmp = devm_kzalloc(foo->dev, 8, GFP_KERNEL);
	return 0;
}
"""

NEW_FOO = """\
// SPDX-License-Identifier: GPL-2.0-only
static const struct drm_crtc_funcs foo_crtc_funcs = {
	.reset = foo_crtc_reset,
};

static int foo_crtc_create(struct foo_device *foo)
{
	struct foo_crtc *fc;

	fc = drmm_crtc_alloc_with_planes(&foo->drm, struct foo_crtc, base, NULL, NULL,
					&foo_crtc_funcs, NULL);
	if (IS_ERR(fc))
		return PTR_ERR(fc);
	fc->index = 0;
	fc->flags = 1;
	return 0;
}

static int foo_probe(struct platform_device *pdev)
{
	struct foo_device *foo = platform_get_drvdata(pdev);
	int ret;

	foo->lut = drmm_kzalloc(&foo->drm, 256, GFP_KERNEL);
	if (!foo->lut)
		return -ENOMEM;
	foo->regs = devm_kzalloc(&pdev->dev, 128, GFP_KERNEL);
	ret = drmm_mutex_init(&foo->drm, &foo->lock);
	if (ret)
		return ret;
	ret = drmm_mode_config_init(&foo->drm);
	if (ret)
		return ret;
	ret = foo_crtc_create(foo);
	if (ret)
		return ret;
	return drm_dev_register(&foo->drm, 0);
}

static void foo_remove(struct platform_device *pdev)
{
	struct foo_device *foo = platform_get_drvdata(pdev);

	drm_dev_unplug(&foo->drm);
}

static int foo_renamed_new(struct foo_device *foo)
{
	foo->tmp = drmm_kzalloc(&foo->drm, 8, GFP_KERNEL);
	return 0;
}
"""

OLD_BAR = """\
static int bar_init(struct bar *bar)
{
	mutex_init(&bar->lock);
	return 0;
}
"""

NEW_BAR = """\
static int bar_init(struct bar *bar)
{
	return drmm_mutex_init(&bar->drm, &bar->lock);
}
"""


def _trees(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old", tmp_path / "new"
    files = {
        "drivers/gpu/drm/foo/foo.c": (OLD_FOO, NEW_FOO),
        # moved to a subdirectory in NEW: paired by its name
        ("drivers/gpu/drm/bar/bar.c", "drivers/gpu/drm/bar/core/bar.c"): (OLD_BAR, NEW_BAR),
        # outside the directories compared
        "drivers/video/baz.c": (OLD_BAR, NEW_BAR),
        # unchanged
        "drivers/accel/qux/qux.c": (OLD_BAR, OLD_BAR),
    }
    for rel, (a, b) in files.items():
        ra, rb = (rel, rel) if isinstance(rel, str) else rel
        for root, rp, text in ((old, ra, a), (new, rb, b)):
            (root / rp).parent.mkdir(parents=True, exist_ok=True)
            (root / rp).write_text(text)
    return old, new


def _line(text: str, needle: str) -> int:
    return next(i for i, x in enumerate(text.splitlines(), 1) if needle in x)


def test_extract_finds_each_kind(tmp_path: Path) -> None:
    old, new = _trees(tmp_path)
    sites = upstream.extract(old, new)
    got = {(s.kind, s.file, s.function, s.lines, s.removed, s.helper) for s in sites}
    foo = "drivers/gpu/drm/foo/foo.c"
    after = _line(OLD_FOO, "foo_remove")
    remove_cleanup = OLD_FOO.splitlines().index("\tdrm_mode_config_cleanup(&foo->drm);", after) + 1
    assert got == {
        ("drmm-mode-object", foo, "foo_crtc_create",
         (_line(OLD_FOO, "fc = kzalloc"), _line(OLD_FOO, "return drm_crtc_init_with_planes")),
         ("kzalloc", "drm_crtc_init_with_planes", ".destroy"), "drmm_crtc_alloc_with_planes"),
        ("drmm-alloc", foo, "foo_probe", (_line(OLD_FOO, "foo->lut = devm"),), ("devm_kzalloc",),
         "drmm_kzalloc"),
        ("drmm-mutex", foo, "foo_probe", (_line(OLD_FOO, "mutex_init"),), ("mutex_init",), "drmm_mutex_init"),
        ("drmm-mode-config", foo, "foo_probe", (_line(OLD_FOO, "drm_mode_config_init"),),
         ("drm_mode_config_init",), "drmm_mode_config_init"),
        ("drmm-mode-config", foo, "foo_probe", (_line(OLD_FOO, "\tdrm_mode_config_cleanup"),),
         ("drm_mode_config_cleanup",), ""),
        ("drmm-mode-config", foo, "foo_remove", (remove_cleanup,),
         ("drm_mode_config_cleanup",), ""),
        ("unplug", foo, "foo_remove", (_line(OLD_FOO, "drm_dev_unregister"),), ("drm_dev_unregister",),
         "drm_dev_unplug"),
        ("drmm-mutex", "drivers/gpu/drm/bar/bar.c", "bar_init", (3,), ("mutex_init",), "drmm_mutex_init"),
    }  # fmt: skip
    # the devm_kzalloc() whose size changed stays devm_; a renamed function is not paired
    assert not [s for s in sites if s.function == "foo_renamed_old"]
    moved = next(s for s in sites if s.function == "bar_init")
    assert moved.new_file == "drivers/gpu/drm/bar/core/bar.c"
    assert upstream.extract(old, new) == sites  # deterministic


WRAPPER_H = """\
int __must_check drmm_mode_config_init(struct drm_device *dev);

static inline int drm_mode_config_init(struct drm_device *dev)
{
	return drmm_mode_config_init(dev);
}
"""


def test_extract_skips_the_wrapper_rename_and_comments(tmp_path: Path) -> None:
    """Where OLD's drm_mode_config_init() wraps drmm_mode_config_init(), the rename is no
    site (the dropped manual cleanups still are); a call named in a dropped comment is none."""
    old, new = _trees(tmp_path)
    for root in (old, new):
        (root / "include/drm").mkdir(parents=True)
        (root / "include/drm/drm_mode_config.h").write_text(WRAPPER_H)
    commented = OLD_BAR.replace("{\n", "{\n\t/*\n\t * drm_mode_config_cleanup() frees it\n\t */\n", 1)
    (old / "drivers/gpu/drm/bar/bar.c").write_text(commented)
    sites = upstream.extract(old, new)
    kinds = [(s.kind, s.function, s.removed) for s in sites]
    assert ("drmm-mode-config", "foo_probe", ("drm_mode_config_init",)) not in kinds
    assert ("drmm-mode-config", "foo_remove", ("drm_mode_config_cleanup",)) in kinds
    assert [k for k in kinds if k[1] == "bar_init"] == [("drmm-mutex", "bar_init", ("mutex_init",))]


def test_score_recall_patched_and_same_fix(tmp_path: Path) -> None:
    old, new = _trees(tmp_path)
    sites = upstream.extract(old, new)
    foo = "drivers/gpu/drm/foo/foo.c"
    lut = _line(OLD_FOO, "foo->lut = devm")
    mutex = _line(OLD_FOO, "mutex_init")
    init = _line(OLD_FOO, "return drm_crtc_init_with_planes")
    same = (f"--- a/{foo}\n+++ b/{foo}\n@@ -{lut},1 +{lut},1 @@\n"
            "-\tfoo->lut = devm_kzalloc(&pdev->dev, 256, GFP_KERNEL);\n"
            "+\tfoo->lut = drmm_kzalloc(&foo->drm, 256, GFP_KERNEL);\n")  # fmt: skip
    other = (f"--- a/{foo}\n+++ b/{foo}\n@@ -{mutex},1 +{mutex},1 @@\n"
             "-\tmutex_init(&foo->lock);\n+\tmutex_init(&foo->lock); /* drmm_kzalloc( */\n")  # fmt: skip
    report = {
        "drivers": [{"name": "foo", "files": [foo]}],
        "findings": [
            {"rule": "devm-drm-memory", "file": foo, "function": "foo_probe", "line": lut, "patch": "p1"},
            {"rule": "unmanaged-mutex", "file": foo, "function": "foo_probe", "line": mutex, "patch": "p2"},
            # the statement of the init spans two lines: its second line counts
            {
                "rule": "unmanaged-mode-object",
                "file": foo,
                "function": "foo_crtc_create",
                "line": init + 1,
                "patch": None,
                "no_patch": "not yet",
            },
            # a finding of a rule of another kind at a site does not count
            {
                "rule": "unguarded-hw-access",
                "file": foo,
                "function": "foo_remove",
                "line": _line(OLD_FOO, "drm_dev_unregister"),
                "patch": None,
            },
        ],
        "patches": [{"id": "p1", "diff": same}, {"id": "p2", "diff": other}],
        "skipped": [],
    }
    scored = upstream.score(sites, report, old)
    outcomes = {(o.site.kind, o.site.function): o for o in scored}
    assert outcomes["drmm-alloc", "foo_probe"].same_fix
    mutex_o = outcomes["drmm-mutex", "foo_probe"]
    assert mutex_o.patched and not mutex_o.same_fix
    obj = outcomes["drmm-mode-object", "foo_crtc_create"]
    assert obj.found and not obj.patched and obj.note == "not yet"
    unplug = outcomes["unplug", "foo_remove"]
    assert not unplug.found and unplug.note.startswith("other findings in the function: unguarded-hw-access@")
    bar = outcomes["drmm-mutex", "bar_init"]
    assert bar.note.startswith("file not swept")
    rows = {r["kind"]: r for r in upstream.table(scored)}
    assert (rows["all"]["sites"], rows["all"]["found"], rows["all"]["patched"], rows["all"]["same_fix"]) == (
        8,
        3,
        2,
        1,
    )
    text = upstream.render(scored, old, new)
    assert "misses (5):" in text and "different fixes (1):" in text


def test_cli_json_with_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old, new = _trees(tmp_path)
    for root in (old, new):
        (root / "Makefile").write_text("VERSION = 6\n")
    rep = tmp_path / "r.json"
    rep.write_text(json.dumps({"findings": [], "patches": [], "drivers": [], "skipped": []}))
    assert upstream.main([str(old), str(new), "--report", str(rep), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["table"][-1] == {
        "kind": "all",
        "sites": 8,
        "found": 0,
        "patched": 0,
        "same_fix": 0,
        "recall": 0.0,
    }
    assert upstream.main([str(tmp_path), str(new), "--report", str(rep)]) == 2
