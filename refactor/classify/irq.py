"""The IRQ lifetime of a driver: which interrupts it requests with a dev_id that lives as
long as the drm_device, and where (if anywhere) each is freed.

A handler registered with request_irq() stays on its line until free_irq(): when that only
happens at the final drm_dev_put() (the drm_driver.release hook, a drmm_ action), or never,
the handler outlives unbind and runs on the unbound device's interrupts, and on every other
device's interrupts of a shared line, until then, and after the final put it reads freed
memory.  devm_request_irq() (freed by devres at unbind) and a free_irq() reached from the
removal path (.remove, .unbind, a legacy .unload, a devm_ action) end the handler at unbind.

Shared by the rule's decider, the devm-irq planner and the family's invariant, each with a
`lifetime.Module` of the driver's files (before or after a patch).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from refactor.classify.lifetime import REMOVAL_FIELDS, Module, Site
from refactor.csrc.structs import member_of

# request -> (index of the handler, index of dev_id), and its devm_ counterpart
REQUESTS: dict[str, tuple[int, int, str]] = {
    "request_irq": (1, 4, "devm_request_irq"),
    "request_threaded_irq": (1, 5, "devm_request_threaded_irq"),
}
DEVM_REQUESTS = tuple(devm for _, _, devm in REQUESTS.values())
FREES = ("free_irq", "devm_free_irq")
_DEVM_ACTIONS = ("devm_add_action", "devm_add_action_or_reset")
_REMOVAL_NAME = re.compile(r"_(remove|unbind|unload)$")
_PROBE_FIELDS = frozenset({"probe", "bind", "load"})
_DEPTH = 6  # calls followed up from a free_irq() to the hook it runs from


@dataclass(frozen=True)
class Request:
    """One request_irq()/request_threaded_irq() (or devm_ form) of the module."""

    site: Site
    call: str
    irq: str  # the IRQ number expression
    handler: str
    dev_id: str
    data: str  # what dev_id is: "struct drm_device" or the struct it points to ("" unknown)
    memory: str  # drm (the drm_device itself), drm-device, drmm, devm, kmalloc, unknown

    @property
    def drm_lifetime(self) -> bool:
        """dev_id lives exactly as long as the drm_device: freed at its final put."""
        return self.memory in ("drm", "drm-device", "drmm")

    def describe(self) -> str:
        if self.memory == "drm":
            return "the drm_device"
        if self.memory == "drm-device":
            return f"{self.data}, which embeds the drm_device"
        return f"{self.data}, drmm_ memory"


@dataclass(frozen=True)
class Free:
    """One free_irq() of a request's dev_id, and the path it runs on."""

    site: Site
    path: str  # removal, devm-action (both at unbind), release (final put), probe (error unwind), other

    @property
    def at_unbind(self) -> bool:
        return self.path in ("removal", "devm-action", "other")  # other: not known to be late

    def where(self) -> str:
        return f"{self.site.function}(), {self.site.file}:{self.site.line}"


def requests(m: Module, names: Iterable[str] = REQUESTS) -> list[Request]:
    """The module's IRQ requests (of `names`), with what their dev_id is."""
    out = []
    for rel, call in m.calls(tuple(names)):
        bare = call.name.removeprefix("devm_")
        if bare not in REQUESTS or not call.function:
            continue
        handler, data = REQUESTS[bare][:2]
        offset = 1 if call.name.startswith("devm_") else 0
        if len(call.args) <= data + offset:
            continue
        dev_id = call.args[data + offset]
        what, memory = _data_of(m, rel, call.line, dev_id)
        out.append(Request(m.site(rel, call), call.name, call.args[offset], call.args[handler + offset],
                           dev_id, what, memory))  # fmt: skip
    return out


def _data_of(m: Module, rel: str, line: int, dev_id: str) -> tuple[str, str]:
    t = m.resolver(rel, line).type_of(dev_id)
    if not t.known or t.pointer != 1 or not t.name.startswith("struct"):
        return "", "unknown"
    name = m.index.canonical(t.name)
    if name == "struct drm_device":
        return name, "drm"
    return name, m.memory_of(name)


def frees(m: Module, req: Request) -> list[Free]:
    """The free_irq() calls of the module that free `req` (the same dev_id, by text or by
    type), with the path each runs on."""
    want = " ".join(req.dev_id.split())
    out = []
    for rel, call in m.calls(FREES):
        offset = 1 if call.name == "devm_free_irq" else 0
        if len(call.args) < 2 + offset or not call.function:
            continue
        arg = " ".join(call.args[1 + offset].split())
        if arg != want and (not req.data or _data_of(m, rel, call.line, arg)[0] != req.data):
            continue
        owner, mine = (
            _owner(m, rel, call.line, call.args[offset]),
            _owner(m, req.site.file, req.site.line, req.irq),
        )
        if owner and mine and owner != mine:
            continue  # another struct's IRQ with a dev_id of the same type (a directory of drivers)
        out.append(Free(m.site(rel, call), _path(m, call.function)))
    return out


def _owner(m: Module, rel: str, line: int, irq_expr: str) -> str:
    """The struct whose member the IRQ number is (`p->irq` -> struct p), "" when not one."""
    container, member = member_of(" ".join(irq_expr.split()))
    return m.struct_of(rel, line, container) if container and member else ""


def outlives(m: Module, req: Request) -> tuple[str, list[Free]]:
    """Whether `req`'s handler outlives unbind: "never" (no free_irq() but on probe's error
    path), "release" (freed only at the final drm_dev_put()), "" (freed at unbind, or a devm_
    request), with the frees found."""
    if req.call.startswith("devm_"):
        return "", []
    found = frees(m, req)
    if any(f.at_unbind for f in found):
        return "", found
    if any(f.path == "release" for f in found):
        return "release", found
    return "never", found


def _path(m: Module, function: str) -> str:
    devm = m.actions(_DEVM_ACTIONS)
    if function in devm or reaches(m, function, devm):
        return "devm-action"
    removal = {fn for fn, fields in m.tables.items() if fields & REMOVAL_FIELDS}
    removal |= {fn for fn in _functions(m) if _REMOVAL_NAME.search(fn)}
    if function in m.removal_functions or reaches(m, function, removal):
        return "removal"
    if reaches(m, function, m.release_roots):
        return "release"
    probes = {fn for fn, fields in m.tables.items() if fields & _PROBE_FIELDS}
    if reaches(m, function, probes) or any(r.site.function == function for r in requests(m)):
        return "probe"
    return "other"


def reaches(m: Module, function: str, roots: set[str], depth: int = _DEPTH) -> bool:
    """Whether `function` is one of `roots` or is called from one of them through at most
    `depth` levels of the module's functions (any path, unlike `Module.only_from`)."""
    seen, todo = {function}, [(function, depth)]
    while todo:
        name, left = todo.pop()
        if name in roots:
            return True
        for up in m.callers.get(name, frozenset()) if left else ():
            if up not in seen:
                seen.add(up)
                todo.append((up, left - 1))
    return False


def probe_only(m: Module, function: str) -> bool:
    """Whether `function` runs only at probe or bind (a devm_ request there is released at
    the matching unbind; one made again on every open or resume would pile up)."""
    probes = {fn for fn, fields in m.tables.items() if fields & _PROBE_FIELDS}
    probes |= {fn for fn in _functions(m) if fn.endswith(("_probe", "_bind"))}
    return m.only_from(function, probes, _DEPTH)


def _functions(m: Module) -> set[str]:
    """The names the module's call graph knows: callees and their callers."""
    return set(m.callers).union(*m.callers.values())
