"""Unplug guards, the analysis: which DRM callbacks touch devm_ hardware outside
drm_dev_enter(), and what the removal path does.  The deciders of the two rules are
`guard_decider.py`, the plans that fix them `families/guardplan.py`, the per-function and
per-table scans `guard_scan.py`.

The module-wide reasoning of `unguarded-hw-access` and `unregister-without-unplug`:

- hardware fields: the struct fields a module assigns from a devm_ hardware getter
  (`devm_ioremap*()`, `devm_regmap_init*()`, `devm_clk_get*()`, ...), directly or
  through a local variable of the same function;
- entry points: the functions a module places in DRM ops tables (the `drm_*_funcs`
  structs below, `struct drm_driver`) and in `DRM_IOCTL_DEF_DRV()` entries;
- a finding: an entry point that reaches a hardware access (readl/writel, regmap_*,
  clk_*, regulator_*, reset_control_*, gpiod_*, phy_* on a hardware field; an SPI, I2C,
  USB or DSI transfer, BUS_ACCESS, on any device) through at
  most DEPTH calls of the module's own functions, with no drm_dev_enter() section
  around it on the way.

Refcounted bookkeeping (clk_prepare_enable(), pm_runtime_get*(), drm_crtc_vblank_on(), ...)
is not a hardware access: it is recorded apart, because a guard must never skip it.  Which
hooks need guards, and how they are placed, is the per-driver view of hookmodel.py and
guardplan.py (see README, Patches).
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import tree_sitter

from refactor.classify import hookmodel, lifetime
from refactor.classify.guard_scan import BUS_ACCESS, GETTER, Body, Entry, scan
from refactor.classify.guard_scan import tables as _tables  # the analysis' own name for it
from refactor.csrc import cindex
from refactor.csrc.cfunc import Function
from refactor.csrc.structs import Resolver, StructIndex, member_of
from refactor.model.tree import MANAGED_ALLOC, Driver

DEPTH = 3  # calls followed from an entry point
REMOVAL_HOOKS = {"remove", "remove_new", "unbind", "shutdown"}
_REMOVAL_NAME = re.compile(r"(remove|unbind|shutdown|unload|fini|teardown|deinit|detach)")


@dataclass(frozen=True)
class Reach:
    """How an entry point reaches hardware: the line of its statement that leads there and
    the chain of calls down to the access."""

    line: int
    chain: tuple[str, ...]  # callee names, then the access as `call(expr)`


_ROLE_RANK = {"release": 0, "disable": 1, "state": 2, "pure": 3, "hardware": 4}


@dataclass(frozen=True)
class Hook:
    """One function of the module's DRM tables, as the guard family sees it."""

    function: str
    entry: Entry  # the table entry that decides its role
    role: str  # hookmodel.role(), refined for the whole function
    reach: Reach | None  # how it reaches a register access unguarded


