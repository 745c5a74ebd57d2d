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

Policy for the fix (see README, Patches): the guard goes at the top of the entry point.
A callback that an atomic commit which only disables still runs (the commit of
drm_atomic_helper_shutdown(): checks, disables, flushes, plane updates) is guarded only
when removal calls drm_atomic_helper_shutdown() before it unregisters: otherwise, after
drm_dev_unplug(), the guard would skip the disable and leave the hardware running.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import tree_sitter

from refactor import cindex
from refactor.cfunc import Function
from refactor.structs import member_of

if TYPE_CHECKING:
    from refactor.classify import Classifier, Facts
    from refactor.model import Driver
    from refactor.plan import Op, Planner
    from refactor.sweep import Finding

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
    "struct drm_driver": "driver",
}
# Hooks of teardown or of pure state handling: they run after unplug by design.
TEARDOWN = {"destroy", "release", "atomic_destroy_state", "atomic_duplicate_state",
            "atomic_print_state", "early_unregister", "gem_free_object_unlocked"}  # fmt: skip
# Hooks a commit that only disables does not call: guarded whatever removal does.
ENABLE_ONLY = {"atomic_enable", "enable", "commit", "mode_set", "mode_set_nofb", "atomic_mode_set",
               "mode_fixup", "mode_valid", "enable_vblank", "get_modes", "detect", "detect_ctx",
               "prepare_fb", "cleanup_fb", "begin_fb_access", "end_fb_access"}  # fmt: skip
COMMIT_TABLES = {"crtc-helper", "plane-helper", "encoder-helper", "pipe", "mode-config",
                 "mode-config-helper"}  # fmt: skip
COMMIT_HOOKS = {("crtc", "disable_vblank"), ("connector-helper", "atomic_check"),
                ("connector-helper", "atomic_commit"), ("pipe", "disable_vblank")}  # fmt: skip
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
                "struct drm_framebuffer": "{}->dev"}  # fmt: skip


@dataclass(frozen=True)
class Entry:
    """A function placed in a DRM ops table (or an ioctl table)."""

    function: str
    table: str  # kind from TABLES, or "ioctl"
    hook: str  # the field it fills (the ioctl's name for ioctls)

    @property
    def commit_path(self) -> bool:
        """Whether a commit that only disables (drm_atomic_helper_shutdown()) runs it."""
        if self.hook in ENABLE_ONLY:
            return False
        return self.table in COMMIT_TABLES or (self.table, self.hook) in COMMIT_HOOKS


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

    def guarded(self, line: int) -> bool:
        return any(a <= line <= b for a, b in self.guards)


@dataclass(frozen=True)
class Reach:
    """How an entry point reaches hardware: the line of its statement that leads there and
    the chain of calls down to the access."""

    line: int
    chain: tuple[str, ...]  # callee names, then the access as `call(expr)`


