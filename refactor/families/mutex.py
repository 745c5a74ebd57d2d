"""drmm-mutex: drmm_mutex_init() for a mutex in drm-lifetime data that is never destroyed,
or destroyed by devres at unbind; the other locks of the same struct change with it and
their mutex_destroy() calls go.  Refused where drm lifetime is wrong for the lock."""

from __future__ import annotations

from collections.abc import Sequence

from refactor.classify import lifetime
from refactor.classify.facts import Facts
from refactor.classify.findings import Finding
from refactor.csrc.structs import member_of
from refactor.families import void_int
from refactor.families.alloc import MANAGED_H
from refactor.families.family import Family
from refactor.families.ops import Args, Elsewhere, Op, Planning, Refusal, norm
from refactor.model.tree import Driver


def plan_mutex(p: Planning, facts: Facts, f: Finding) -> list[Op]:
    """drmm_mutex_init() for the lock and, in the same patch, every other mutex_init()
    lock of the same struct, whose mutex_destroy() calls go: the locks of one object
    change lifetime together.  Refused where drm lifetime is wrong for the lock."""
    if not p.c.api("drmm_mutex_init"):
        raise Refusal("the tree does not declare drmm_mutex_init()")
    m = p.c.lifetime(facts.driver)
    lock = next((x for x in m.locks if (x.site.file, x.site.line) == (f.file, f.line)), None)
    if lock is None:
        raise Refusal(f"no mutex_init() at {f.file}:{f.line}")
    _mutex_lifetime(p, facts.driver, m, lock)
    ops = _mutex_ops(p, facts, f.file, f.line)
    mine = set(facts.driver.module.files)
    for other in m.locks:
        if other is lock or not lock.struct or other.struct != lock.struct or other.call != "mutex_init":
            continue
        if other.site.file not in mine:
            raise Refusal(f"{other.lock} of the same {lock.struct} is set up in another module "
                          f"({other.site.file}:{other.site.line}): convert the locks together "
                          f"by hand")  # fmt: skip
        try:
            ops += [o for o in _mutex_ops(p, facts, other.site.file, other.site.line) if o not in ops]
            ops += _destroy_ops(p, m, other)
        except Refusal as refusal:
            raise Refusal(f"{other.lock} of the same {lock.struct} "
                          f"({other.site.file}:{other.site.line}) must "
                          f"change with it, but {refusal}") from None  # fmt: skip
    return ops


def _mutex_lifetime(p: Planning, driver: Driver, m: lifetime.Module, lock: lifetime.Lock) -> None:
    """Pass the lock on to mutex-destroy (`Elsewhere`) where its memory does not live as
    long as the drm_device, or where the driver's own convention is to destroy locks at
    release; the reason stands when that family cannot fix it either."""
    why = destroy_instead(p, m, lock)
    if why:
        raise Elsewhere(why)


def destroy_instead(p: Planning, m: lifetime.Module, lock: lifetime.Lock) -> str:
    """Why the lock wants mutex_destroy() rather than drmm_mutex_init(), "" when it does
    not: its struct is freed by hand, is kmalloc'd memory, or the driver destroys its
    locks in its drm release hook."""
    _, base = m.base(lock.site.file, lock.site.line, lock.lock)
    for site, arg, struct in m.frees:
        if struct and struct in (lock.struct, base):
            name = site.code.split("(")[0]
            return (f"{struct} is freed by hand ({name}({arg}) in {site.function}(), {site.file}:"
                    f"{site.line}): a drmm_mutex_init() release action would run on freed memory at "
                    "the final drm_dev_put(); destroy the lock with mutex_destroy() before that free "
                    "instead")  # fmt: skip
    memory = m.memory_of(base) if base else "unknown"
    if memory == "kmalloc":
        return (f"{base} is kmalloc'd memory the driver frees itself, not drm-lifetime memory: "
                "destroy the lock with mutex_destroy() where it is freed")  # fmt: skip
    hook = release_hook(m)
    if hook and m.calls(["mutex_destroy"]):
        return (f"the driver tears its software state down at drm release itself ({hook}(), its "
                "drm_driver.release hook) and destroys its locks with mutex_destroy(): destroy "
                f"{lock.lock} there too, as the driver does, rather than with "
                "drmm_mutex_init()")  # fmt: skip
    return ""


def release_hook(m: lifetime.Module) -> str:
    """The `.release` hook of the driver's struct drm_driver, "" when it has none."""
    return m.drm_release_hook()


def _destroy_ops(p: Planning, m: lifetime.Module, lock: lifetime.Lock) -> list[Op]:
    """Drop the mutex_destroy() calls of a lock that becomes drm-managed."""
    _, member = member_of(lock.lock)
    ops = []
    for rel, call in m.calls(["mutex_destroy"]):
        arg = call.args[0].lstrip("&").strip() if call.args else ""
        container, mem = member_of(arg)
        if mem != member or (container and m.struct_of(rel, call.line, container) != lock.struct):
            continue
        fn = p.function(rel, call.line)
        stmt = fn.statement_at(call.line)
        if stmt is None or stmt.type != "expression_statement":
            raise Refusal(f"its mutex_destroy() at {rel}:{call.line} is not a statement the patch can drop")
        ops.append(p.op("mutex-destroy", rel, call.line))
    return ops


def _mutex_ops(p: Planning, facts: Facts, file: str, line: int) -> list[Op]:
    call = p.call_at(file, line, ["mutex_init", "devm_mutex_init"])
    fn = p.function(file, line)
    drm = p.drm_at(facts, file, line, device=call.args[0] if call.name == "devm_mutex_init" else "")
    stmt = fn.statement_at(line)
    text = "" if stmt is None else norm(fn.src[stmt.start_byte : stmt.end_byte].decode(errors="replace"))
    bare = stmt is not None and stmt.type == "expression_statement" and text.startswith(call.name + "(")
    if call.name == "devm_mutex_init" and not bare:
        return [p.op("devm-mutex", file, line, Args(drm=drm))]
    if not bare:
        raise Refusal("the mutex_init() is not a statement of its own")
    if fn.returns == "void":  # made to return int, its callers checking it
        var, exit_, declare = void_int.propagate(p, facts, file, line)
    else:
        var, exit_, declare = p.error_handling(file, line)
    kind = "mutex" if call.name == "mutex_init" else "devm-mutex-checked"
    return [p.op(kind, file, line, Args(drm=drm, var=var, exit=exit_)), *declare]


def _what(rules: Sequence[str], findings: int) -> str:
    return "mutexes" if findings > 1 else "the mutex"


FAMILY = Family(
    "drmm-mutex",
    rules=("unmanaged-mutex",),
    subjects=("Initialise {what} with drmm_mutex_init()", "Use drmm_mutex_init()"),
    cover="drm: Initialise drm-lifetime mutexes with drmm_mutex_init()",
    summary=(
        "initialises the locks that the drm_device still takes with drmm_mutex_init(), so "
        "that they are destroyed with it"
    ),
    template="families/drmm-mutex.txt.j2",
    plan=plan_mutex,
    headers=MANAGED_H,
    what=_what,
)
