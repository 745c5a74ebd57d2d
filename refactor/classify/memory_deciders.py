"""The decider of `devm-drm-memory`: devm_ memory stored in or reachable from the drm
device's private struct, unless it is right there (hardware handles, register windows,
memory handed to a devm_ registration, units of devm_ units, users only in guarded code).
"""

from __future__ import annotations

import re

from refactor.classify.classifier import Classifier
from refactor.classify.deciders import _how, _tidy, users_stop_at_unbind
from refactor.classify.drm import _SCALARS, DRMM_OF, HW_TYPES
from refactor.classify.facts import Facts, Verdict
from refactor.cocci.results import Match
from refactor.csrc import cindex
from refactor.csrc.structs import StructDef, member_of


def _drm_memory(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    lhs = " ".join(data.get("lhs", "").split())
    container, _ = member_of(lhs)
    if not container:
        return None  # not stored in a struct: memory used only where it was allocated
    r = c.resolver(facts.index, m.file, m.line)
    holder, _ = r.struct_of(container)
    if holder is None or holder.name not in facts.reachable:
        return None
    elem = c.element(facts, m, data)
    target = facts.index.get(elem.name) if elem.known and not elem.pointer else None
    if target is not None:
        units = _devm_units(c, facts) - {target.name}
        if (
            facts.holds(target.name)
            or target.name in facts.private
            or facts.hardware_only(target, 0, units)
            or _register_handle(facts, target)
        ):
            return None  # devm-mode-object or devm-drm-private own those; hardware is devm_'s
    elif elem.known and elem.pointer == 0 and elem.name.startswith(_SCALARS):
        if facts.index.canonical(elem.name) in HW_TYPES:
            return None  # arrays of clk_bulk_data and the like
    elif elem.pointer and facts.index.canonical(elem.name) in HW_TYPES:
        return None
    if _devm_is_right(c, facts, m, holder.name, lhs):
        return None
    alloc = data["alloc"]
    counterpart = DRMM_OF.get(alloc)
    if counterpart and c.api(counterpart):
        fix = f"allocate with {counterpart}()"
    elif alloc == "devm_kmemdup" and c.api("drmm_kmalloc"):
        fix = "allocate with drmm_kmalloc() and copy"
    else:
        fix = f"none: the tree declares no drmm_ counterpart of {alloc}()"
    via = f" (through {data['via']})" if data.get("via") else ""
    message = (f"{alloc}() memory stored in {_tidy(lhs)}{via}, reachable from the drm_device: freed at "
               f"unbind while DRM callbacks can still use it{_how(facts)}")  # fmt: skip
    return Verdict(message, fix)


def _register_handle(facts: Facts, s: StructDef) -> bool:
    """A register window: an `__iomem` mapping with scalars, hardware handles and
    back-pointers beside it, nothing embedded and no callbacks (xe_mmio).  Device lifetime
    is right for it: every access through it must sit inside drm_dev_enter() anyway."""
    if not any(f.iomem for f in s.fields):
        return False
    for f in s.fields:
        if f.function:
            return False
        if f.pointer == 0 and f.type.startswith(_SCALARS) and facts.index.canonical(f.type) not in HW_TYPES:
            return False
    return True


def _devm_units(c: Classifier, facts: Facts) -> frozenset[str]:
    """The structs the driver allocates only with devm_, and those embedded by value in them
    that it never allocates on their own (imx8-dc's fetch unit inside each fetchlayer):
    hardware units that die at unbind."""
    life = c.lifetime(facts.driver)
    units = {k for k, v in life.allocations.items() if v == frozenset({"devm"})}
    todo = list(units)
    while todo:
        s = facts.index.get(todo.pop())
        for f in s.fields if s else ():
            t = facts.index.canonical(f.type)
            if (
                f.pointer == 0
                and not f.function
                and t.startswith("struct ")
                and t not in units
                and t not in life.allocations
                and facts.index.get(t) is not None
            ):
                units.add(t)
                todo.append(t)
    return frozenset(units)


def _devm_is_right(c: Classifier, facts: Facts, m: Match, holder: str, lhs: str) -> bool:
    """The rule's own exclusions, for memory stored in `lhs`: its container is kmalloc'd
    memory the driver frees itself (drmm_ memory there would outlive its only pointer); a
    pointer on the way to it is set to NULL outside the allocating function (the removal
    path cuts it off: tidss, xe_i2c); or
    every user of the member, other than the allocating function, is a devm_ action
    (device-lifetime teardown) or runs inside drm_dev_enter() (itself, or every caller in
    the module) in a driver that calls drm_dev_unplug(), as drm_drv.c documents."""
    life = c.lifetime(facts.driver)
    if life.memory_of(holder) == "kmalloc" and any(s == holder for _, _, s in life.frees):
        return True
    root = re.match(r"\s*(\w+)\s*(->|\.)", lhs)
    top = c.resolver(facts.index, m.file, m.line).struct_of(root.group(1))[0] if root else None
    if life.memory_of(holder) == "devm" or (top is not None and life.memory_of(top.name) == "devm"):
        return True  # the container dies at unbind: drmm_ memory there would outlive its only pointer
    _, member = member_of(lhs)
    if not member:
        return False
    if _handed_to_devm(c, facts, m, lhs):
        return True
    alloc_fn = c.function_at(m.file, m.line)
    for step in re.findall(r"(?:->|\.)\s*(\w+)", lhs):  # a pointer on the way is cut at removal
        cut = re.compile(rf"(->|\.)\s*{step}\s*=\s*NULL\s*;".encode())
        for f in facts.driver.module.files:
            for hit in cut.finditer(c.data(f)):
                if c.function_at(f, c.data(f)[: hit.start()].count(b"\n") + 1) != alloc_fn:
                    return True
    return users_stop_at_unbind(c, facts, member, {alloc_fn})


# registrations whose callbacks get the pointer back and stop at unbind
_DEVM_REGISTER = re.compile(r"^devm_\w*(register|add)\w*$")


def _handed_to_devm(c: Classifier, facts: Facts, m: Match, lhs: str) -> bool:
    """The memory is the data of a devm_ registration (a hwmon device, a devm action): the
    registration's callbacks are its users and stop at unbind, so device lifetime is right
    (xe_hwmon).  Looked for in the allocating function, by the variable the memory came
    through or by the member it is stored in."""
    fn = c.function_at(m.file, m.line)
    bodies, _ = c.functions(facts.driver)
    body = bodies.get(fn, b"").decode(errors="replace")
    names = {re.sub(r"\s+", "", lhs)}
    expr = r"\s*".join(re.escape(t) for t in re.findall(r"\w+|->|\S", lhs))
    for hit in re.finditer(rf"([\w>.\-\[\]]+)\s*=\s*{expr}\s*;|(?<![\w>.])\s*{expr}\s*=\s*(\w+)\s*;", body):
        names.add(re.sub(r"\s+", "", hit.group(1) or hit.group(2)))
    src, tree = c.source(m.file)
    for call in cindex.calls(src, sorted(set(re.findall(r"\b(devm_\w+)\s*\(", body))), tree):
        if call.function != fn or not _DEVM_REGISTER.match(call.name) or call.name.startswith("devm_drm"):
            continue
        if any(re.sub(r"\s+", "", a).lstrip("&") in names for a in call.args[1:]):
            return True
    return False
