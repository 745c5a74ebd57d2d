"""Decide which spatch matches are findings, with what the driver's structs say.

Under drmm-refactor (`DRMM_REFACTOR=1` in spatch's environment) the rules report every
candidate with the expressions they matched; this module resolves their types against the
module's struct index (`structs.py`) and keeps the real ones: memory that holds mode
objects, memory reachable from the drm device, locks on drm-lifetime data, devm actions
that tear down drm state.  It also chooses the fix, only from helpers the tree declares.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import tree_sitter

from refactor.classify import guard_decider, guards, hookmodel, lifetime
from refactor.cocci.spatch import Match
from refactor.csrc import cindex, structs
from refactor.csrc.structs import CType, Resolver, StructDef, StructIndex, member_of
from refactor.model.tree import Driver, TreeModel, read_source

MODE_OBJECTS = {
    "struct drm_crtc": "CRTC",
    "struct drm_plane": "plane",
    "struct drm_encoder": "encoder",
    "struct drm_connector": "connector",
    "struct drm_writeback_connector": "writeback connector",
    "struct drm_private_obj": "private object",
}
# Handles to hardware: right to keep in devm_ memory (guarded by drm_dev_enter()).
HW_TYPES = {
    f"struct {n}"
    for n in [
        "clk",
        "clk_bulk_data",
        "regulator",
        "regulator_bulk_data",
        "reset_control",
        "reset_control_bulk_data",
        "gpio_desc",
        "gpio_descs",
        "regmap",
        "regmap_field",
        "phy",
        "device",
        "platform_device",
        "i2c_client",
        "i2c_adapter",
        "spi_device",
        "mipi_dsi_device",
        "mipi_dsi_host",
        "resource",
        "pwm_device",
        "backlight_device",
        "dma_chan",
        "mbox_chan",
        "pinctrl",
        "pinctrl_state",
        "extcon_dev",
        "irq_domain",
        "device_node",
        "fwnode_handle",
        "iommu_domain",
        "syscon",
        "nvmem_cell",
    ]
}
_SCALARS = ("struct", "union")
DRMM_OF = {
    "devm_kzalloc": "drmm_kzalloc",
    "devm_kmalloc": "drmm_kmalloc",
    "devm_kcalloc": "drmm_kcalloc",
    "devm_kmalloc_array": "drmm_kmalloc_array",
    "devm_kstrdup": "drmm_kstrdup",
}
ALLOC_HELPERS = {  # mode object kind -> (allocating helper, init helper)
    "CRTC": ("drmm_crtc_alloc_with_planes", "drmm_crtc_init_with_planes"),
    "plane": ("drmm_universal_plane_alloc", "drmm_universal_plane_init"),
    "encoder": ("drmm_encoder_alloc", "drmm_encoder_init"),
    "connector": ("", "drmm_connector_init"),
    "writeback connector": ("", "drmm_writeback_connector_init"),
    "private object": ("", ""),
}


@dataclass(frozen=True)
class Verdict:
    """A candidate confirmed as a finding: what to say and what to propose."""

    message: str
    fix: str
    detail: tuple[tuple[str, str], ...] = ()  # what the patch planner needs (the struct, ...)
    file: str = ""  # where the finding is, when not at the match (unguarded-hw-access)
    line: int = 0

    @property
    def helpers(self) -> tuple[str, ...]:
        """The DRM helpers the fix proposes (none when the fix says "none")."""
        if self.fix.startswith("none"):
            return ()
        return tuple(dict.fromkeys(re.findall(r"\b((?:__)?(?:drmm|devm_drm)_\w+)\(\)", self.fix)))


@dataclass
class Facts:
    """What the sweep knows about one driver's data."""

    driver: Driver
    index: StructIndex
    private: frozenset[str]
    unmanaged: bool
    _holders: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reachable: frozenset[str] = frozenset()

    def holds(self, name: str, depth: int = 0) -> tuple[str, ...]:
        """Kinds of mode objects embedded (by value, at any depth) in the struct `name`."""
        name = self.index.canonical(name)
        if name in MODE_OBJECTS:
            return (MODE_OBJECTS[name],)
        if name in self._holders:
            return self._holders[name]
        self._holders[name] = ()  # cycle guard
        s = self.index.get(name)
        kinds: list[str] = []
        if s is not None and depth < 8:
            for f in s.fields:
                if f.pointer == 0 and not f.function and f.type.startswith(_SCALARS):
                    kinds.extend(k for k in self.holds(f.type, depth + 1) if k not in kinds)
        self._holders[name] = tuple(kinds)
        return self._holders[name]

    def hardware_only(self, s: StructDef, depth: int = 0, devm_units: frozenset[str] = frozenset()) -> bool:
        """Every field is a hardware handle, a plain scalar, or a pointer to another hardware
        unit's struct (one of `devm_units`, the structs the driver allocates only with devm_:
        they die at unbind whatever holds them): nothing userspace reaches."""
        for f in s.fields:
            if f.pointer == 1 and self.index.canonical(f.type) in devm_units:
                continue
            if f.function:
                return False
            if f.pointer and (f.iomem or self.index.canonical(f.type) in HW_TYPES):
                continue
            if f.pointer == 0 and not f.type.startswith(_SCALARS):
                continue
            if f.pointer == 0 and self.index.canonical(f.type) in HW_TYPES:
                continue
            inner = self.index.get(f.type) if f.pointer <= 1 else None
            # embedded, or a pointer to another hardware unit's struct (imx/dc's dc_pe)
            if inner is not None and inner is not s and depth < 4 and self.hardware_only(inner, depth + 1,
                                                                                         devm_units):
                continue
            return False
        return True


