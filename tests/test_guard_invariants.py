"""The guard family's semantic invariants, on patches built from before/after texts: for
each invariant, a patch that breaks it is caught and the good patch passes."""

from __future__ import annotations

from pathlib import Path

from refactor.invariants.checks import Change, check
from refactor.invariants.guard_invariants import (
    GUARD_CHECKS,
    event_not_delivered,
    guard_skips_acquire,
    guarded_release_path,
    partial_guard_coverage,
    unplug_unsafe_teardown,
)

DIR = "drivers/gpu/drm/inv"
FILE = f"{DIR}/inv.c"

HEAD = """#include <drm/drm_drv.h>

struct inv_device {
	struct drm_device drm;
	void __iomem *mmio;
	struct clk *clk;
};

"""

ENABLE = """static void inv_enable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct inv_device *inv = to_inv(crtc->dev);
%s}

"""

DISABLE = """static void inv_disable(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct inv_device *inv = to_inv(crtc->dev);

	writel(0, inv->mmio);
	clk_disable_unprepare(inv->clk);
}

"""

TABLE = """static const struct drm_crtc_helper_funcs inv_helper_funcs = {
	.atomic_enable = inv_enable,
	.atomic_disable = inv_disable,
%s};
"""


def _change(tmp_path: Path, before: str, after: str, family: str = "drm-guards") -> Change:
    (tmp_path / DIR).mkdir(parents=True, exist_ok=True)
    (tmp_path / FILE).write_text(after)
    return Change("p1", "inv", family, (FILE,), {FILE: before}, {FILE: after}, (DIR,), tmp_path)


def _driver(enable: str, extra: str = "", hooks: str = "") -> str:
    return HEAD + ENABLE % enable + DISABLE + extra + TABLE % hooks


UNGUARDED = "\n\tclk_prepare_enable(inv->clk);\n\twritel(1, inv->mmio);\n"
WHOLE = (
    "\tint idx;\n\n\tif (!drm_dev_enter(&inv->drm, &idx))\n\t\treturn;\n"
    "\tclk_prepare_enable(inv->clk);\n\twritel(1, inv->mmio);\n\tdrm_dev_exit(idx);\n"
)
SPAN = (
    "\tint idx;\n\n\tclk_prepare_enable(inv->clk);\n\tif (drm_dev_enter(&inv->drm, &idx)) {\n"
    "\t\twritel(1, inv->mmio);\n\t\tdrm_dev_exit(idx);\n\t}\n"
)


def test_guard_skipping_an_acquire_is_caught(tmp_path: Path) -> None:
    bad = _change(tmp_path, _driver(UNGUARDED), _driver(WHOLE))
    [v] = guard_skips_acquire(bad)
    assert (v.invariant, v.line) == ("guard-skips-acquire", 16)
    assert v.reason == (
        "inv_enable() skips clk_prepare_enable() when drm_dev_enter() fails, but "
        "clk_disable_unprepare() in inv_disable() still runs unguarded"
    )
    assert guard_skips_acquire(_change(tmp_path, _driver(UNGUARDED), _driver(SPAN))) == []


def test_acquire_and_release_skipped_together_pass(tmp_path: Path) -> None:
    pair = (
        "\tint idx;\n\n\tif (!drm_dev_enter(&inv->drm, &idx))\n\t\treturn;\n"
        "\tclk_prepare_enable(inv->clk);\n"
        "\twritel(1, inv->mmio);\n\tclk_disable_unprepare(inv->clk);\n\tdrm_dev_exit(idx);\n"
    )
    assert guard_skips_acquire(_change(tmp_path, _driver(UNGUARDED), _driver(pair))) == []


POSTCLOSE = """static void inv_postclose(struct drm_device *drm, struct drm_file *file)
{
%s	kfree(file->driver_priv);
}

static const struct drm_driver inv_driver = {
	.postclose = inv_postclose,
};

"""


def test_guarded_release_path_is_caught(tmp_path: Path) -> None:
    plain = POSTCLOSE % ""
    guarded = POSTCLOSE % "\tint idx;\n\n\tif (!drm_dev_enter(drm, &idx))\n\t\treturn;\n"
    bad = _change(tmp_path, _driver(UNGUARDED, plain), _driver(SPAN, guarded))
    [v] = guarded_release_path(bad)
    assert v.invariant == "guarded-release-path"
    assert v.reason == (
        "inv_postclose() (.postclose) is a release path, which must free unconditionally: "
        "it must not be guarded"
    )
    assert guarded_release_path(_change(tmp_path, _driver(UNGUARDED, plain), _driver(SPAN, plain))) == []


FLUSH = """static void inv_flush(struct drm_crtc *crtc, struct drm_atomic_state *state)
{
	struct inv_device *inv = to_inv(crtc->dev);
	int idx;

%s	writel(1, inv->mmio);
	if (crtc->state->event) {
		drm_crtc_arm_vblank_event(crtc, crtc->state->event);
		crtc->state->event = NULL;
	}
	drm_dev_exit(idx);
}

"""
SKIP = "\tif (!drm_dev_enter(crtc->dev, &idx))\n\t\treturn;\n"
SEND = (
    "\tif (!drm_dev_enter(crtc->dev, &idx)) {\n\t\tif (crtc->state->event) {\n"
    "\t\t\tspin_lock_irq(&crtc->dev->event_lock);\n"
    "\t\t\tdrm_crtc_send_vblank_event(crtc, crtc->state->event);\n"
    "\t\t\tcrtc->state->event = NULL;\n\t\t\tspin_unlock_irq(&crtc->dev->event_lock);\n\t\t}\n"
    "\t\treturn;\n\t}\n"
)