@dataclass
class Analysis:
    driver: Driver
    fields: dict[tuple[str, str], str]  # (struct or "", field) -> getter
    bodies: dict[str, Body]
    entries: dict[str, list[Entry]]
    unplug_calls: list[tuple[str, int, str, str]]  # file, line, function, call name
    shutdown: dict[tuple[str, str], list[int]]  # (file, function) -> drm_atomic_helper_shutdown lines
    # mode objects of the driver (its component modules included) in devm_ memory
    devm_objects: tuple[str, ...] = ()
    # the removal-path drm_mode_config_cleanup() that destroys the mode objects before devres
    teardown: lifetime.Cleanup | None = None
    _reach: dict[tuple[str, int], Reach | None] = field(default_factory=dict)
    plans: dict[str, object] = field(default_factory=dict)  # guardplan's driver plan, once

    def reach(self, name: str, depth: int = DEPTH, seen: frozenset[str] = frozenset()) -> Reach | None:
        """The first statement of `name` that reaches a hardware access outside a guard."""
        key = (name, depth)
        if key in self._reach:
            return self._reach[key]
        body = self.bodies.get(name)
        best: Reach | None = None
        for line, call, expr in body.accesses if body else ():
            if not body.guarded(line) and (best is None or line < best.line):  # type: ignore[union-attr]
                best = Reach(line, (f"{call}{expr}",))
        for line, callee in body.calls if body and depth > 0 else ():
            if body.guarded(line) or callee in seen or callee == name or (best and line >= best.line):  # type: ignore[union-attr]
                continue
            inner = self.reach(callee, depth - 1, seen | {name})
            if inner is not None:
                best = Reach(line, (callee, *inner.chain))
        if not seen:
            self._reach[key] = best
        return best

    def kms(self) -> bool:
        """Whether the driver has a display pipeline (CRTC or simple-pipe hooks): an accel
        driver has no atomic state to shut down."""
        return any(e.table in ("crtc", "crtc-helper", "pipe") for es in self.entries.values() for e in es)

    def guards_anywhere(self) -> bool:
        return any(b.guards for b in self.bodies.values())

    def register_lines(self, name: str) -> set[int]:
        """The lines of `name` that reach a register access outside a guard."""
        body = self.bodies.get(name)
        if body is None:
            return set()
        out = {line for line, _, _ in body.accesses if not body.guarded(line)}
        out |= {line for line, callee in body.calls if not body.guarded(line) and callee != name
                and self.reach(callee, DEPTH - 1) is not None}  # fmt: skip
        return out

    def books(self, name: str, depth: int = DEPTH, seen: frozenset[str] = frozenset()
              ) -> list[tuple[int, str]]:  # fmt: skip
        """The refcounted acquire/release calls `name` makes, itself or through the module's
        functions: (line in `name`, the call), guarded or not."""
        body = self.bodies.get(name)
        if body is None:
            return []
        out = list(body.books)
        for line, callee in body.calls if depth > 0 else ():
            if callee not in seen and callee != name:
                out += [(line, call) for _, call in self.books(callee, depth - 1, seen | {name})]
        return sorted(set(out))

    def events(self, name: str, depth: int = DEPTH, seen: frozenset[str] = frozenset()
               ) -> list[tuple[int, str, tuple[str, ...]]]:  # fmt: skip
        """The calls that send or arm the pending event, in `name` (with their arguments) or
        through the module's functions (the callee's name, no arguments)."""
        body = self.bodies.get(name)
        if body is None:
            return []
        out = list(body.events)
        for line, callee in body.calls if depth > 0 else ():
            if callee not in seen and callee != name and self.events(callee, depth - 1, seen | {name}):
                out.append((line, callee, ()))
        return out

    def hooks(self) -> list[Hook]:
        """Every function of the module's ops and ioctl tables with its role; a function in
        several tables takes the most cautious role (release, disable, state, pure, then
        hardware), and `atomic_check` is a hardware hook when it reaches a register."""
        out = []
        for name, entries in sorted(self.entries.items()):
            reach = self.reach(name)
            ranked = []
            for e in entries:
                r = e.role
                if r == "pure" and e.hook in hookmodel.PURE_UNLESS_REGISTERS and reach is not None:
                    r = "hardware"
                ranked.append((_ROLE_RANK[r], r, e))
            _, r, e = min(ranked, key=lambda x: x[0])
            out.append(Hook(name, e, r, reach))
        return out

    def needs_guards(self) -> list[Hook]:
        """The hardware hooks that reach a register access unguarded."""
        return [h for h in self.hooks() if h.role == "hardware" and h.reach is not None]

    def outlives_unbind(self, hook: Hook) -> bool:
        """Whether a file can still call `hook` after unbind: not a mode object's hook in a
        driver whose removal destroys the objects (drm_mode_config_cleanup() on the removal
        path, `lifetime.Module.removal_teardown`) before devres frees their hardware."""
        return self.teardown is None or hook.entry.table not in hookmodel.OBJECT_TABLES

    def unplugs(self) -> bool:
        """Whether the driver calls drm_dev_unplug() (no ioctl or commit starts after it)."""
        return any(call == "drm_dev_unplug" for _, _, _, call in self.unplug_calls)

    def unsafe_teardown(self) -> list[str]:
        """What the removal path frees while userspace may still hold the drm device open:
        a manual drm_mode_config_cleanup(), `dev_private = NULL`, a kfree() of the private
        struct, a devm_ private struct beside drm_dev_alloc() (not devm_drm_dev_alloc()), a mode
        object in devm_ memory anywhere in the driver (a component's encoder included: devres
        frees it at unbind, before the drm release that cleans it up)."""
        # (objects that the removal path destroys before devres frees them are not reached)
        out = [f"{o}, freed at unbind" for o in self.devm_objects] if self.teardown is None else []
        removal = self.removal()
        for name in sorted(removal):
            body = self.bodies.get(name)
            if body is None:
                continue
            text, first = body.text(), body.first_line
            for m in hookmodel.UNSAFE_TEARDOWN.finditer(text):
                what = "drm_mode_config_cleanup()" if "cleanup" in m.group(0) else "dev_private = NULL"
                out.append(f"{what} in {name}() ({body.file}:{first + text.count(chr(10), 0, m.start())})")
            private = set(re.findall(r"\b(\w+)\s*=\s*[^;]*(?:_get_drvdata\s*\(|->\s*dev_private\b)", text))
            for m in re.finditer(r"\bkfree\s*\(\s*([^;]*?)\s*\)\s*;", text):
                arg = m.group(1)
                if arg in private or re.search(r"->\s*dev_private$", arg):
                    out.append(f"kfree({arg}) of the private struct in {name}() "
                               f"({body.file}:{first + text.count(chr(10), 0, m.start())})")  # fmt: skip
        allocs = self.driver.allocations
        if allocs and all(x.api not in MANAGED_ALLOC for x in allocs):
            for x in allocs:
                body = self.bodies.get(x.function)
                text = "" if body is None else body.text()
                if re.search(r"\bdevm_k[mz]alloc\s*\(", text):
                    out.append(f"a devm_ private struct beside {x.call}() in {x.function}() "
                               "(freed at unbind, not with the drm device)")  # fmt: skip
                    break
        return out

    def early_teardown(self, file: str, function: str) -> list[tuple[int, str]]:
        """Calls of `function` that gate clocks, power off or free IRQs before its
        drm_atomic_helper_shutdown() (itself or through the module's functions)."""
        lines = self.shutdown.get((file, function), [])
        body = self.bodies.get(function)
        if not lines or body is None:
            return []
        out = [(line, call) for line, call, _ in body.accesses if line < lines[0]
               and hookmodel.EARLY_TEARDOWN.match(call)]  # fmt: skip
        out += [(line, call) for line, call in self.books(function) if line < lines[0]
                and hookmodel.EARLY_TEARDOWN.match(call)]  # fmt: skip
        text, first = body.text(), body.first_line
        for m in re.finditer(r"\b(free_irq|devm_free_irq|drm_irq_uninstall)\s*\(", text):
            line = first + text.count("\n", 0, m.start())
            if line < lines[0]:
                out.append((line, m.group(1)))
        return sorted(set(out))

    def removal(self) -> set[str]:
        """Functions of the removal path: placed as .remove/.unbind/.shutdown, called
        (two levels deep) from one, or named like one."""
        roots = {e.function for es in self.entries.values() for e in es if e.hook in REMOVAL_HOOKS}
        roots |= {n for n in self.bodies if _REMOVAL_NAME.search(n) and "probe" not in n}
        out, todo = set(roots), [(n, 2) for n in roots]
        while todo:
            name, depth = todo.pop()
            body = self.bodies.get(name)
            for _, callee in body.calls if body and depth else ():
                if callee not in out:
                    out.add(callee)
                    todo.append((callee, depth - 1))
        return out