@dataclass
class Analysis:
    driver: Driver
    fields: dict[tuple[str, str], str]  # (struct or "", field) -> getter
    bodies: dict[str, Body]
    entries: dict[str, list[Entry]]
    unplug_calls: list[tuple[str, int, str, str]]  # file, line, function, call name
    shutdown: dict[tuple[str, str], list[int]]  # (file, function) -> drm_atomic_helper_shutdown lines
    _reach: dict[tuple[str, int], Reach | None] = field(default_factory=dict)

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

    def needs_guards(self) -> list[Entry]:
        """Entry points that reach hardware unguarded (teardown hooks left out)."""
        out = []
        for name, entries in sorted(self.entries.items()):
            usable = [e for e in entries if e.hook not in TEARDOWN]
            if usable and self.reach(name) is not None:
                out.append(usable[0])
        return out

    def shutdown_first(self) -> bool:
        """Every drm_dev_unregister()/drm_dev_unplug() of a removal path comes after a
        drm_atomic_helper_shutdown() in the same function."""
        calls = [c for c in self.unplug_calls if c[2] in self.removal()]
        return bool(calls) and all(
            any(x < line for x in self.shutdown.get((file, fn), [])) for file, line, fn, _ in calls
        )

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
    """(message, fix, file, line) of the finding of the entry point `fn`, None when it
    reaches no hardware unguarded."""
    a = analyse(c, facts)
    entries = [e for e in a.entries.get(fn, []) if e.hook not in TEARDOWN]
    if not entries:
        return None
    r = a.reach(fn)
    body = a.bodies.get(fn)
    if r is None or body is None:
        return None
    e = entries[0]
    where = "ioctl " + e.hook if e.table == "ioctl" else f"{e.table} .{e.hook}"
    via = f" through {'() -> '.join(r.chain[:-1])}()" if len(r.chain) > 1 else ""
    message = (f"the {where} callback reaches {r.chain[-1]}{via} outside drm_dev_enter()/"
               "drm_dev_exit(): after unbind the callback touches devm_ hardware that is released "
               "or powered off")  # fmt: skip
    fix = ("guard the callback with drm_dev_enter()/drm_dev_exit() and unplug with drm_dev_unplug()"
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
    fix = ("use drm_dev_unplug(), after drm_atomic_helper_shutdown()" if c.api("drm_dev_unplug")
           else "none: the tree does not declare drm_dev_unplug()")  # fmt: skip
    return message, fix


# -- the plan ------------------------------------------------------------------------


def plan_hw(p: Planner, facts: Facts, f: Finding) -> list[Op]:
    """Guard the entry point `f.function`: `int idx;`, the drm_dev_enter() check before
    its first statement, drm_dev_exit() before every return and at the end."""
    from refactor.plan import Op, Refusal

    a = analyse(p.c, facts)
    entry = next((e for e in a.entries.get(f.function, []) if e.hook not in TEARDOWN), None)
    body = a.bodies.get(f.function)
    if entry is None or body is None:
        raise Refusal(f"{f.function}() is not a DRM callback the tool knows")
    if not p.c.api("drm_dev_enter") or not p.c.api("drm_dev_unplug"):
        raise Refusal("the tree does not declare drm_dev_enter() and drm_dev_unplug()")
    removal = [x for x in a.unplug_calls if x[2] in a.removal()]
    if not removal:
        raise Refusal("the module calls neither drm_dev_unregister() nor drm_dev_unplug() on removal: "
                      "a guard would never fail")  # fmt: skip
    if entry.commit_path and not a.shutdown_first():
        raise Refusal(f"{f.function}() (.{entry.hook}) also runs in the commit of "
                      "drm_atomic_helper_shutdown(), and removal does not call that before it "
                      "unregisters: after drm_dev_unplug() a guard would skip the disable and "
                      "leave the hardware running; call drm_atomic_helper_shutdown() first, "
                      "then guard")  # fmt: skip
    if body.guards:
        raise Refusal(f"{f.function}() already has a drm_dev_enter() section that does not cover "
                      f"line {f.line}: widen it by hand")  # fmt: skip
    if body.file != f.file:
        raise Refusal(f"{f.function}() is defined in a header")
    fn = Function(body.src, body.node)
    value = RETURN_BY_HOOK.get(entry.hook, RETURN_BY_TYPE.get(fn.returns))
    if value is None:
        raise Refusal(f"{f.function}() returns {fn.returns}: the tool does not know what it should "
                      "return once the device is gone")  # fmt: skip
    stmts = [s for s in (fn.body.named_children if fn.body else []) if s.type != "comment"]
    first = next((s for s in stmts if s.type != "declaration"), None)
    if first is None:
        raise Refusal(f"{f.function}() has no statement to guard")
    if f.line < first.start_point[0] + 1:
        raise Refusal(f"{f.function}() touches hardware in a declaration, before a guard could go")
    if first.type == "labeled_statement":
        raise Refusal(f"{f.function}() starts with a label")
    text = body.src[body.node.start_byte : body.node.end_byte].decode(errors="replace")
    used = cindex.identifiers_in(text)
    idx = next((n for n in ("idx", "drm_idx", "dev_idx") if n not in used), "")
    drm = _drm_expr(facts, fn, first.start_point[0] + 1)
    if not idx or not drm:
        raise Refusal(f"no drm_device expression is valid at the top of {f.function}()"
                      if idx else f"{f.function}() has no free name for the guard's index")  # fmt: skip
    base = re.match(r"[&(\s]*(\w+)", drm)
    if base and base.group(1) != drm and _null_checked(text, base.group(1)):
        raise Refusal(f"{f.function}() checks {base.group(1)} for NULL, and the guard at its top would "
                      f"dereference it first ({drm}): place the guard after the check by hand")  # fmt: skip
    for n in cindex.walk(fn.node):
        if n.type == "return_statement" and any(_touches(a, body.src, x) for x in cindex.walk(n)):
            line = n.start_point[0] + 1
            raise Refusal(f"{f.function}() returns the value of a call (line {line}), which must stay "
                          "inside the guard: rewrite it with a variable by hand")  # fmt: skip
    last = stmts[-1]
    inner = last.named_children[-1] if last.type == "labeled_statement" and last.named_children else last
    # a void function's end counts as a return for spatch: the exits rule covers it
    if fn.returns != "void" and inner.type != "return_statement":
        raise Refusal(f"{f.function}() does not end with a return statement")
    file, name = body.file, f.function
    ret = f"return {value};" if value else "return;"
    ops = [
        Op("guard-enter", file, name, p.code(file, first.start_point[0] + 1).removesuffix("{").rstrip(),
           (("column", str(first.start_point[1])), ("drm", drm), ("idx", idx), ("return", ret))),
        Op("guard-exit", file, name, "", (("idx", idx),)),
        Op("declare", file, name, "", (("type", "int"), ("var", idx))),
    ]  # fmt: skip
    return ops


def _null_checked(text: str, var: str) -> bool:
    """Whether a function's text tests `var` against NULL (`!var`, `var == NULL`, `if (var)`,
    IS_ERR_OR_NULL(var), ...)."""
    v = re.escape(var)
    return bool(
        re.search(
            rf"!\s*{v}\b(?!\s*(->|\.|\[))|\b{v}\s*[!=]=\s*NULL\b|\bNULL\s*[!=]=\s*{v}\b"
            rf"|IS_ERR_OR_NULL\(\s*{v}\s*\)|\bif\s*\(\s*{v}\s*\)",
            text,
        )
    )


def _touches(a: Analysis, src: bytes, node: tree_sitter.Node) -> bool:
    """Whether `node` is a call that touches hardware or reaches a module function that may."""
    fn = node.child_by_field_name("function") if node.type == "call_expression" else None
    if fn is None:
        return False
    name = src[fn.start_byte : fn.end_byte].decode(errors="replace")
    return bool(ACCESS.match(name)) or (name in a.bodies and a.reach(name) is not None)


def _drm_expr(facts: Facts, fn: Function, line: int) -> str:
    """The drm_device at the top of a callback: what cfunc finds (a drm_device parameter,
    `crtc->dev`, the private struct's), else a pipe's or an atomic state's."""
    found = fn.drm_at(line, facts.index)
    if found and found != "data":
        return found
    for v in fn.variables.values():
        pattern = DRM_OF_PARAM.get(facts.index.canonical(v.type.name))
        if v.param and v.type.pointer == 1 and pattern:
            return pattern.format(v.name)
    return ""


def plan_unplug(p: Planner, facts: Facts, f: Finding) -> list[Op]:
    """drm_dev_unregister() becomes drm_dev_unplug() where it is; refused when an existing
    guard on a commit path would then skip a drm_atomic_helper_shutdown() that comes after."""
    from refactor.plan import Refusal

    a = analyse(p.c, facts)
    if not p.c.api("drm_dev_unplug"):
        raise Refusal("the tree does not declare drm_dev_unplug()")
    p.call_at(f.file, f.line, ["drm_dev_unregister"])
    late = any(x > f.line for x in a.shutdown.get((f.file, f.function), []))
    if late:
        guarded = [n for n, es in a.entries.items() if any(e.commit_path for e in es)
                   and n in a.bodies and a.bodies[n].guards]  # fmt: skip
        if guarded:
            raise Refusal(f"drm_atomic_helper_shutdown() comes after drm_dev_unregister() and "
                          f"{guarded[0]}() is guarded: after drm_dev_unplug() the shutdown commit would "
                          "skip it; move drm_atomic_helper_shutdown() first by hand")  # fmt: skip
    return [p.op("unplug", f.file, f.line)]
