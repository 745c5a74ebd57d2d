"""drmm-mode-config: drop the manual drm_mode_config_cleanup() calls of a driver whose
mode config is drm-managed, every one in one patch or none; `cleanup_removal()` is also
what a drmm-alloc patch uses when its drmm_ inits forbid the .destroy hooks those calls
need."""

from __future__ import annotations

from collections.abc import Sequence

from refactor.classify import lifetime
from refactor.classify.findings import Finding
from refactor.csrc import cindex
from refactor.families.family import Family
from refactor.families.ops import Op, Plan, Planning, Refusal, Refused
from refactor.model.tree import Driver

# drmm_ inits of mode objects: their cleanup is registered when they run
DRMM_OBJECT_INITS = (
    "drmm_crtc_alloc_with_planes",
    "drmm_crtc_init_with_planes",
    "drmm_universal_plane_alloc",
    "drmm_encoder_alloc",
    "drmm_simple_encoder_alloc",
    "drmm_encoder_init",
    "drmm_connector_init",
    "drmm_writeback_connector_init",
    "drmm_connector_hdmi_init",
)


def cleanup_removal(p: Planning, driver: Driver, kind: str, converted: set[tuple[str, str]]) -> list[Op]:
    """The ops that drop every manual drm_mode_config_cleanup() of the driver (error and
    removal paths), after proving that it is safe: the mode config is managed, every
    mode object of the driver's directories lives in drm-lifetime memory without a
    `.destroy` that does more than clean up (or is among `converted`, (file, code) of
    the init calls the same commit converts), and the managed mode config is set up
    before the drmm_ object inits (so that the release, last in first out, finds the
    objects already gone)."""
    if not p.c.api("drmm_mode_config_init"):
        raise Refusal("the tree does not declare drmm_mode_config_init()")
    if not p.managed_mode_config and p.c.calls(driver, "drm_mode_config_init"):
        raise Refusal("drm_mode_config_init() does not wrap drmm_mode_config_init() in this tree, "
                      "so the cleanup belongs to the driver")  # fmt: skip
    m = p.c.lifetime(driver)
    for obj in m.mode_objects:
        if (obj.site.file, p.code(obj.site.file, obj.site.line)) in converted:
            continue
        why = m.blocker(obj)
        if why:
            raise Refusal(f"{why}: make it drm-lifetime (drmm_*_alloc(), or drmm_kzalloc() and a "
                          "drmm_ init) first")  # fmt: skip
    managed_first(p, driver, m)
    ops = []
    mine = set(driver.module.files)
    for c in m.cleanups:
        if c.path == "release":
            continue
        if c.site.file not in mine:
            raise Refusal(f"{c.site.file} (another module of this driver) also calls "
                          "drm_mode_config_cleanup() by hand: convert both together by hand")  # fmt: skip
        fn = p.function(c.site.file, c.site.line)
        stmt = fn.statement_at(c.site.line)
        labeled = stmt is not None and stmt.parent is not None and stmt.parent.type == "labeled_statement"
        if stmt is None or stmt.type != "expression_statement" or (
                labeled and stmt.parent.next_named_sibling is None):  # type: ignore[union-attr]  # fmt: skip
            raise Refusal(f"the drm_mode_config_cleanup() at {c.site.file}:{c.site.line} is not a "
                          "statement the patch can drop: remove it by hand")  # fmt: skip
        ops.append(p.op(kind, c.site.file, c.site.line))
    return ops


def managed_first(p: Planning, driver: Driver, m: lifetime.Module,
                  converted: Sequence[tuple[str, cindex.Call]] = ()) -> None:  # fmt: skip
    """Refuse when a drmm_ mode-object init (or one of the `converted` inits, which
    become drmm_ ones) runs before the mode config is set up in the same function (or in
    a function it calls before that)."""
    inits = m.calls(["drm_mode_config_init", "drmm_mode_config_init"])
    managed = [*m.calls(DRMM_OBJECT_INITS), *converted]
    for rel, init in inits:
        called = p.c.called_in_module(driver, init.function) or set()
        for orel, obj in managed:
            early = orel == rel and obj.function == init.function and obj.line < init.line
            if not early and obj.function in called and obj.function != init.function:
                early = any(c.line < init.line for c in p.c.file_calls(rel, (obj.function,))
                            if c.function == init.function)  # fmt: skip
            if early:
                raise Refusal(f"{obj.name}() at {orel}:{obj.line} runs before {init.name}() at "
                              f"{rel}:{init.line}: the release would clean the mode config up "
                              "first")  # fmt: skip


def plan_mode_config(p: Planning, driver: Driver, findings: Sequence[Finding]) -> Plan:
    """Every manual drm_mode_config_cleanup() of the driver goes in one patch, or none."""
    ids = tuple(f.id for f in findings)
    try:
        ops = cleanup_removal(p, driver, "mode-config-cleanup", set())
    except Refusal as refusal:
        return Plan(driver.name, "drmm-mode-config", (), (), (), tuple(Refused(i, str(refusal)) for i in ids))
    wanted = {(o.file, o.code) for o in ops}
    stray = [f for f in findings if (f.file, p.code(f.file, f.line)) not in wanted]
    stray_why = "the tool found no manual cleanup to drop at this line"
    refused = tuple(Refused(f.id, stray_why) for f in stray)
    fixed = tuple(i for i in ids if i not in {r.finding for r in refused})
    return Plan(driver.name, "drmm-mode-config", ("unmanaged-mode-config",) if fixed else (), fixed,
                tuple(ops) if fixed else (), refused)  # fmt: skip


FAMILY = Family(
    "drmm-mode-config",
    rules=("unmanaged-mode-config",),
    subjects=("Drop the manual drm_mode_config_cleanup()", "Drop manual mode config cleanup"),
    cover="drm: Drop manual drm_mode_config_cleanup() calls",
    summary=(
        "drops the manual drm_mode_config_cleanup() that tears the mode objects down before "
        "the drm_device is released"
    ),
    template="families/drmm-mode-config.txt.j2",
    plan_driver=plan_mode_config,
)