class Sources(Protocol):
    """What the analysis asks of the sweep's parse cache (classify's Classifier), named
    here so that this module does not import the classifier that imports it."""

    @property
    def root(self) -> Path: ...

    @property
    def guards(self) -> dict[str, Analysis]: ...  # analyse() per module, kept by the caller

    def source(self, rel: str) -> tuple[bytes, tree_sitter.Tree]: ...

    def resolver(self, index: StructIndex, file: str, line: int) -> Resolver: ...

    def lifetime(self, driver: Driver) -> lifetime.Module: ...


class DriverFacts(Protocol):
    """What the analysis asks of a driver's facts (classify's Facts)."""

    @property
    def driver(self) -> Driver: ...

    @property
    def index(self) -> StructIndex: ...


def analyse(c: Sources, facts: DriverFacts) -> Analysis:
    """The guard analysis of a driver's module, once per classifier."""
    cache: dict[str, Analysis] = c.guards
    driver = facts.driver
    if driver.module.path in cache:
        return cache[driver.module.path]
    files = list(driver.module.files)
    headers = []
    for d in sorted({os.path.dirname(f) for f in files}):
        with contextlib.suppress(OSError):
            headers += sorted(f"{d}/{x.name}" for x in (c.root / d).iterdir() if x.suffix == ".h")
    bodies: dict[str, Body] = {}
    entries: dict[str, list[Entry]] = {}
    fields: dict[tuple[str, str], str] = {}
    unplug: list[tuple[str, int, str, str]] = []
    shutdown: dict[tuple[str, str], list[int]] = {}
    for rel in [*files, *headers]:
        src, tree = c.source(rel)
        for node in cindex.walk(tree.root_node):
            if node.type == "function_definition":
                name = cindex._declarator_name(node.child_by_field_name("declarator"), src)
                if name and name not in bodies:
                    bodies[name] = Body.of(name, rel, node, src)
                    scan(bodies[name], node, unplug, shutdown)
            elif node.type == "declaration" and rel in files:
                _tables(src, node, entries)
    for rel in files:
        src, _ = c.source(rel)
        for call in cindex.calls(src, _getters(src)):
            _record_field(c, facts, rel, call, fields)
    for body in bodies.values():
        body.accesses = [a for a in body.accesses if _is_hw(c, facts, body, a, fields)]
        body.calls = [(line, n) for line, n in body.calls if n in bodies]
    devm_objects = tuple(o.describe() + " lives in devm_ memory" for o in c.lifetime(driver).mode_objects
                         if o.memory == "devm")  # fmt: skip
    cache[driver.module.path] = Analysis(driver, fields, bodies, entries, unplug, shutdown, devm_objects,
                                         c.lifetime(driver).removal_teardown)  # fmt: skip
    return cache[driver.module.path]