class Classifier:
    """Per-sweep caches of parsed files and per-driver facts."""

    def __init__(self, model: TreeModel, memo: Callable[[str], structs.FileDecls | None] | None = None,
                 remember: Callable[[str, structs.FileDecls], None] | None = None) -> None:  # fmt: skip
        """`memo` and `remember` read and store a file's declarations elsewhere (the cache)."""
        self.model = model
        self.root = model.root
        self._memo, self._remember = memo, remember
        self._data: dict[str, bytes] = {}
        self._lines: dict[str, list[str]] = {}
        self._decls: dict[str, structs.FileDecls] = {}
        self._sources: dict[str, tuple[bytes, tree_sitter.Tree]] = {}
        self._spans: dict[str, list[tuple[int, int, str]]] = {}
        self._facts: dict[str, Facts] = {}
        self._core: StructIndex | None = None
        self._calls: dict[tuple[str, str], list[cindex.Call]] = {}
        self.guards: dict[str, guards.Analysis] = {}  # guards.analyse() per module
        self._called: dict[str, dict[str, set[str]]] = {}
        self._lifetimes: dict[str, lifetime.Module] = {}
        self._functions: dict[str, tuple[dict[str, bytes], dict[str, set[str]]]] = {}
        self.reads: set[str] | None = None  # when a set, the files asked for are added to it

    def _asked(self, rel: str) -> None:
        if self.reads is not None:
            self.reads.add(rel)

    # -- files ------------------------------------------------------------------------
    def data(self, rel: str) -> bytes:
        """A file's bytes, read once per sweep."""
        self._asked(rel)
        if rel not in self._data:
            self._data[rel] = read_source(self.root, rel)
        return self._data[rel]

    def lines(self, rel: str) -> list[str]:
        """A file's text lines, split once per sweep."""
        self._asked(rel)
        if rel not in self._lines:
            self._lines[rel] = self.data(rel).decode(errors="replace").splitlines()
        return self._lines[rel]

    def source(self, rel: str) -> tuple[bytes, tree_sitter.Tree]:
        """A file's bytes and its tree-sitter tree, parsed once per sweep."""
        if rel not in self._sources:
            data = self.data(rel)
            self._sources[rel] = (data, cindex.parse(data))
        return self._sources[rel]

    def decls(self, rel: str) -> structs.FileDecls:
        self._asked(rel)
        if rel not in self._decls:
            found = self._memo(rel) if self._memo else None
            if found is None:
                found = structs.declarations(read_source(self.root, rel), rel)
                if self._remember:
                    self._remember(rel, found)
            self._decls[rel] = found
        return self._decls[rel]

    def function_at(self, rel: str, line: int) -> str:
        """The function containing `line` of `rel`, "" at file scope."""
        if rel not in self._spans:
            self._spans[rel] = cindex.function_spans(*self.source(rel))
        return cindex.function_at(self._spans[rel], line)

    def calls(self, driver: Driver, name: str) -> list[cindex.Call]:
        """Calls of `name` anywhere in the driver's module."""
        key = (driver.module.path, name)
        if key not in self._calls:
            self._calls[key] = [
                c
                for f in driver.module.files
                if name.encode() in self.data(f)
                for c in cindex.calls(self.source(f)[0], [name], self.source(f)[1])
            ]
        return self._calls[key]

    def called_in_module(self, driver: Driver, function: str) -> set[str] | None:
        """Names called by `function`, defined in one of the driver's files (None if not)."""
        for f in driver.module.files:
            if function.encode() not in self.data(f):
                continue
            if f not in self._called:  # each file parsed and walked once per sweep
                self._called[f] = cindex.called_by_function(*self.source(f))
            if function in self._called[f]:
                return self._called[f][function]
        return None

    def core_index(self) -> StructIndex:
        if self._core is None:
            self._core = StructIndex()
            inc = self.root / "include/drm"
            for header in sorted(inc.rglob("*.h")) if inc.is_dir() else []:
                rel = str(header.relative_to(self.root))
                self._core.add(self.decls(rel), rel)
        return self._core

    def facts(self, driver: Driver) -> Facts:
        if driver.module.path in self._facts:
            return self._facts[driver.module.path]
        core = self.core_index()
        index = StructIndex(dict(core.structs), dict(core.typedefs), dict(core.returns), {})
        own: set[str] = set()
        files = list(driver.module.files)
        dirs = sorted({os.path.dirname(f) for f in files})
        for d in dirs:
            try:
                headers = sorted(p.name for p in (self.root / d).iterdir() if p.suffix == ".h")
            except OSError:
                headers = []
            files.extend(f"{d}/{h}" for h in headers)
        for rel in files:
            decls = self.decls(rel)
            index.add(decls, rel)
            own.update(s.name for s in decls.structs)
        unmanaged = any(not a.managed for a in driver.allocations)
        private = {index.canonical(a.struct) for a in driver.allocations if a.struct}
        private |= {s for s in own if any(f.type == "struct drm_device" and f.pointer == 0
                                          for f in index.structs[s].fields)}  # fmt: skip
        for a in driver.allocations:
            container, _ = member_of(a.assigned_to) if not a.managed else ("", "")
            if container:
                s, _ = self.resolver(index, a.file, a.line).struct_of(container)
                if s is not None:
                    private.add(s.name)
        facts = Facts(driver, index, frozenset(private), unmanaged)
        roots = set(private) | {s for s in own if facts.holds(s)}
        seen, todo = set(roots), list(roots)
        while todo:
            s = index.structs.get(todo.pop())
            for f in s.fields if s else ():
                t = index.canonical(f.type)
                if not f.function and t in own and t not in seen:
                    seen.add(t)
                    todo.append(t)
        facts.reachable = frozenset(seen)
        self._facts[driver.module.path] = facts
        return facts

    def lifetime(self, driver: Driver) -> lifetime.Module:
        """The lifetime model of every .c/.h file in the driver's module directories (so
        that the components of a component driver are in it), built once per sweep."""
        key = driver.module.path
        if key not in self._lifetimes:
            # a directory shared with other drivers (tiny/, panel/): their files stay out; but a
            # component keeps the drm drivers beside it, one of which is the master it binds
            # to (whose manual drm_mode_config_cleanup() calls the component's .destroy)
            others = {f for d in self.model.drivers if d.module.path != key and d.role != "component"
                      and driver.role != "component" for f in d.module.files}  # fmt: skip
            files = {}
            for d in sorted({os.path.dirname(f) for f in driver.module.files}):
                try:
                    names = sorted(p.name for p in (self.root / d).iterdir() if p.suffix in (".c", ".h"))
                except OSError:
                    names = []
                files.update({f"{d}/{n}": self.data(f"{d}/{n}") for n in names if f"{d}/{n}" not in others})
            self._lifetimes[key] = lifetime.Module(files, self.core_index())
        return self._lifetimes[key]

    def functions(self, driver: Driver) -> tuple[dict[str, bytes], dict[str, set[str]]]:
        """The module's function bodies by name, and the callers of each name, once per sweep."""
        key = driver.module.path
        if key not in self._functions:
            bodies: dict[str, bytes] = {}
            callers: dict[str, set[str]] = {}
            for f in driver.module.files:
                data, tree = self.source(f)
                for node in cindex.walk(tree.root_node):
                    if node.type == "function_definition":
                        name = cindex._declarator_name(node.child_by_field_name("declarator"), data)
                        bodies[name] = data[node.start_byte : node.end_byte]
                for caller, names in cindex.called_by_function(data, tree).items():
                    for n in names:
                        callers.setdefault(n, set()).add(caller)
            self._functions[key] = (bodies, callers)
        return self._functions[key]

    def resolver(self, index: StructIndex, file: str, line: int) -> Resolver:
        data, tree = self.source(file)
        return Resolver(index, structs.local_types(data, tree, line), file)

    # -- rules --------------------------------------------------------------------------
    def classify(self, rule: str, driver: Driver, match: Match) -> Verdict | None:
        """The finding a match is, or None when the driver's types say it is harmless."""
        decide = _DECIDERS.get(rule)
        if decide is None:
            return Verdict(match.message, "")
        return decide(self, self.facts(driver), match, dict(match.data))

    def element(self, facts: Facts, match: Match, data: dict[str, str]) -> CType:
        """The type of one element of the memory an allocation matched by a rule returns."""
        if data.get("type"):
            return CType(facts.index.canonical(data["type"]), 0)
        if data.get("size"):
            r = self.resolver(facts.index, match.file, match.line)
            return structs.sizeof_type(facts.index, r, data["size"])
        return structs.UNKNOWN

    def api(self, name: str) -> bool:
        return self.model.api.has(name)