def test_event_not_delivered_is_caught(tmp_path: Path) -> None:
    before = _driver(UNGUARDED, FLUSH % "", "\t.atomic_flush = inv_flush,\n")
    bad = _driver(SPAN, FLUSH % SKIP, "\t.atomic_flush = inv_flush,\n")
    [v] = event_not_delivered(_change(tmp_path, before, bad))
    assert v.invariant == "event-not-delivered"
    assert v.reason.startswith("inv_flush() skips drm_crtc_arm_vblank_event() when drm_dev_enter() fails")
    good = _driver(SPAN, FLUSH % SEND, "\t.atomic_flush = inv_flush,\n")
    assert event_not_delivered(_change(tmp_path, before, good)) == []


REMOVE = """static void inv_remove(struct platform_device *pdev)
{
	struct inv_device *inv = platform_get_drvdata(pdev);

	%s(&inv->drm);
	drm_atomic_helper_shutdown(&inv->drm);
%s}
"""


def test_unplug_with_unsafe_teardown_is_caught(tmp_path: Path) -> None:
    unsafe = "\tinv->drm.dev_private = NULL;\n"
    old, new = HEAD + REMOVE % ("drm_dev_unregister", unsafe), HEAD + REMOVE % ("drm_dev_unplug", unsafe)
    bad = _change(tmp_path, old, new)
    [v] = unplug_unsafe_teardown(bad)
    assert (v.invariant, v.line) == ("unplug-unsafe-teardown", 13)
    assert v.reason == (
        "drm_dev_unplug() in inv_remove() while inv_remove() still does dev_private = NULL: "
        "open files reach what the teardown frees"
    )
    old, new = HEAD + REMOVE % ("drm_dev_unregister", ""), HEAD + REMOVE % ("drm_dev_unplug", "")
    good = _change(tmp_path, old, new)
    assert unplug_unsafe_teardown(good) == []


UPDATE = """static void inv_update(struct drm_plane *plane, struct drm_atomic_state *state)
{
	struct inv_device *inv = to_inv(plane->dev);
%s
	writel(plane->state->src_x, inv->mmio);
%s}

static const struct drm_plane_helper_funcs inv_plane_funcs = {
	.atomic_update = inv_update,
};

"""


def test_hardware_hook_left_unguarded_is_caught(tmp_path: Path) -> None:
    before = _driver(UNGUARDED, UPDATE % ("", ""))
    bad = _change(tmp_path, before, _driver(SPAN, UPDATE % ("", "")))
    [v] = partial_guard_coverage(bad)
    assert v.invariant == "partial-guard-coverage"
    assert v.reason == (
        "inv_update() (.atomic_update) reaches writel() unguarded while the patch guards "
        "inv_enable(): a partial guard set is not a fix"
    )
    enter = "\tint idx;\n\n\tif (!drm_dev_enter(plane->dev, &idx))\n\t\treturn;"
    guarded = UPDATE % (enter, "\tdrm_dev_exit(idx);\n")
    assert partial_guard_coverage(_change(tmp_path, before, _driver(SPAN, guarded))) == []


def test_the_good_patch_passes_every_check(tmp_path: Path) -> None:
    before = _driver(UNGUARDED, FLUSH % "" + POSTCLOSE % "", "\t.atomic_flush = inv_flush,\n")
    after = _driver(SPAN, FLUSH % SEND + POSTCLOSE % "", "\t.atomic_flush = inv_flush,\n")
    assert check(_change(tmp_path, before, after), GUARD_CHECKS) == []


def test_other_families_are_not_judged_as_guards(tmp_path: Path) -> None:
    change = _change(tmp_path, _driver(UNGUARDED), _driver(WHOLE), family="drmm-alloc")
    assert guard_skips_acquire(change) == [] and partial_guard_coverage(change) == []


def test_the_corpus_guard_patch_passes_every_check(tmp_path: Path) -> None:
    """guarddisp's golden guard patch (the generator's output) keeps every invariant."""
    repo = Path(__file__).resolve().parent.parent
    rel = "drivers/gpu/drm/guarddisp"
    files = sorted(p.name for p in (repo / "corpus/tree" / rel).iterdir() if p.suffix in (".c", ".h"))
    before, after = {}, {}
    (tmp_path / rel).mkdir(parents=True)
    for name in files:
        f = f"{rel}/{name}"
        before[f] = (repo / "corpus/tree" / f).read_text()
        golden = repo / "corpus/golden" / rel / name.replace(".c", ".res")
        after[f] = golden.read_text() if name.endswith(".c") and golden.is_file() else before[f]
        (tmp_path / f).write_text(after[f])
    touched = tuple(f for f in files if before[f"{rel}/{f}"] != after[f"{rel}/{f}"])
    change = Change("g", "guarddisp", "drm-guards", tuple(f"{rel}/{f}" for f in touched), before, after,
                    (rel,), tmp_path)  # fmt: skip
    assert len(change.files) == 2
    assert check(change, GUARD_CHECKS) == []