def _getters(src: bytes) -> list[str]:
    return sorted({m.decode() for m in re.findall(rb"\b(__devm_regmap_init\w*|devm_\w+)\s*\(", src)
                   if GETTER.match(m.decode())})  # fmt: skip


def _record_field(c: Sources, facts: DriverFacts, rel: str, call: cindex.Call,
                  fields: dict[tuple[str, str], str]) -> None:  # fmt: skip
    """The field `call`'s result is stored in: `x->f = devm_...()`, or through a local
    (`base = devm_...(); ... x->f = base;`) in the same function."""
    targets = [call.assigned_to] if call.assigned_to else []
    if targets and re.fullmatch(r"\w+", targets[0]):
        local = targets.pop()
        src, tree = c.source(rel)
        fn = Function.at(src, tree, call.line)
        text = "" if fn is None else src[fn.node.start_byte : fn.node.end_byte].decode(errors="replace")
        targets = re.findall(rf"([\w>.\-\[\]]+(?:->|\.)\w+)\s*=\s*{local}\s*;", text)
    for target in targets:
        container, member = member_of(target)
        if not member:
            continue
        struct, _ = c.resolver(facts.index, rel, call.line).struct_of(container)
        fields[(struct.name if struct else "", member)] = call.name


_HW_EXPR = re.compile(r"([\w\]\[)(]+(?:\s*(?:->|\.)\s*\w+)*)\s*(->|\.)\s*(\w+)")


def _is_hw(c: Sources, facts: DriverFacts, body: Body, access: tuple[int, str, str],
           fields: dict[tuple[str, str], str]) -> bool:  # fmt: skip
    """Whether an argument of the access names a hardware field (struct-checked when the
    container's type resolves, by field name otherwise)."""
    line, call, args = access
    if BUS_ACCESS.match(call):
        return True
    for m in _HW_EXPR.finditer(args):
        container, member = m.group(1), m.group(3)
        if not any(f == member for _, f in fields):
            continue
        struct, _ = c.resolver(facts.index, body.file, line).struct_of(container.strip("( "))
        if struct is None or (struct.name, member) in fields or ("", member) in fields:
            return True
    return False
