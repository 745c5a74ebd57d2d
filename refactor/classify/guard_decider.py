"""The deciders of the guard family: whether a DRM callback that reaches devm_ hardware
outside drm_dev_enter() (`unguarded-hw-access`), or a removal that calls only
drm_dev_unregister() (`unregister-without-unplug`), is a finding, with its message and fix.

The reasoning is the module-wide guard analysis (`guards.analyse()`); the plans that fix
these findings are `families/guardplan.py`.
"""

from __future__ import annotations

from typing import Protocol

from refactor.classify import hookmodel
from refactor.classify.guards import DriverFacts, Sources, analyse


class DeciderSources(Sources, Protocol):
    """The parse cache as the deciders use it: the analysis' sources and the tree's API."""

    def api(self, name: str) -> bool: ...


def hw_verdict(c: DeciderSources, facts: DriverFacts, fn: str) -> tuple[str, str, str, int] | None:
    """(message, fix, file, line) of the finding of the hardware hook `fn`, None when it
    is not one (release, disable, state and pure hooks are never guarded) or reaches no
    register unguarded."""
    a = analyse(c, facts)
    hook = next((h for h in a.hooks() if h.function == fn), None)
    body = a.bodies.get(fn)
    if hook is None or hook.role != "hardware" or hook.reach is None or body is None:
        return None
    if not a.outlives_unbind(hook):
        return None  # removal destroys the object first: its hooks are unreachable after unbind
    e, r = hook.entry, hook.reach
    where = "ioctl " + e.hook if e.table == "ioctl" else f"{e.table} .{e.hook}"
    via = f" through {'() -> '.join(r.chain[:-1])}()" if len(r.chain) > 1 else ""
    if a.unplugs():
        # no new ioctl or commit starts after drm_dev_unplug(): only one already running can
        # outlast it, while removal releases the hardware
        what = ("a call already in flight when removal runs drm_dev_unplug() goes on to touch "
                "devm_ hardware that removal then releases or powers off")  # fmt: skip
    else:
        what = "after unbind the callback touches devm_ hardware that is released or powered off"
    message = (f"the {where} callback reaches {r.chain[-1]}{via} outside drm_dev_enter()/"
               f"drm_dev_exit(): {what}")  # fmt: skip
    order = " before drm_atomic_helper_shutdown()" if a.kms() else ""
    fix = ("guard the register accesses of every hardware hook of the driver with drm_dev_enter()/"
           "drm_dev_exit() (not the clock, runtime PM or vblank bookkeeping; the pending event still "
           f"delivered), and remove with drm_dev_unplug(){order}"
           if c.api("drm_dev_enter") else "none: the tree does not declare drm_dev_enter()")  # fmt: skip
    return message, fix, body.file, r.line


def commit_hooks(c: DeciderSources, facts: DriverFacts) -> set[str]:
    """The mode objects' hooks (release hooks excepted) of a driver whose removal runs
    drm_dev_unplug() and then drm_atomic_helper_shutdown(): no commit starts after the
    unplug, and the shutdown commit waits for the one in flight, so none of them runs once
    removal returns and devres is released.  Empty for other drivers.  Ioctls are not among
    them: one already running at unplug is waited for by nothing but drm_dev_enter()."""
    a = analyse(c, facts)
    tables = c.lifetime(facts.driver).tables
    if not a.unplugs() or not any(fn in a.removal() and "shutdown" not in tables.get(fn, set())
                                  for _, fn in a.shutdown):  # fmt: skip
        return set()
    kms = hookmodel.OBJECT_TABLES | {"mode-config", "mode-config-helper"}
    return {h.function for h in a.hooks() if h.role != "release" and h.entry.table in kms}


def unplug_verdict(
    c: DeciderSources, facts: DriverFacts, file: str, line: int, function: str
) -> tuple[str, str] | None:
    """(message, fix) for a drm_dev_unregister() at `file:line` when the driver has guards
    or callbacks that need them, None otherwise."""
    a = analyse(c, facts)
    if function not in a.removal():
        return None
    guarded = a.guards_anywhere()
    # the hooks of mode objects that removal destroys first need no guard
    needing = [h for h in a.needs_guards() if a.outlives_unbind(h)]
    if not guarded and not needing:
        return None
    if guarded:
        message = ("the driver guards hardware with drm_dev_enter(), but removal calls only "
                   "drm_dev_unregister(): drm_dev_enter() never fails after unbind, so the guards "
                   "do not stop anything")  # fmt: skip
    else:  # no guard yet: say what is missing, not that guards fail
        message = (f"{len(needing)} DRM callback(s) touch hardware after unbind, but removal calls "
                   "only drm_dev_unregister(): with it, drm_dev_enter() guards in them would never "
                   "fail")  # fmt: skip
    # (a platform .shutdown hook's drm_atomic_helper_shutdown() is not the removal's)
    tables = c.lifetime(facts.driver).tables
    shuts = any(fn in a.removal() and "shutdown" not in tables.get(fn, set()) for _, fn in a.shutdown)
    then = (("use drm_dev_unplug(), then drm_atomic_helper_shutdown()" if shuts else
             "use drm_dev_unplug(), and add drm_atomic_helper_shutdown() after it (removal has none)")
            + " (upstream's order: no new commit starts, and the unguarded disable hooks still "
            "quiesce the hardware)" if a.kms() else
            "use drm_dev_unplug() (no new ioctl reaches the hardware once it returns)")  # fmt: skip
    fix = then if c.api("drm_dev_unplug") else "none: the tree does not declare drm_dev_unplug()"
    return message, fix
