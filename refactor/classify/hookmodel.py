"""The vocabulary of the guard family's per-driver view: what a DRM hook is for, which
calls are refcounted bookkeeping, which deliver the pending event, and what a removal path
may not free once it calls drm_dev_unplug().

Shared by the analysis (guards.py), the placement of the guards (guardplan.py) and the
semantic checks of a guard patch (guard_invariants.py); it imports none of them.

Roles of a hook (the field of an ops table a function fills):

- release: runs when userspace lets go of an object or a file (`.destroy`, `postclose`,
  `free_object`, ...).  It must free unconditionally, after unplug too: never guarded.
- state: software state handling (`reset`, `atomic_duplicate_state`, properties).
- pure: computation on a mode or a state (`mode_valid`, `mode_fixup`, `atomic_check`);
  a clock rate query on a clk handle is not a register access.  `atomic_check` counts as
  hardware only when it reaches a register access.
- disable: what drm_atomic_helper_shutdown() runs to quiesce the hardware.  Upstream
  removes with `drm_dev_unplug(); drm_atomic_helper_shutdown();`, so a guard there would
  leave the hardware running: never guarded.
- hardware: every other hook that reaches a register access (enable, mode_set, plane
  update, begin/flush, enable_vblank, connector probing, ioctls, ...): the driver's guard
  set must cover all of them.
"""

from __future__ import annotations

import re

RELEASE = frozenset({"destroy", "release", "postclose", "preclose", "free_object", "gem_free_object",
                     "gem_free_object_unlocked", "atomic_destroy_state", "early_unregister",
                     "destroy_state"})  # fmt: skip
# (a bridge's attach and detach link it into the pipeline while the drm device is set up
# and torn down: no file can race them)
STATE = frozenset({"reset", "atomic_reset", "atomic_duplicate_state", "atomic_print_state",
                   "atomic_get_property", "atomic_set_property", "format_mod_supported",
                   "late_register", "atomic_create_state", "duplicate_state", "attach",
                   "detach"})  # fmt: skip
PURE = frozenset({"mode_valid", "mode_fixup", "atomic_check", "atomic_mode_valid", "fb_create",
                  "get_format_info", "atomic_get_input_bus_fmts", "atomic_get_output_bus_fmts"})  # fmt: skip
# pure hooks that become hardware hooks when they reach a register access
PURE_UNLESS_REGISTERS = frozenset({"atomic_check"})
DISABLE = frozenset({"atomic_disable", "disable", "atomic_post_disable", "post_disable",
                     "disable_vblank", "disable_plane"})  # fmt: skip

# the tables of mode objects (and of the bridges their encoders chain): once removal has
# run drm_mode_config_cleanup(), no file can reach these hooks any more
OBJECT_TABLES = frozenset({"crtc", "crtc-helper", "plane", "plane-helper", "encoder", "encoder-helper",
                           "connector", "connector-helper", "pipe", "bridge"})  # fmt: skip

# Refcounted acquire/release: a guard must never skip one side while the other side runs.
ACQUIRE_RELEASE = {
    "clk_prepare_enable": "clk_disable_unprepare", "clk_prepare": "clk_unprepare",
    "clk_enable": "clk_disable", "clk_bulk_prepare_enable": "clk_bulk_disable_unprepare",
    "clk_bulk_prepare": "clk_bulk_unprepare", "clk_bulk_enable": "clk_bulk_disable",
    "pm_runtime_get": "pm_runtime_put", "pm_runtime_get_sync": "pm_runtime_put",
    "pm_runtime_resume_and_get": "pm_runtime_put", "pm_runtime_get_noresume": "pm_runtime_put_noidle",
    "drm_crtc_vblank_on": "drm_crtc_vblank_off", "drm_crtc_vblank_get": "drm_crtc_vblank_put",
    "regulator_enable": "regulator_disable", "regulator_bulk_enable": "regulator_bulk_disable",
    "enable_irq": "disable_irq", "phy_power_on": "phy_power_off", "phy_init": "phy_exit",
}  # fmt: skip
BOOKKEEPING = re.compile(
    r"^(clk_(bulk_)?(prepare_enable|disable_unprepare|prepare|unprepare|enable|disable)|"
    r"pm_runtime_(get|put|resume_and_get)\w*|drm_crtc_vblank_(on|off|get|put)|drm_vblank_(get|put)|"
    r"regulator_(bulk_)?(enable|disable)|enable_irq|disable_irq(_nosync)?|"
    r"phy_(power_on|power_off|init|exit))$"
)
# the release name family of a bookkeeping call (pm_runtime_put_sync and _autosuspend count)
_FAMILY = re.compile(r"^(pm_runtime_put|pm_runtime_get|pm_runtime_resume_and_get)\w*$")

# the calls that deliver or arm the commit's pending event
EVENT = frozenset({"drm_crtc_send_vblank_event", "drm_crtc_arm_vblank_event"})

# what a removal path frees while userspace may still hold the drm device open
UNSAFE_TEARDOWN = re.compile(r"\bdrm_mode_config_cleanup\s*\(|(->|\.)\s*dev_private\s*=\s*NULL\b")
# a removal path that gates clocks, powers off or frees IRQs before the shutdown commit
EARLY_TEARDOWN = re.compile(
    r"^(clk_(bulk_)?(disable_unprepare|disable|unprepare)|free_irq|devm_free_irq|disable_irq|"
    r"drm_irq_uninstall|regulator_(bulk_)?disable|pm_runtime_disable|pm_runtime_put\w*)$"
)


def role(hook: str, table: str) -> str:
    """The role of a hook (see the module docstring); ioctls are hardware hooks."""
    if table == "ioctl":
        return "hardware"
    if hook in RELEASE:
        return "release"
    if hook in STATE:
        return "state"
    if hook in PURE:
        return "pure"
    if hook in DISABLE:
        return "disable"
    return "hardware"


def counterpart(call: str) -> str:
    """The other side of a refcounted acquire or release ("" when it is not one)."""
    for acquire, release in ACQUIRE_RELEASE.items():
        if call == acquire:
            return release
        if call == release:
            return acquire
    m = _FAMILY.match(call)
    if m:
        return "pm_runtime_get" if "put" in m.group(1) else "pm_runtime_put"
    return ""


def is_release(call: str) -> bool:
    """Whether a bookkeeping call drops a count (rather than takes one)."""
    return (call in ACQUIRE_RELEASE.values() or call.startswith("pm_runtime_put")
            or call == "disable_irq_nosync")  # fmt: skip


def same_family(a: str, b: str) -> bool:
    """Whether two bookkeeping calls are the same operation (pm_runtime_put_sync and
    pm_runtime_put are one release)."""
    norm = [("pm_runtime_put" if x.startswith("pm_runtime_put") else
             "pm_runtime_get" if x.startswith(("pm_runtime_get", "pm_runtime_resume_and_get")) else x)
            for x in (a, b)]  # fmt: skip
    return norm[0] == norm[1]
