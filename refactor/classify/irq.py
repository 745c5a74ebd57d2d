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
from refactor.csrc import cindex
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
    return set(m.callers) | set(m.callees)


# what a handler signals, and what a teardown waits for, by the member it names
_SIGNALS = re.compile(r"\b(?P<fn>wake_up\w*|complete(?:_all)?|schedule_work|queue_work|schedule_delayed_work|"
                      r"queue_delayed_work|mod_delayed_work)\s*\(([^;]*)\)\s*;")  # fmt: skip
_WAITS = re.compile(r"\b(?:wait_event\w*|wait_for_completion\w*|flush_work|flush_delayed_work|"
                    r"cancel_work_sync|cancel_delayed_work_sync)\s*\(([^;]*)\)")  # fmt: skip
_MEMBER = re.compile(r"(?:->|\.)(\w+)\s*(?:[,)]|$)")


@dataclass(frozen=True)
class ReleaseWait:
    """A wait at the final drm_dev_put() on something only the IRQ's handler signals."""

    site: Site  # the wait
    member: str  # the wait queue, completion or work the handler signals


def release_waits(m: Module, req: Request) -> list[ReleaseWait]:
    """The waits of functions reached from the drm_driver.release hook (or a drmm_ action)
    on a wait queue, completion or work item that `req`'s handler wakes, completes or
    queues (qxl: qxl_device_fini() waits on release_event, which qxl_irq_handler() wakes).
    Freeing the IRQ at unbind leaves such a wait to time out at the last close, and what
    it waits for (buffers released by the device) undone: the teardown has to move to the
    removal path first."""
    bodies = _bodies(m)
    signalled = _signalled(m, bodies, req.handler)
    if not signalled:
        return []
    roots = m.release_roots
    out = []
    for name, (rel, first, body) in sorted(bodies.items()):
        if name == req.handler or not reaches(m, name, roots):
            continue
        for w in _WAITS.finditer(body):
            member = _MEMBER.search(w.group(1).split(",")[0])
            if member and member.group(1) in signalled:
                line = first + body.count("\n", 0, w.start())
                out.append(ReleaseWait(Site(rel, line, name, " ".join(w.group(0).split())), member.group(1)))
    return out


_INIT_WORK = re.compile(r"\bINIT_(?:DELAYED_)?WORK\s*\(\s*&[^,;]*?(?:->|\.)(\w+)\s*,\s*(\w+)\s*\)")


def _signalled(m: Module, bodies: dict[str, tuple[str, int, str]], handler: str) -> set[str]:
    """The members `handler` wakes, completes or queues, itself or through the module's
    functions it calls and the work items it queues (INIT_WORK(&x->gc_work, fn): fn's
    too), a few levels down."""
    works = {mm.group(1): mm.group(2) for _, _, body in bodies.values() for mm in _INIT_WORK.finditer(body)}
    out: set[str] = set()
    seen, todo = {handler}, [(handler, _DEPTH)]
    while todo:
        name, left = todo.pop()
        for sig in _SIGNALS.finditer(bodies.get(name, ("", 0, ""))[2]):
            args = sig.group(2).split(",")
            # queue_work(wq, w), queue_delayed_work(wq, dw, t), mod_delayed_work(wq, dw, t):
            # the item is the second argument; wake_up(q), complete(c), schedule_work(w): the first
            second = sig.group("fn").startswith(("queue_", "mod_")) and len(args) > 1
            member = _MEMBER.search(args[1] if second else args[0])
            if member:
                out.add(member.group(1))
                nxt = works.get(member.group(1))
                if nxt and nxt not in seen and left:
                    seen.add(nxt)
                    todo.append((nxt, left - 1))
        for callee in m.callees.get(name, frozenset()) if left else ():
            if callee in bodies and callee not in seen:
                seen.add(callee)
                todo.append((callee, left - 1))
    return out


def _bodies(m: Module) -> dict[str, tuple[str, int, str]]:
    """function -> (file, first line, text) of every function definition of the module."""
    out: dict[str, tuple[str, int, str]] = {}
    for rel in sorted(r for r in m.files if r.endswith(".c")):
        lines = m.text(rel).splitlines(keepends=True)
        for first, last, name in cindex.function_spans(m.files[rel], m.tree(rel)):
            out.setdefault(name, (rel, first, "".join(lines[first - 1 : last])))
    return out