def _needs(c: Classifier, helper: str, fix: str) -> str:
    """`fix` when the tree declares `helper`, else why no fix is proposed."""
    return fix if c.api(helper) else f"none: the tree does not declare {helper}()"


def _tidy(expr: str) -> str:
    """spatch prints `a -> b . c`; show it as the driver writes it."""
    return re.sub(r"\s*(->|\.)\s*", r"\1", expr)


def _how(facts: Facts) -> str:
    return " (the driver allocates its drm_device with drm_dev_alloc())" if facts.unmanaged else ""


def _mode_object(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    elem = c.element(facts, m, data)
    if not elem.known or elem.pointer:
        return None
    kinds = facts.holds(elem.name)
    if not kinds or (facts.unmanaged and _is_private(c, facts, m, elem)):
        return None  # devm-drm-private reports the private struct of a drm_dev_alloc() driver
    named = [("an " if k[0] in "aeiou" else "a ") + k for k in kinds]
    what = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    message = (f"{elem.name} embeds {what} but comes from {data['alloc']}(): freed at unbind "
               f"while the drm_device still uses it{_how(facts)}")  # fmt: skip
    return Verdict(message, _mode_fix(c, elem.name, kinds, data["alloc"]), (("struct", elem.name),))


def _mode_fix(c: Classifier, struct: str, kinds: tuple[str, ...], alloc: str) -> str:
    """drmm_kzalloc() and the drmm_ inits (the documented pattern); a plane, for which trees
    offer no drmm_ init, with drmm_universal_plane_alloc()."""
    if kinds == ("plane",) and alloc in ("devm_kzalloc", "devm_kmalloc"):
        helper = ALLOC_HELPERS["plane"][0]
        if c.api(helper):
            return f"allocate {struct} with {helper}()"
    counterpart = DRMM_OF.get(alloc, "drmm_kzalloc")
    if not c.api(counterpart):
        return f"none: the tree does not declare {counterpart}()"
    inits = [ALLOC_HELPERS[k][1] for k in kinds if ALLOC_HELPERS[k][1] and c.api(ALLOC_HELPERS[k][1])]
    tail = f" and initialise with {', '.join(dict.fromkeys(i + '()' for i in inits))}" if inits else ""
    return f"allocate with {counterpart}(){tail}"


def _is_private(c: Classifier, facts: Facts, m: Match, elem: CType) -> bool:
    if elem.name in facts.private:
        return True
    s = facts.index.get(elem.name)
    holds_drm = s is not None and any(f.type == "struct drm_device" for f in s.fields)
    function = c.function_at(m.file, m.line)
    return holds_drm and any(not a.managed and a.file == m.file and a.function == function
                             for a in facts.driver.allocations)  # fmt: skip


def _drm_private(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    elem = c.element(facts, m, data)
    if not facts.unmanaged or not elem.known or elem.pointer or not _is_private(c, facts, m, elem):
        return None
    fix = _needs(
        c,
        "devm_drm_dev_alloc",
        f"embed the drm_device in {elem.name} and allocate both with devm_drm_dev_alloc()",
    )
    message = (f"{elem.name} holds the drm_device of a drm_dev_alloc() driver but comes from "
               f"{data['alloc']}(): freed at unbind while the drm_device lives on")  # fmt: skip
    return Verdict(message, fix)


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
        if facts.holds(target.name) or target.name in facts.private or facts.hardware_only(target, 0, units) \
                or _register_handle(facts, target):
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
            if f.pointer == 0 and not f.function and t.startswith("struct ") and t not in units \
                    and t not in life.allocations and facts.index.get(t) is not None:
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
    use = re.compile(rf"(->|\.)\s*{re.escape(member)}\b".encode())
    actions = life.actions(("devm_add_action", "devm_add_action_or_reset"))
    unplugs = bool(c.calls(facts.driver, "drm_dev_unplug"))
    bodies, callers = c.functions(facts.driver)
    users = [n for n, b in bodies.items() if n != alloc_fn and use.search(b)]
    if not users:
        return False

    def guarded(name: str, depth: int = 0) -> bool:
        if b"drm_dev_enter(" in bodies.get(name, b""):
            return True
        fields = life.tables.get(name, set())
        if fields and all(hookmodel.role(f, "") == "disable" for f in fields):
            # a disable hook runs after drm_dev_unplug() only from drm_atomic_helper_shutdown()
            # on the removal path, while devres is still alive
            return True
        up = callers.get(name, set()) - {name}
        for op in fields:  # a driver ops table: called as ->op()
            call = re.compile(rf"(->|\.)\s*{op}\s*\(".encode())
            up |= {n for n, b in bodies.items() if n != name and call.search(b)}
        return depth < _CALLER_DEPTH and bool(up) and all(guarded(x, depth + 1) for x in up)

    return all(u in actions or (unplugs and guarded(u)) for u in users)


# callers followed up from a user of the memory to a drm_dev_enter() section (gud: the
# compression buffer is used three calls below the guarded flush worker)
_CALLER_DEPTH = 4
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


def _mode_config(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    """A manual drm_mode_config_cleanup() on the removal or an error path of a tree where
    the mode config is managed anyway (drm_mode_config_init() wraps drmm_mode_config_init());
    one in a drm_driver.release hook or a drmm_ action runs at the final put and is right."""
    if not c.api("drmm_mode_config_init"):
        return None
    found = next((x for x in c.lifetime(facts.driver).cleanups
                  if x.site.file == m.file and x.site.line == m.line), None)  # fmt: skip
    if found is None or found.path == "release":
        return None
    if found.path == "error":
        why = ("the managed mode config already cleans up at the final drm_dev_put(), and this call "
               "runs the .destroy hook of every mode object, which drmm_ objects must not have")  # fmt: skip
    else:
        why = ("the mode objects are torn down at unbind while an open file can still reach them; the "
               "managed mode config already cleans up at the final drm_dev_put()")  # fmt: skip
    fix = ("remove every manual drm_mode_config_cleanup() of the driver, once every mode object lives in "
           "drm-lifetime memory without a .destroy hook")  # fmt: skip
    return Verdict(f"drm_mode_config_cleanup() by hand in {found.where()}: {why}{_how(facts)}", fix,
                   (("path", found.path),))  # fmt: skip


def _mutex(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    lock = " ".join(data.get("lock", "").split())
    container, member = member_of(lock)
    if not container:
        return None
    holder, _ = c.resolver(facts.index, m.file, m.line).struct_of(container)
    if holder is None or holder.name not in facts.reachable:
        return None
    if data.get("call") == "mutex_init":
        for call in c.calls(facts.driver, "mutex_destroy"):
            if call.args and _destroys(c, facts, call, member, holder.name):
                return None  # destroyed by hand somewhere in the module
        why = "no mutex_destroy() in the module"
    else:
        why = "devm_ destroys it at unbind while the drm_device still uses it"
    fix = (
        "use drmm_mutex_init()"
        if c.api("drmm_mutex_init")
        else "none: the tree does not declare drmm_mutex_init()"
    )
    where = f"{_tidy(lock)} in {holder.name}"
    freed = next((s for s, _, struct in c.lifetime(facts.driver).frees if struct == holder.name), None)
    if freed is not None and data.get("call") == "mutex_init":
        return Verdict(f"mutex_init() of {where}, which the driver frees itself "
                       f"({freed.code.split('(')[0]}() in "
                       f"{freed.function}(), {freed.file}:{freed.line}) with no mutex_destroy() before",
                       "destroy it with mutex_destroy() before the struct is freed")  # fmt: skip
    return Verdict(f"{data.get('call')}() of {where}, which lives as long as the drm_device: "
                   f"{why}{_how(facts)}", fix)  # fmt: skip


def _destroys(c: Classifier, facts: Facts, call: cindex.Call, member: str, holder: str) -> bool:
    """Whether a mutex_destroy() is of `member` of the struct `holder`: the same member name
    in a struct of the same type (radeon's vm->mutex is not its gem.mutex or pm.mutex), or
    of the same name when the destroyed lock's container does not resolve."""
    container, name = member_of(call.args[0].lstrip("&").strip())
    if name != member:
        return False
    file = next((f for f in facts.driver.module.files if call.function and
                 c.function_at(f, call.line) == call.function), "")  # fmt: skip
    if not file or not container:
        return True
    struct, _ = c.resolver(facts.index, file, call.line).struct_of(container)
    return struct is None or struct.name == holder


_TEARDOWN = re.compile(r"^drm_\w*_(cleanup|fini|takedown|release|put|destroy|unregister|remove|free)$")
_FREES = ("kfree", "kvfree", "vfree", "kfree_sensitive", "mutex_destroy", "idr_destroy", "ida_destroy")


def _devm_action(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    """The action tears down DRM state (a drm_*_cleanup/fini/put/... call, one level of the
    module's own helpers deep), or frees memory while its data is the drm device.  Quiescing
    the hardware (drm_atomic_helper_shutdown()) belongs at unbind and is not reported."""
    action, arg = data.get("action", ""), data.get("arg", "")
    called = c.called_in_module(facts.driver, action)
    if called is None:
        return None
    deeper = set(called)
    for name in called:
        deeper |= c.called_in_module(facts.driver, name) or set()
    teardown = sorted(n for n in deeper if _TEARDOWN.match(n))
    argtype = c.resolver(facts.index, m.file, m.line).type_of(arg) if arg else structs.UNKNOWN
    is_drm = argtype.known and (argtype.name == "struct drm_device" or argtype.name in facts.private)
    frees = sorted(n for n in called if n in _FREES)
    if teardown:
        reason = f"{action}() calls {', '.join(teardown[:3])}()"
    elif is_drm and frees:
        reason = f"{action}() frees state of the drm device ({_tidy(arg)}) with {', '.join(frees)}()"
    else:
        return None
    fix = _needs(
        c, "drmm_add_action_or_reset", "register the action with drmm_add_action_or_reset() on the drm_device"
    )
    return Verdict(
        f"{data.get('call')}() runs at unbind, before the drm_device is released, and {reason}", fix
    )


def _unbound(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    source = data.get("source", "")
    if data.get("callee") and not _allocates_on(c, facts, m, data["callee"], data.get("parent", "")):
        return None  # the parent is handed to a call that does not allocate on it
    if source.startswith("platform_device"):
        bound = any(
            c.calls(facts.driver, n)
            for n in (
                "__platform_driver_register",
                "platform_driver_register",
                "platform_register_drivers",
                "module_platform_driver",
            )
        )
        name = _device_name(c, facts, data.get("parent", ""), source)
        if bound and name and not _driver_named(c, facts, name):
            bound = False  # the module's platform drivers bind other devices (rocket's cores)
        if bound:
            return None  # the module's own platform driver binds to it
    callee = data.get("callee", "")
    via = f" (handed to {callee}(), which calls devm_drm_dev_alloc() on it)" if callee else ""
    message = (f"the parent device comes from {source}(){via} and never has a driver bound: its devres "
               "is only released on its final put, which waits for the drm_device, which waits for "
               "devres, so nothing is ever freed")  # fmt: skip
    return Verdict(message, "none (report only): bind a driver to the parent (a platform device and driver), "
                            "or use drm_dev_alloc() with an explicit drm_dev_put()")  # fmt: skip


def _allocates_on(c: Classifier, facts: Facts, m: Match, callee: str, parent: str) -> bool:
    """Whether the module's function `callee`, called at `m` with `parent` as an argument,
    calls devm_drm_dev_alloc() on that parameter (`&pdev->dev`, or a local set to it)."""
    src, tree = c.source(m.file)
    call = next((x for x in cindex.calls(src, [callee], tree) if x.line == m.line), None)
    want = re.sub(r"\s+", "", parent)
    if call is None or want not in [re.sub(r"\s+", "", a) for a in call.args]:
        return False
    index = [re.sub(r"\s+", "", a) for a in call.args].index(want)
    bodies, _ = c.functions(facts.driver)
    body = bodies.get(callee, b"").decode(errors="replace")
    head = re.match(rf"[^(]*\b{re.escape(callee)}\s*\(([^)]*)\)", body, re.S)
    params = [re.findall(r"(\w+)\s*$", x.strip()) for x in head.group(1).split(",")] if head else []
    if index >= len(params) or not params[index]:
        return False
    param = params[index][0]
    devs = {param, f"&{param}->dev"}
    for local in re.findall(rf"\b(\w+)\s*=\s*&\s*{param}\s*->\s*dev\s*;", body):
        devs.add(local)
    for hit in re.finditer(r"\b(?:__)?devm_drm_dev_alloc\s*\(\s*([^,]+),", body):
        if re.sub(r"\s+", "", hit.group(1)) in devs:
            return True
    return False


def _device_name(c: Classifier, facts: Facts, parent: str, source: str) -> str:
    """The name string a platform device is registered with (`"rknn"`), "" when the call
    does not take it first."""
    if source not in ("platform_device_register_simple", "platform_device_register_data",
                      "platform_device_register_resndata", "platform_device_alloc"):  # fmt: skip
        return ""
    first = 1 if source == "platform_device_register_resndata" else 0
    for f in facts.driver.module.files:
        text = c.data(f).decode(errors="replace")
        hit = re.search(rf"\b{re.escape(parent.strip())}\s*=\s*{source}\s*\(((?:[^,()]*,){{{first}}})\s*"
                        r'("[^"]*")', text)  # fmt: skip
        if hit:
            return hit.group(2)
    return ""


def _driver_named(c: Classifier, facts: Facts, name: str) -> bool:
    """Whether a driver or a platform_device_id table of the module carries `name` (how a
    platform device without a firmware node finds its driver)."""
    pattern = re.compile(rf"\.name\s*=\s*{re.escape(name)}|\{{\s*{re.escape(name)}\s*[,}}]")
    for f in facts.driver.module.files:
        text = c.data(f).decode(errors="replace")
        blocks = re.finditer(r"struct\s+(platform_driver|platform_device_id)\s+\w+(\[\])?\s*=\s*"
                             r"\{(.*?)\n\}\s*;", text, re.S)  # fmt: skip
        for block in blocks:
            if pattern.search(block.group(3)):
                return True
    return False


def _hw_access(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    found = guard_decider.hw_verdict(c, facts, data.get("fn", ""))
    if found is None:
        return None
    message, fix, file, line = found
    return Verdict(message, fix, (("entry", data.get("fn", "")),), file, line)


def _unplug(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    found = guard_decider.unplug_verdict(c, facts, m.file, m.line, c.function_at(m.file, m.line))
    return None if found is None else Verdict(*found)


# unmanaged init -> (mode object kind, index of its funcs-table argument; -1: none)
_OBJECT_INITS = {
    "drm_crtc_init_with_planes": ("CRTC", 4),
    "drm_universal_plane_init": ("plane", 3),
    "drm_encoder_init": ("encoder", 2),
    "drm_simple_encoder_init": ("encoder", -1),
    "drm_connector_init": ("connector", 2),
    "drm_connector_init_with_ddc": ("connector", 2),
    "drm_writeback_connector_init": ("writeback connector", 2),
}
_OBJECT_CLEANUP = {
    "CRTC": "drm_crtc_cleanup",
    "plane": "drm_plane_cleanup",
    "encoder": "drm_encoder_cleanup",
    "connector": "drm_connector_cleanup",
    "writeback connector": "drm_connector_cleanup",
}
_PLAIN_ALLOCS = ("kzalloc", "kmalloc", "kcalloc", "kmalloc_array", "kmemdup", "kzalloc_obj", "kmalloc_obj")
_HAND_FREES = ("kfree", "kvfree", "kfree_sensitive")


def _object_memory(c: Classifier, m: Match, call: cindex.Call) -> tuple[str, str]:
    """(the allocation call of the object's memory in the init's function, the variable
    holding it); ("", root) when that function does not allocate it."""
    obj = call.args[1] if len(call.args) > 1 else ""
    root = re.match(r"[&(\s]*(\w+)", obj)
    if root is None:
        return "", ""
    names = [root.group(1)]
    src, tree = c.source(m.file)
    fn = cindex.function_node_at(tree.root_node, call.line)
    body = src[fn.start_byte : fn.end_byte].decode(errors="replace") if fn is not None else ""
    alias = re.search(rf"\b{names[0]}\s*=\s*&\s*\(?\s*(\w+)\s*(?:->|\.)", body)
    if alias:  # `encoder = &priv->base;` before the init
        names.append(alias.group(1))
    allocs = [*_PLAIN_ALLOCS, *DRMM_OF, *DRMM_OF.values(), "devm_kmemdup"]
    for a in cindex.calls(src, allocs, tree):
        if a.function == call.function and a.line < call.line:
            target = re.match(r"[(\s]*(\w+)", a.assigned_to)
            if target and target.group(1) in names and "->" not in a.assigned_to and "." not in a.assigned_to:
                return a.name, target.group(1)
    return "", names[-1]


def _funcs_hook(c: Classifier, facts: Facts, funcs: str) -> str:
    """The `.destroy` of the named funcs table(s) (each of `cond ? &a : &b`), "" for none."""
    for table in re.findall(r"&?\s*(\w+)", funcs):
        for file in facts.driver.module.files:
            text = c.data(file).decode(errors="replace")
            found = re.search(rf"\b{table}\s*=\s*\{{(.*?)\n\}};", text, re.S)
            if found:
                hook = re.search(r"\.destroy\s*=\s*(\w+)", found.group(1))
                if hook:
                    return hook.group(1)
    return ""


def _object_fix(c: Classifier, kind: str, simple: bool) -> str:
    """The drmm_ allocator or init that replaces the hand-written lifetime ("" when the tree
    declares none)."""
    allocators = {"CRTC": ["drmm_crtc_alloc_with_planes"], "plane": ["drmm_universal_plane_alloc"],
                  "encoder": ["drmm_simple_encoder_alloc", "drmm_encoder_alloc"] if simple
                  else ["drmm_encoder_alloc"]}  # fmt: skip
    for helper in allocators.get(kind, []):
        if c.api(helper):
            return f"allocate with {helper}()"
    inits = {
        "CRTC": "drmm_crtc_init_with_planes",
        "encoder": "drmm_encoder_init",
        "connector": "drmm_connector_init",
        "writeback connector": "drmm_writeback_connector_init",
    }
    init = inits.get(kind)
    if init and c.api(init) and c.api("drmm_kzalloc"):
        return f"allocate with drmm_kzalloc() and initialise with {init}()"
    return ""


def _unmanaged_object(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    """A mode object whose memory the driver frees by hand: kzalloc() memory freed in the
    funcs table's .destroy hook, or by a kfree() elsewhere in the module, in a tree that
    declares the drmm_ helper.  devm_ memory is devm-mode-object's; drm-lifetime memory
    (drmm_, the private struct) with a hook that only cleans up is right as it is."""
    name = data.get("call", "")
    if name not in _OBJECT_INITS:
        return None
    kind, slot = _OBJECT_INITS[name]
    src, tree = c.source(m.file)
    call = next((x for x in cindex.calls(src, [name], tree) if x.line == m.line), None)
    if call is None or len(call.args) < 2:
        return None
    alloc, var = _object_memory(c, m, call)
    if alloc.startswith(("devm_", "drmm_")):
        return None  # devm-mode-object's, or drm-lifetime memory
    funcs = call.args[slot] if 0 <= slot < len(call.args) else ""
    hook = _funcs_hook(c, facts, funcs) if funcs else ""
    # a funcs table with .destroy alone is a simple encoder's (drmm_simple_encoder_alloc())
    simple = name == "drm_simple_encoder_init" or (
        kind == "encoder" and bool(hook) and _only_destroy(c, facts, funcs)
    )
    fix = _object_fix(c, kind, simple)
    if not fix:
        return None  # the tree declares no drmm_ counterpart
    cleanup = _OBJECT_CLEANUP[kind]
    frees = False
    if hook and hook != cleanup:
        called = c.called_in_module(facts.driver, hook) or set()
        deeper = set(called)
        for n in called:
            deeper |= c.called_in_module(facts.driver, n) or set()
        frees = cleanup in deeper and bool(deeper & set(_HAND_FREES))
    memory = f"{alloc}() memory" if alloc else "memory the driver allocates itself"
    what = ("an " if kind[0] in "aeiou" else "a ") + kind
    if frees:
        if not alloc and var and _is_drm_lifetime(c, facts, m, var):
            return None  # the hook frees a part of the drm device: not this rule's shape
        message = f"{what} in {memory}, cleaned up and freed by hand in its .destroy hook {hook}()"
        cleanups = c.calls(facts.driver, "drm_mode_config_cleanup")
        manual = sorted({x.function + "()" for x in cleanups if x.function})
        if manual:
            message += (f"; the driver calls drm_mode_config_cleanup() itself (in {', '.join(manual)}), "
                        "and the hook runs then, not at the drm_device's release")  # fmt: skip
        else:
            message += (", which is right only while the mode config is cleaned up at the drm_device's "
                        "release; the drmm_ helper makes it so by construction")  # fmt: skip
    elif alloc:
        where = _freed_elsewhere(c, facts, m, var, call.function, hook)
        if not where:
            return None
        message = (f"{what} in {alloc}() memory freed with kfree() in {where}(), outside its cleanup hook: "
                   "the drm_device links the object until drm_mode_config_cleanup() runs")  # fmt: skip
    else:
        return None
    drop = f"; drop .destroy = {hook} from the funcs table (drmm_ objects must not have one)" if hook else ""
    detail = (("kind", kind), ("hook", hook), ("alloc", alloc))
    return Verdict(message + _how(facts), fix + drop, detail)


def _only_destroy(c: Classifier, facts: Facts, funcs: str) -> bool:
    table = re.fullmatch(r"&?\s*(\w+)", funcs.strip())
    for file in facts.driver.module.files if table else ():
        text = c.data(file).decode(errors="replace")
        found = re.search(rf"\b{table.group(1)}\s*=\s*\{{(.*?)\n\}};", text, re.S)  # type: ignore[union-attr]
        if found:
            return re.findall(r"\.(\w+)\s*=", found.group(1)) == ["destroy"]
    return False


def _is_drm_lifetime(c: Classifier, facts: Facts, m: Match, var: str) -> bool:
    ctype = c.resolver(facts.index, m.file, m.line).type_of(var)
    return ctype.known and (ctype.name == "struct drm_device" or ctype.name in facts.private)


def _freed_elsewhere(c: Classifier, facts: Facts, m: Match, var: str, init_fn: str, hook: str) -> str:
    """A function of the module's removal path (.remove/.unbind and what they call; not the
    init's, whose kfree() unwinds errors, nor the hook) that kfree()s memory of the type
    `var` has at the init.  A kfree() in another init's error path or in a hook's helper
    is not the removal freeing this object."""
    ctype = c.resolver(facts.index, m.file, m.line).type_of(var)
    if not ctype.known or ctype.name == "struct drm_device" or ctype.name in facts.private:
        return ""
    removal = guards.analyse(c, facts).removal()
    for file in facts.driver.module.files:
        if b"kfree" not in c.data(file):
            continue
        src, tree = c.source(file)
        for x in cindex.calls(src, ["kfree"], tree):
            if x.function in (init_fn, hook, "") or x.function not in removal or not x.args:
                continue
            t = c.resolver(facts.index, file, x.line).type_of(x.args[0])
            if t.known and t.name == ctype.name and t.pointer == ctype.pointer:
                return x.function
    return ""


_DECIDERS: dict[str, Callable[[Classifier, Facts, Match, dict[str, str]], Verdict | None]] = {
    "devm-mode-object": _mode_object,
    "devm-drm-private": _drm_private,
    "devm-drm-memory": _drm_memory,
    "unmanaged-mode-config": _mode_config,
    "unmanaged-mutex": _mutex,
    "devm-action-on-drm": _devm_action,
    "unbound-parent": _unbound,
    "unguarded-hw-access": _hw_access,
    "unregister-without-unplug": _unplug,
    "unmanaged-mode-object": _unmanaged_object,
}
