"""One commit per logical change: a driver's plans regrouped after planning.  The
drmm-alloc plan takes the manual mode-config cleanups it drops (their findings with them)
and the locks of the structs it moves to drm-managed memory (a struct and its locks change
lifetime together); a lock in devm_ memory that no drmm-alloc patch moves gets no
drmm_mutex_init()."""

from __future__ import annotations

from collections.abc import Sequence

from refactor.classify.drm import DRMM_OF
from refactor.classify.findings import Finding
from refactor.csrc import cindex
from refactor.families.alloc import FAMILY as ALLOC
from refactor.families.ops import Op, Plan, Planning, Refused
from refactor.model.tree import Driver


def commits(planner: Planning, driver: Driver, plans: Sequence[Plan], findings: Sequence[Finding]
            ) -> list[Plan]:  # fmt: skip
    """One commit per logical change: the drmm-alloc plan takes the manual mode-config
    cleanups it drops (their findings with them) and the locks of the structs it moves
    to drm-managed memory (a struct and its locks change lifetime together)."""
    by_id = {f.id: f for f in findings}
    plans = [_devm_locks(planner, driver, p, by_id) if p.family == "drmm-mutex" else p for p in plans]
    alloc = next((p for p in plans if p.family == "drmm-alloc" and p.ops), None)
    if alloc is None:
        return list(plans)
    dropped = {(o.file, o.code) for o in alloc.ops if o.kind == "cleanup"}
    structs = _converted_structs(planner, driver, [by_id[i] for i in alloc.findings if i in by_id])
    m = planner.c.lifetime(driver)
    locks = {(x.site.file, x.site.line): x.struct for x in m.locks}
    taken: dict[str, tuple[Op, ...]] = {}
    rules = set(alloc.rules)
    out: list[Plan] = []
    for p in plans:
        if p is alloc:
            continue
        if p.family == "drmm-mode-config":
            ids = (*p.findings, *dict.fromkeys(r.finding for r in p.refused))
            moved = [f.id for f in map(by_id.get, ids) if f is not None
                     and (f.file, planner.code(f.file, f.line)) in dropped]  # fmt: skip
        elif p.family == "drmm-mutex":
            moved = [i for i in p.findings if locks.get((by_id[i].file, by_id[i].line)) in structs]
        else:
            moved = []
        if not moved:
            out.append(p)
            continue
        ops = dict(p.by_finding)
        taken.update({i: ops.get(i, ()) for i in moved})
        rules |= {by_id[i].rule for i in moved}
        rest = tuple(i for i in p.findings if i not in moved)
        keep = [o for i in rest for o in ops.get(i, ())] if p.family != "drmm-mode-config" else []
        if rest or any(r.finding not in moved for r in p.refused):
            out.append(Plan(p.driver, p.family, p.rules if rest else (), rest,
                            tuple(dict.fromkeys(keep)) if p.family != "drmm-mode-config" else
                            (p.ops if rest else ()), tuple(r for r in p.refused if r.finding not in moved),
                            tuple(x for x in p.by_finding if x[0] in rest)))  # fmt: skip
    extra = [o for ops in taken.values() for o in ops if o not in alloc.ops]
    merged = Plan(alloc.driver, alloc.family, tuple(sorted(rules)), (*alloc.findings, *taken),
                  alloc.ops + tuple(dict.fromkeys(extra)), alloc.refused,
                  alloc.by_finding + tuple(taken.items()))  # fmt: skip
    return [merged, *out]


def _devm_locks(planner: Planning, driver: Driver, p: Plan, by_id: dict[str, Finding]) -> Plan:
    """The locks in devm_ memory that no drmm-alloc patch of this driver moves: no
    drmm_mutex_init() on memory freed at unbind."""
    alloc = {s for f in by_id.values() if f.rule in ALLOC.rules
             for s in _converted_structs(planner, driver, [f])}  # fmt: skip
    m = planner.c.lifetime(driver)
    blocked: list[Refused] = []
    for i in p.findings:
        f = by_id[i]
        lock = next((x for x in m.locks if (x.site.file, x.site.line) == (f.file, f.line)), None)
        if lock is None:
            continue
        _, base = m.base(f.file, f.line, lock.lock)
        if base and m.memory_of(base) == "devm" and base not in alloc and lock.struct not in alloc:
            blocked.append(Refused(i, f"{lock.lock} lives in {base}, devm_ memory freed at unbind: a "
                               f"drmm_mutex_init() "
                               "release action would run on freed memory; move the memory to "
                               "drmm_ first"))  # fmt: skip
    if not blocked:
        return p
    gone = {r.finding for r in blocked}
    rest = tuple(i for i in p.findings if i not in gone)
    ops = [o for i, os_ in p.by_finding if i in rest for o in os_]
    return Plan(p.driver, p.family, p.rules if rest else (), rest, tuple(dict.fromkeys(ops)),
                p.refused + tuple(blocked), tuple(x for x in p.by_finding if x[0] in rest))  # fmt: skip


def _converted_structs(planner: Planning, driver: Driver, findings: Sequence[Finding]) -> set[str]:
    """The structs whose memory the drmm-alloc findings move to drm-managed memory."""
    m = planner.c.lifetime(driver)
    out = set()
    for f in findings:
        if f.rule == "devm-mode-object" and dict(f.data).get("struct"):
            out.add(dict(f.data)["struct"])
            continue
        for call in cindex.calls(planner.c.data(f.file), DRMM_OF):
            if call.line == f.line and call.assigned_to:
                struct = m.struct_of(f.file, f.line, call.assigned_to)
                if struct:
                    out.add(struct)
    return out
