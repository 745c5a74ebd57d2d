"""Unplug guards: which DRM callbacks touch devm_ hardware outside drm_dev_enter(), and
the plan of the guards and of drm_dev_unplug() that fix them.

The module-wide reasoning of `unguarded-hw-access` and `unregister-without-unplug`:

- hardware fields: the struct fields a module assigns from a devm_ hardware getter
  (`devm_ioremap*()`, `devm_regmap_init*()`, `devm_clk_get*()`, ...), directly or
  through a local variable of the same function;
- entry points: the functions a module places in DRM ops tables (the `drm_*_funcs`
  structs below, `struct drm_driver`) and in `DRM_IOCTL_DEF_DRV()` entries;
- a finding: an entry point that reaches a hardware access (readl/writel, regmap_*,
  clk_*, regulator_*, reset_control_*, gpiod_*, phy_* on a hardware field) through at
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
from typing import TYPE_CHECKING

import tree_sitter

from refactor.classify import hookmodel
from refactor.csrc import cindex
from refactor.csrc.cfunc import Function
from refactor.csrc.structs import member_of
from refactor.model.tree import MANAGED_ALLOC

if TYPE_CHECKING:
    from refactor.classify.classifier import Classifier, Facts
    from refactor.model.tree import Driver

DEPTH = 3  # calls followed from an entry point
GETTER = re.compile(
    r"^(devm_(ioremap\w*|platform_ioremap_resource\w*|platform_get_and_ioremap_resource|of_iomap|"
    r"regmap_init\w*|regmap_field_alloc|clk_get\w*|clk_bulk_get\w*|regulator_get\w*|"
    r"regulator_bulk_get\w*|reset_control_get\w*|reset_control_array_get\w*|"
    r"reset_control_bulk_get\w*|gpiod_get\w*|phy_get|phy_optional_get|of_phy_get\w*)|"
    r"__devm_regmap_init\w*)$"
)
ACCESS = re.compile(
    r"^(ioread(8|16|32|64)\w*|iowrite(8|16|32|64)\w*|read[bwlq](_relaxed)?|write[bwlq](_relaxed)?|"
    r"__raw_(read|write)[bwlq]|read[bwlq]_poll_timeout\w*|readx_poll_timeout\w*|"
    r"memcpy_(to|from)io|memset_io|regmap_(read|write|update_bits|set_bits|clear_bits|test_bits|"
    r"bulk_read|bulk_write|raw_read|raw_write|multi_reg_write|noinc_read|noinc_write|"
    r"read_poll_timeout|write_bits|field_\w+)\w*|"
    r"clk_(prepare_enable|disable_unprepare|prepare|unprepare|enable|disable|set_rate|get_rate|"
    r"round_rate|set_parent|bulk_\w+)|regulator_(enable|disable|set_voltage|get_voltage|"
    r"is_enabled|bulk_enable|bulk_disable)|reset_control_(assert|deassert|reset|status|bulk_\w+)|"
    r"gpiod_(set|get)_\w+|phy_(power_on|power_off|init|exit|configure|set_mode\w*|validate|"
    r"calibrate))$"
)
TABLES = {
    "struct drm_crtc_funcs": "crtc",
    "struct drm_crtc_helper_funcs": "crtc-helper",
    "struct drm_plane_funcs": "plane",
    "struct drm_plane_helper_funcs": "plane-helper",
    "struct drm_encoder_funcs": "encoder",
    "struct drm_encoder_helper_funcs": "encoder-helper",
    "struct drm_connector_funcs": "connector",
    "struct drm_connector_helper_funcs": "connector-helper",
    "struct drm_simple_display_pipe_funcs": "pipe",
    "struct drm_mode_config_funcs": "mode-config",
    "struct drm_mode_config_helper_funcs": "mode-config-helper",
    "struct drm_bridge_funcs": "bridge",
    "struct drm_driver": "driver",
}
REMOVAL_HOOKS = {"remove", "remove_new", "unbind", "shutdown"}
_REMOVAL_NAME = re.compile(r"(remove|unbind|shutdown|unload|fini|teardown|deinit|detach)")
# the value a guarded callback returns once the device is gone, by hook, then by type
RETURN_BY_HOOK = {"get_modes": "0", "detect": "connector_status_disconnected",
                  "detect_ctx": "connector_status_disconnected"}  # fmt: skip
RETURN_BY_TYPE = {"void": "", "int": "-ENODEV", "long": "-ENODEV", "ssize_t": "-ENODEV",
                  "enum drm_mode_status": "MODE_ERROR", "bool": "false", "u32": "0",
                  "enum drm_connector_status": "connector_status_disconnected"}  # fmt: skip
# parameters that name the drm_device at the top of a callback, beyond cfunc.drm_at()
DRM_OF_PARAM = {"struct drm_simple_display_pipe": "{}->crtc.dev", "struct drm_atomic_state": "{}->dev",
                "struct drm_framebuffer": "{}->dev", "struct drm_bridge": "{}->dev"}  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """A function placed in a DRM ops table (or an ioctl table)."""

    function: str
    table: str  # kind from TABLES, or "ioctl"
    hook: str  # the field it fills (the ioctl's name for ioctls)

    @property
    def role(self) -> str:
        """hardware, disable, release, state or pure (hookmodel.role)."""
        return hookmodel.role(self.hook, self.table)


@dataclass
class Body:
    """What the analysis needs of one function definition."""

    name: str
    file: str
    node: tree_sitter.Node
    src: bytes
    accesses: list[tuple[int, str, str]] = field(default_factory=list)  # line, call, hw expression
    calls: list[tuple[int, str]] = field(default_factory=list)  # line, callee
    guards: list[tuple[int, int]] = field(default_factory=list)  # drm_dev_enter .. last exit
    books: list[tuple[int, str]] = field(default_factory=list)  # line, refcounted acquire/release
    book_args: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # line -> (call, args)
    events: list[tuple[int, str, tuple[str, ...]]] = field(default_factory=list)  # line, call, args

    def guarded(self, line: int) -> bool:
        return any(a <= line <= b for a, b in self.guards)


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

    def unsafe_teardown(self) -> list[str]:
        """What the removal path frees while userspace may still hold the drm device open:
        a manual drm_mode_config_cleanup(), `dev_private = NULL`, a kfree() of the private
        struct, a devm_ private struct beside drm_dev_alloc() (not devm_drm_dev_alloc())."""
        out = []
        removal = self.removal()
        for name in sorted(removal):
            body = self.bodies.get(name)
            if body is None:
                continue
            text = body.src[body.node.start_byte : body.node.end_byte].decode(errors="replace")
            first = body.node.start_point[0] + 1
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
                text = "" if body is None else body.src[body.node.start_byte : body.node.end_byte].decode(
                    errors="replace")  # fmt: skip
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
        text = body.src[body.node.start_byte : body.node.end_byte].decode(errors="replace")
        first = body.node.start_point[0] + 1
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


def analyse(c: Classifier, facts: Facts) -> Analysis:
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
                    bodies[name] = Body(name, rel, node, src)
            elif node.type == "declaration" and rel in files:
                _tables(src, node, entries)
    for body in bodies.values():
        _scan(body, unplug, shutdown)
    for rel in files:
        src, _ = c.source(rel)
        for call in cindex.calls(src, _getters(src)):
            _record_field(c, facts, rel, call, fields)
    for body in bodies.values():
        body.accesses = [a for a in body.accesses if _is_hw(c, facts, body, a, fields)]
        body.calls = [(line, n) for line, n in body.calls if n in bodies]
    cache[driver.module.path] = Analysis(driver, fields, bodies, entries, unplug, shutdown)
    return cache[driver.module.path]


def _getters(src: bytes) -> list[str]:
    return sorted({m.decode() for m in re.findall(rb"\b(__devm_regmap_init\w*|devm_\w+)\s*\(", src)
                   if GETTER.match(m.decode())})  # fmt: skip


def _tables(src: bytes, node: tree_sitter.Node, entries: dict[str, list[Entry]]) -> None:
    """`static const struct drm_*_funcs x = { .hook = fn, ... };` and ioctl tables."""
    text = src[node.start_byte : node.end_byte]
    kind = ""
    tnode = node.child_by_field_name("type")
    if tnode is not None:
        kind = TABLES.get(
            " ".join(src[tnode.start_byte : tnode.end_byte].decode(errors="replace").split()), ""
        )
    for n in cindex.walk(node):
        if kind and n.type == "initializer_pair":
            designator = n.child_by_field_name("designator")
            value = n.child_by_field_name("value")
            if designator is not None and value is not None and value.type == "identifier":
                hook = src[designator.start_byte : designator.end_byte].decode().lstrip(".").strip()
                fn = src[value.start_byte : value.end_byte].decode()
                entries.setdefault(fn, []).append(Entry(fn, kind, hook))
    if b"DRM_IOCTL_DEF_DRV" in text:
        for call in cindex.calls(text, ["DRM_IOCTL_DEF_DRV"]):
            if len(call.args) >= 2 and re.fullmatch(r"\w+", call.args[1]):
                entries.setdefault(call.args[1], []).append(Entry(call.args[1], "ioctl", call.args[0]))


def _scan(
    body: Body, unplug: list[tuple[str, int, str, str]], shutdown: dict[tuple[str, str], list[int]]
) -> None:
    src = body.src
    enters: list[int] = []
    exits: list[int] = []
    for n in cindex.walk(body.node):
        if n.type != "call_expression":
            continue
        fn = n.child_by_field_name("function")
        if fn is None or fn.type != "identifier":
            continue
        name = src[fn.start_byte : fn.end_byte].decode()
        line = n.start_point[0] + 1
        if name == "drm_dev_enter":
            enters.append(line)
        elif name == "drm_dev_exit":
            exits.append(line)
        elif name in ("drm_dev_unregister", "drm_dev_unplug"):
            unplug.append((body.file, line, body.name, name))
        elif name == "drm_atomic_helper_shutdown":
            shutdown.setdefault((body.file, body.name), []).append(line)
        elif hookmodel.BOOKKEEPING.match(name):
            body.books.append((line, name))
            args = n.child_by_field_name("arguments")
            text = "" if args is None else src[args.start_byte : args.end_byte].decode(errors="replace")
            body.book_args.setdefault(line, []).append((name, " ".join(text.split())))
        elif name in hookmodel.EVENT:
            args = n.child_by_field_name("arguments")
            parts = [] if args is None else [src[x.start_byte : x.end_byte].decode(errors="replace")
                                              for x in args.named_children]  # fmt: skip
            body.events.append((line, name, tuple(" ".join(x.split()) for x in parts)))
        elif ACCESS.match(name):
            args = n.child_by_field_name("arguments")
            text = "" if args is None else src[args.start_byte : args.end_byte].decode(errors="replace")
            body.accesses.append((line, name, " ".join(text.split())))
        else:
            body.calls.append((line, name))
    for e in enters:
        after = [x for x in exits if x >= e]
        if after:
            body.guards.append((e, max(after)))


def _record_field(c: Classifier, facts: Facts, rel: str, call: cindex.Call,
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


def _is_hw(c: Classifier, facts: Facts, body: Body, access: tuple[int, str, str],
           fields: dict[tuple[str, str], str]) -> bool:  # fmt: skip
    """Whether an argument of the access names a hardware field (struct-checked when the
    container's type resolves, by field name otherwise)."""
    line, _, args = access
    for m in _HW_EXPR.finditer(args):
        container, member = m.group(1), m.group(3)
        if not any(f == member for _, f in fields):
            continue
        struct, _ = c.resolver(facts.index, body.file, line).struct_of(container.strip("( "))
        if struct is None or (struct.name, member) in fields or ("", member) in fields:
            return True
    return False


# -- the verdicts --------------------------------------------------------------------


def hw_verdict(c: Classifier, facts: Facts, fn: str) -> tuple[str, str, str, int] | None:
    """(message, fix, file, line) of the finding of the hardware hook `fn`, None when it
    is not one (release, disable, state and pure hooks are never guarded) or reaches no
    register unguarded."""
    a = analyse(c, facts)
    hook = next((h for h in a.hooks() if h.function == fn), None)
    body = a.bodies.get(fn)
    if hook is None or hook.role != "hardware" or hook.reach is None or body is None:
        return None
    e, r = hook.entry, hook.reach
    where = "ioctl " + e.hook if e.table == "ioctl" else f"{e.table} .{e.hook}"
    via = f" through {'() -> '.join(r.chain[:-1])}()" if len(r.chain) > 1 else ""
    message = (f"the {where} callback reaches {r.chain[-1]}{via} outside drm_dev_enter()/"
               "drm_dev_exit(): after unbind the callback touches devm_ hardware that is released "
               "or powered off")  # fmt: skip
    fix = ("guard the register accesses of every hardware hook of the driver with drm_dev_enter()/"
           "drm_dev_exit() (not the clock, runtime PM or vblank bookkeeping; the pending event still "
           "delivered), and remove with drm_dev_unplug() before drm_atomic_helper_shutdown()"
           if c.api("drm_dev_enter") else "none: the tree does not declare drm_dev_enter()")  # fmt: skip
    return message, fix, body.file, r.line


def unplug_verdict(
    c: Classifier, facts: Facts, file: str, line: int, function: str
) -> tuple[str, str] | None:
    """(message, fix) for a drm_dev_unregister() at `file:line` when the driver has guards
    or callbacks that need them, None otherwise."""
    a = analyse(c, facts)
    if function not in a.removal():
        return None
    guarded = a.guards_anywhere()
    needing = a.needs_guards()
    if not guarded and not needing:
        return None
    why = "the driver guards hardware with drm_dev_enter()" if guarded else (
        f"{len(needing)} DRM callback(s) touch hardware and need drm_dev_enter() guards")  # fmt: skip
    message = (f"{why}, but removal calls only drm_dev_unregister(): drm_dev_enter() never fails "
               "after unbind, so the guards do not stop anything")  # fmt: skip
    fix = ("use drm_dev_unplug(), then drm_atomic_helper_shutdown() (upstream's order: no new commit "
           "starts, and the unguarded disable hooks still quiesce the hardware)"
           if c.api("drm_dev_unplug") else "none: the tree does not declare drm_dev_unplug()")  # fmt: skip
    return message, fix


