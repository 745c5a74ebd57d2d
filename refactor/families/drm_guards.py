"""drm-guards: drm_dev_enter()/drm_dev_exit() guards around the hardware access of every
hook of the driver (guardplan.py places them), and drm_dev_unplug() instead of
drm_dev_unregister() at removal (below), one commit per driver."""

from __future__ import annotations

import re

from refactor.classify import guards
from refactor.classify.facts import Facts
from refactor.classify.findings import Finding
from refactor.families import guardplan
from refactor.families.family import Family
from refactor.families.ops import Args, Op, Planning, Refusal


def plan_guards(p: Planning, facts: Facts, f: Finding) -> list[Op]:
    plan = guardplan.plan_hw if f.rule == "unguarded-hw-access" else plan_unplug
    return plan(p, facts, f)


def plan_unplug(p: Planning, facts: Facts, f: Finding) -> list[Op]:
    """drm_dev_unregister() becomes drm_dev_unplug(), before the function's
    drm_atomic_helper_shutdown() when that comes first; refused with guardplan.unplug_refusal(), or
    when the driver has no guard and its guard plan is refused."""
    a = guards.analyse(p.c, facts)
    if not p.c.api("drm_dev_unplug"):
        raise Refusal("the tree does not declare drm_dev_unplug()")
    p.call_at(f.file, f.line, ["drm_dev_unregister"])
    why = guardplan.unplug_refusal(a, f.file, f.line, f.function)
    if why:
        raise Refusal(why)
    if not a.guards_anywhere():
        plan = guardplan.guard_plan(p, facts, a)
        if isinstance(plan, str):
            # the finding is guards and unplug together: unplug alone would guard nothing
            raise Refusal(f"the driver has no guard and its guards are refused, so drm_dev_unplug() "
                          f"alone would guard nothing: {plan}")  # fmt: skip
    elif a.needs_guards():
        plan = guardplan.guard_plan(p, facts, a)
        if isinstance(plan, str):
            # the unplug and the guards of every hardware hook are one change (hibmc: its
            # debugfs and HPD guards would work, its KMS hooks would stay open)
            raise Refusal(f"the driver's other hardware hooks cannot be guarded, and an unplug that leaves "
                          f"them open is a partial guard set: {plan}")  # fmt: skip
    earlier = [x for x in a.shutdown.get((f.file, f.function), []) if x < f.line]
    if earlier:
        # upstream's order: unplug first, so no commit starts while the pipeline is shut down
        return [p.op("unplug-first", f.file, f.line, Args(shutdown=p.code(f.file, earlier[-1])))]
    if _needs_shutdown(p, a, f.function):
        return [p.op("unplug-shutdown", f.file, f.line)]
    return [p.op("unplug", f.file, f.line)]


def _needs_shutdown(p: Planning, a: guards.Analysis, function: str) -> bool:
    """Whether the removal function of an atomic KMS driver (it has CRTC or pipe hooks and
    calls drm_atomic_helper_shutdown() elsewhere, or says DRIVER_ATOMIC) quiesces nothing:
    no drm_atomic_helper_shutdown() in it or in what it calls, two levels deep.  Then the
    pipeline would keep scanning out of buffers freed after the unplug (sprd's unbind)."""
    # (drm_atomic_helper_shutdown() is in every tree the tool supports; the model's API
    # index holds only the drmm_/drm_dev_ helpers)
    kms = a.kms()
    atomic = bool(a.shutdown) or any(b"DRIVER_ATOMIC" in body.src for body in a.bodies.values())
    if not kms or not atomic:
        return False
    seen, todo = {function}, [(function, 2)]
    while todo:
        name, depth = todo.pop()
        body = a.bodies.get(name)
        if body is None:
            continue
        if (body.file, name) in a.shutdown:
            return False
        for _, callee in body.calls if depth else ():
            if callee not in seen:
                seen.add(callee)
                todo.append((callee, depth - 1))
    return True


FAMILY = Family(
    "drm-guards",
    rules=("unguarded-hw-access", "unregister-without-unplug"),
    subjects=(
        "Guard hardware access from DRM callbacks with drm_dev_enter()",
        "Guard hardware access with drm_dev_enter()",
        "Use drm_dev_enter() guards",
    ),
    cover="drm: Guard hardware access from DRM callbacks with drm_dev_enter()",
    summary=(
        "guards the hardware access of DRM callbacks with drm_dev_enter() and drm_dev_exit(), "
        "which fail once drm_dev_unplug() has run on removal (called instead of "
        "drm_dev_unregister() where the driver only unregisters)"
    ),
    template="families/drm-guards.txt.j2",
    plan=plan_guards,
    headers={
        "drm/drm_atomic_helper.h": re.compile(r"\bdrm_atomic_helper_shutdown\("),
        "drm/drm_drv.h": re.compile(r"\bdrm_dev_(enter|exit|unplug|unregister|register)\("),
    },
)
