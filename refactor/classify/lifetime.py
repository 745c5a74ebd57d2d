"""The lifetime model of a driver's source: where its mode objects, locks and structs live.

Built from the texts of a driver's files (every .c and .h of its module directories, so
that the components of a component driver are included) with tree-sitter, and shared by
the patch planner and the semantic verification stage: both ask the same questions (does
every mode object live in drm-lifetime memory, which struct holds a lock, what frees a
struct), the planner of the tree as it is, the checks of the tree before and after a
patch.  Answers are conservative: what cannot be told is reported as "unknown".
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import tree_sitter

from refactor.csrc import cindex, structs
from refactor.csrc.structs import Resolver, StructIndex

# unmanaged mode-object init -> (kind, index of the object argument, index of the funcs argument)
UNMANAGED_INITS: dict[str, tuple[str, int, int]] = {
    "drm_crtc_init_with_planes": ("CRTC", 1, 4),
    "drm_crtc_init": ("CRTC", 1, 3),
    "drm_universal_plane_init": ("plane", 1, 3),
    "drm_plane_init": ("plane", 1, 3),
    "drm_encoder_init": ("encoder", 1, 2),
    "drm_simple_encoder_init": ("encoder", 1, -1),
    "drm_connector_init": ("connector", 1, 2),
    "drm_connector_init_with_ddc": ("connector", 1, 2),
    "drm_writeback_connector_init": ("writeback connector", 1, 2),
    "drm_atomic_private_obj_init": ("private object", 1, -1),
    "drm_simple_display_pipe_init": ("display pipe", 1, -1),
}
# what a `.destroy` that only cleans up calls, per kind
CLEANUP_OF = {
    "CRTC": "drm_crtc_cleanup",
    "plane": "drm_plane_cleanup",
    "encoder": "drm_encoder_cleanup",
    "connector": "drm_connector_cleanup",
    "writeback connector": "drm_connector_cleanup",
}
ALLOC_KIND = {
    **{f: "drmm" for f in ("drmm_kzalloc", "drmm_kmalloc", "drmm_kcalloc", "drmm_kmalloc_array")},
    **{f: "devm" for f in ("devm_kzalloc", "devm_kmalloc", "devm_kcalloc", "devm_kmalloc_array")},
    # kzalloc_obj()/kmalloc_obj(): Linux 7.x's typed forms of kzalloc()/kmalloc()
    **{
        f: "kmalloc"
        for f in (
            "kzalloc",
            "kmalloc",
            "kcalloc",
            "kmalloc_array",
            "kvzalloc",
            "kvmalloc",
            "kzalloc_obj",
            "kmalloc_obj",
        )
    },
}
FREES = ("kfree", "kvfree", "kfree_sensitive", "devm_kfree", "drmm_kfree")
MUTEX_INITS = ("mutex_init", "drmm_mutex_init", "devm_mutex_init")
_DEVM_ACTIONS = ("devm_add_action", "devm_add_action_or_reset")
_DRMM_ACTIONS = ("drmm_add_action", "drmm_add_action_or_reset")
# the ops fields of a removal path (platform/pci .remove, component .unbind, drm .unload)
REMOVAL_FIELDS = frozenset({"remove", "remove_new", "unbind", "unload"})
# ... and the names of such functions when the table is out of sight (a bus glue file)
_REMOVAL_NAME = re.compile(r"_(remove|unbind|unload)$")
# callers followed up from a function to the hook it runs from (amdgpu's sw_fini is four
# calls below its drm_driver.release hook)
_CALLER_DEPTH = 5


@dataclass(frozen=True)
class Site:
    file: str
    line: int
    function: str
    code: str  # the normalised text of the call


@dataclass(frozen=True)
class ModeObject:
    """A mode object initialised with an unmanaged drm_*_init()."""

    kind: str
    site: Site
    expr: str  # the object argument as written
    struct: str  # the allocated struct it lives in ("" when unknown)
    memory: str  # drm-device, drmm, devm, kmalloc, unknown
    destroy: str  # the funcs table's .destroy hook, "" when none

    def describe(self) -> str:
        where = f" in {self.struct}" if self.struct else ""
        return f"the {self.kind} {self.expr.lstrip('&')}{where} ({self.site.file}:{self.site.line})"


@dataclass(frozen=True)
class Cleanup:
    """A drm_mode_config_cleanup() call and the path it is on."""

    site: Site
    path: str  # release, unload, devm-action, error, removal, unknown (no root in sight reaches it)

    def where(self) -> str:
        return {
            "unload": f"the legacy .unload hook {self.site.function}(), run by drm_dev_unregister()",
            "devm-action": f"the devm action {self.site.function}(), run at unbind",
            "error": f"the error path of {self.site.function}()",
            "removal": f"{self.site.function}() on the removal path",
        }.get(self.path, f"{self.site.function}()")


@dataclass(frozen=True)
class Lock:
    call: str  # mutex_init, drmm_mutex_init, devm_mutex_init
    site: Site
    lock: str  # the lock expression without &
    struct: str  # the struct holding it ("" when unknown)
    container: str  # the expression of the holding object


# The trees a Module parsing its own files keeps, by the bytes of their sources (the
# semantic stage holds a driver's before and after models across its checks).
TREES_BYTES = 1 << 20


class Parsed(Protocol):
    """Where a Module gets a file's declarations and tree when it does not parse them itself
    (classify's Classifier, named here so that this module does not import it)."""

    def decls(self, rel: str) -> structs.FileDecls: ...

    def tree(self, rel: str) -> tree_sitter.Tree: ...


class Module:
    """A driver's files (relative path -> bytes), parsed once."""

    def __init__(self, files: Mapping[str, bytes], index: StructIndex | None = None,
                 parsed: Parsed | None = None) -> None:  # fmt: skip
        """`parsed`, when given, gives the declarations and the tree of a file of `files`
        (the sweep's, parsed once for every question); else each file is parsed here."""
        self.files = dict(files)
        self.index = StructIndex(dict(index.structs), dict(index.typedefs), dict(index.returns), {}) if (
            index is not None) else StructIndex()  # fmt: skip
        self._parsed = parsed
        for rel, data in sorted(self.files.items()):
            self.index.add(parsed.decls(rel) if parsed else structs.declarations(data, rel), rel)
        self._trees: OrderedDict[str, tree_sitter.Tree] = OrderedDict()  # the last parsed, by rel
        self._trees_size = 0  # bytes of source whose trees _trees holds
        self._calls: dict[tuple[str, ...], list[tuple[str, cindex.Call]]] = {}
        self._texts: dict[str, str] = {}
        self._destroy: dict[str, str] = {}

    # -- parsing --------------------------------------------------------------------------
    def tree(self, rel: str) -> tree_sitter.Tree:
        if self._parsed is not None:
            return self._parsed.tree(rel)
        tree = self._trees.get(rel)
        if tree is not None:
            self._trees.move_to_end(rel)
            return tree
        tree = self._trees[rel] = cindex.parse(self.files[rel])
        self._trees_size += len(self.files[rel])
        while self._trees_size > TREES_BYTES and len(self._trees) > 1:  # a tree is ~20x its source
            self._trees_size -= len(self.files[self._trees.popitem(last=False)[0]])
        return tree

    def calls(self, names: Iterable[str]) -> list[tuple[str, cindex.Call]]:
        """(file, call) of every call of `names` in the module's files, by file; once per
        set of names (the planner asks for the same calls once per finding)."""
        wanted = tuple(names)
        if wanted not in self._calls:
            out = []
            for rel in sorted(self.files):
                if rel.endswith((".c", ".h")) and any(n.encode() in self.files[rel] for n in wanted):
                    out += [(rel, c) for c in cindex.calls(self.files[rel], wanted, self.tree(rel))]
            self._calls[wanted] = out
        return list(self._calls[wanted])

    def site(self, rel: str, call: cindex.Call) -> Site:
        return Site(rel, call.line, call.function, f"{call.name}({', '.join(call.args)})")

    def resolver(self, rel: str, line: int) -> Resolver:
        return Resolver(self.index, structs.local_types(self.files[rel], self.tree(rel), line), rel)

    def struct_of(self, rel: str, line: int, expr: str) -> str:
        """The struct an expression points to or is (canonical name), "" when unknown."""
        t = self.resolver(rel, line).type_of(expr)
        return self.index.canonical(t.name) if t.known and t.name.startswith("struct") else ""

    def text(self, rel: str) -> str:
        if rel not in self._texts:
            self._texts[rel] = self.files[rel].decode(errors="replace")
        return self._texts[rel]

    # -- structs and their memory ---------------------------------------------------------
    @cached_property
    def allocations(self) -> dict[str, frozenset[str]]:
        """struct -> how the driver allocates it: drm-device (the struct that embeds the
        drm_device), drmm, devm, kmalloc."""
        out: dict[str, set[str]] = {}
        for name, s in self.index.structs.items():
            if any(f.type == "struct drm_device" and not f.pointer for f in s.fields):
                out.setdefault(name, set()).add("drm-device")
        for rel, call in self.calls(ALLOC_KIND):
            if not call.assigned_to:
                continue
            struct = self.struct_of(rel, call.line, call.assigned_to)
            if struct:
                out.setdefault(struct, set()).add(ALLOC_KIND[call.name])
        return {k: frozenset(v) for k, v in out.items()}

    def memory_of(self, struct: str, depth: int = 0) -> str:
        """How the memory of `struct` is allocated; a struct the driver never allocates on
        its own lives where the structs embedding it by value live (vkms_output inside
        vkms_device)."""
        kinds = set(self.allocations.get(struct, frozenset()))
        if not kinds and depth < 3 and struct.startswith("struct "):
            for name, s in self.index.structs.items():
                embeds = [f for f in s.fields if f.pointer == 0 and not f.function]
                if name != struct and any(self.index.canonical(f.type) == struct for f in embeds):
                    kinds.add(self.memory_of(name, depth + 1))
        for k in ("devm", "kmalloc", "drmm", "drm-device"):  # the shortest-lived wins
            if k in kinds:
                return k
        return "unknown"

    def base(self, rel: str, line: int, expr: str) -> tuple[str, str]:
        """(expression of the allocated object, its struct) holding the object `expr`
        names: `&p->a.b` -> p; a pointer variable set from `&p->a` in the same function
        -> p; a pointer to a struct -> itself."""
        e = " ".join(expr.split()).lstrip("&").strip()
        if re.fullmatch(r"\w+", e):
            fn = cindex.function_node_at(self.tree(rel).root_node, line)
            body = self.files[rel][fn.start_byte : fn.end_byte].decode(errors="replace") if fn else ""
            m = re.search(rf"\b{e}\s*=\s*&\s*([\w\[\]]+(?:\s*(?:->|\.)\s*[\w\[\]]+)+)\s*;", body)
            if m:
                e = m.group(1)
            else:
                return e, self.struct_of(rel, line, e)
        m = re.match(r"^(\w+(?:\[[^\]]*\])?)\s*(->|\.)", e)
        if not m:
            return e, ""
        root = m.group(1)
        if m.group(2) == ".":  # a struct by value: a local or global, not allocated memory
            return root, ""
        return root, self.struct_of(rel, line, root)

    # -- mode objects and the mode config -------------------------------------------------
    @cached_property
    def mode_objects(self) -> tuple[ModeObject, ...]:
        out = []
        for rel, call in self.calls(UNMANAGED_INITS):
            kind, obj, funcs = UNMANAGED_INITS[call.name]
            if len(call.args) <= obj or not call.function:
                continue
            _, struct = self.base(rel, call.line, call.args[obj])
            if struct.startswith("struct drm_"):  # a bare object: where its callers' live
                struct = self._passed_in(rel, call, call.args[obj]) or struct
            table = call.args[funcs].lstrip("&").strip() if 0 <= funcs < len(call.args) else ""
            memory = self.memory_of(struct) if struct else "unknown"
            out.append(ModeObject(kind, self.site(rel, call), call.args[obj], struct, memory,
                                  self.destroy_hook(table)))  # fmt: skip
        return tuple(out)

    def _passed_in(self, rel: str, call: cindex.Call, arg: str) -> str:
        """The struct holding the object a parameter `arg` of the init's function points to,
        when every caller in the module passes a member of the same struct (vkms_crtc_init()
        gets `&output->crtc`), "" otherwise."""
        name = " ".join(arg.split()).lstrip("&").strip()
        fn = cindex.function_node_at(self.tree(rel).root_node, call.line)
        decl = fn.child_by_field_name("declarator") if fn is not None else None
        params = decl.child_by_field_name("parameters") if decl is not None else None
        names = [self.files[rel][p.start_byte : p.end_byte].decode(errors="replace") for p in
                 (params.named_children if params is not None else [])]  # fmt: skip
        index = next((i for i, t in enumerate(names) if re.search(rf"\b{name}\s*$", t)), -1)
        if index < 0 or not re.fullmatch(r"\w+", name):
            return ""
        found = set()
        for orel, caller in self.calls([call.function]):
            if len(caller.args) <= index or not caller.function:
                return ""
            found.add(self.base(orel, caller.line, caller.args[index])[1])
        one = found.pop() if len(found) == 1 else ""
        return "" if one.startswith("struct drm_") else one

    def destroy_hook(self, table: str) -> str:
        if not re.fullmatch(r"\w+", table):
            return ""
        if table not in self._destroy:
            self._destroy[table] = ""
            for rel in sorted(self.files):
                if table.encode() not in self.files[rel]:  # the pattern's name: nothing to decode
                    continue
                m = re.search(rf"\b{table}\s*=\s*\{{(.*?)\n\}};", self.text(rel), re.S)
                if m:
                    d = re.search(r"\.destroy\s*=\s*(\w+)", m.group(1))
                    self._destroy[table] = d.group(1) if d else ""
                    break
        return self._destroy[table]

    def blocker(self, obj: ModeObject) -> str:
        """Why `obj` keeps the driver from dropping its manual drm_mode_config_cleanup()
        (the automatic one runs at the final drm_dev_put()), "" when nothing does."""
        what = obj.describe()
        if obj.memory == "drm-device":
            if obj.destroy and obj.destroy != CLEANUP_OF.get(obj.kind):
                return f"{what} has a .destroy hook, {obj.destroy}(), that does more than clean up"
            return ""
        if obj.memory == "devm":
            return f"{what} lives in devm_ memory, freed at unbind"
        if obj.memory == "kmalloc":
            return f"{what} lives in kmalloc'd memory the driver frees itself"
        if obj.memory == "drmm":
            return (f"{what} lives in drmm_ memory but its init is unmanaged: the memory is released "
                    "before the mode config that links it")  # fmt: skip
        return f"the tool cannot tell where the memory of {what} comes from"

    @cached_property
    def tables(self) -> dict[str, set[str]]:
        """hook name -> the ops-table fields it is assigned to (`.release`, `.unload`)."""
        out: dict[str, set[str]] = {}
        for rel in sorted(self.files):
            for m in re.finditer(r"\.(\w+)\s*=\s*&?(\w+)\s*[,}\n]", self.text(rel)):
                out.setdefault(m.group(2), set()).add(m.group(1))
        return out

    def actions(self, names: Iterable[str]) -> set[str]:
        """Functions registered with the given action helpers (the second argument)."""
        return {c.args[1].lstrip("&").strip() for _, c in self.calls(names) if len(c.args) > 1}

    @cached_property
    def callers(self) -> dict[str, frozenset[str]]:
        """function -> the module's functions that call it: by name, or through an ops
        table (a function placed in `.sw_fini` is called by every `->sw_fini(` / `.sw_fini(`)."""
        direct: dict[str, set[str]] = {}
        through: dict[str, set[str]] = {}  # ops field -> the functions that call ->field()
        for rel in sorted(self.files):
            if not rel.endswith((".c", ".h")):
                continue
            data, tree = self.files[rel], self.tree(rel)
            for caller, names in cindex.called_by_function(data, tree).items():
                for n in names:
                    direct.setdefault(n, set()).add(caller)
            for start, end, name in cindex.function_spans(data, tree):
                body = b"\n".join(data.splitlines()[start - 1 : end])
                for field in set(re.findall(rb"(?:->|\.)\s*(\w+)\s*\(", body)):
                    through.setdefault(field.decode(), set()).add(name)
        out = {k: set(v) for k, v in direct.items()}
        for fn, fields in self.tables.items():
            for f in fields:
                if f in through:
                    out.setdefault(fn, set()).update(through[f])
        return {k: frozenset(v - {k}) for k, v in out.items()}

    def only_from(self, function: str, roots: set[str], depth: int = _CALLER_DEPTH) -> bool:
        """Whether `function` is one of `roots`, or is called (through at most `depth` levels
        of the module's functions) only from them: every caller runs only from a root."""
        memo: dict[str, bool] = {}

        def walk(name: str, left: int, seen: frozenset[str]) -> bool:
            if name in roots:
                return True
            if name in memo:
                return memo[name]
            up = self.callers.get(name, frozenset()) - seen
            ok = left > 0 and bool(up) and all(walk(u, left - 1, seen | {name}) for u in up)
            memo[name] = ok
            return ok

        return walk(function, depth, frozenset())

    def drm_release_hook(self) -> str:
        """The `.release` hook of the driver's struct drm_driver, "" when it has none."""
        for rel in sorted(self.files):
            for table in re.finditer(r"struct drm_driver\s+\w+\s*=\s*\{(.*?)\n\};", self.text(rel), re.S):
                hook = re.search(r"\.release\s*=\s*&?(\w+)", table.group(1))
                if hook:
                    return hook.group(1)
        return ""

    @cached_property
    def release_roots(self) -> set[str]:
        """Functions that run at the drm_device's final put: `.release` hooks and drmm_ actions."""
        named = {fn for fn, fields in self.tables.items() if "release" in fields}
        return named | self.actions(_DRMM_ACTIONS)

    @cached_property
    def cleanups(self) -> tuple[Cleanup, ...]:
        """Every drm_mode_config_cleanup() call of the module, with the path it is on; a
        function called only from a release hook (through the module's functions and ops
        tables: amdgpu's .release -> fini_sw -> ip_fini -> ->sw_fini) runs at release."""
        release = self.release_roots
        devm = self.actions(_DEVM_ACTIONS)
        out = []
        for rel, call in self.calls(["drm_mode_config_cleanup"]):
            fields = self.tables.get(call.function, set())
            if call.function in release or self.only_from(call.function, release):
                path = "release"
            elif "unload" in fields:
                path = "unload"
            elif call.function in devm:
                path = "devm-action"
            elif self._on_error_path(rel, call.line):
                path = "error"
            elif call.function in self._removal_reach:
                path = "removal"
            else:
                path = "unknown"
            out.append(Cleanup(self.site(rel, call), path))
        return tuple(out)

    @cached_property
    def _removal_reach(self) -> set[str]:
        """The functions a removal root reaches (.remove, .unbind, .unload, or a function named
        so where the table is out of sight), `_CALLER_DEPTH` calls down: a cleanup elsewhere
        (a selftest's mock device, a .shutdown hook) is not asserted to run at removal."""
        named = set(self.callers) | set(self.callees)
        roots = {fn for fn, fields in self.tables.items() if fields & REMOVAL_FIELDS}
        roots |= {fn for fn in named if _REMOVAL_NAME.search(fn)}
        return self._reached(roots, _CALLER_DEPTH)

    @cached_property
    def removal_teardown(self) -> Cleanup | None:
        """The drm_mode_config_cleanup() that destroys every mode object on the removal path
        before devres releases their memory and hardware: a legacy .unload (run inside
        drm_dev_unregister()), or a call in a remove/unbind (or a helper it calls), so that
        the objects, and with them their hooks, are gone when unbind returns and the device's
        devres is released.  None when
        the driver has no such call (its objects outlive unbind).  A component_unbind_all()
        before the call (`unbinds_first()`) frees the components' bind-time memory before the
        objects are destroyed, but not their probe-time memory, nor the hooks' reach."""
        reached = self.removal_functions
        on_removal = [c for c in self.cleanups if c.path == "unload"
                      or (c.path == "removal" and c.site.function in reached)]  # fmt: skip
        if not on_removal:
            return None
        # the cleanup that comes first, when one does: before component_unbind_all()
        return next((c for c in on_removal if not self.unbinds_first(c)), on_removal[0])

    @cached_property
    def removal_functions(self) -> set[str]:
        """The removal hooks (.remove, .unbind, .unload; by name where the table is out of
        sight) and the module's functions they call, three levels down."""
        roots = {fn for fn, fields in self.tables.items() if fields & REMOVAL_FIELDS}
        roots |= {c.site.function for c in self.cleanups if _REMOVAL_NAME.search(c.site.function)}
        return self._reached(roots, 3)

    def unbinds_first(self, cleanup: Cleanup) -> bool:
        """Whether component_unbind_all() (which releases the components' bind-time devres
        groups) comes before `cleanup`: in its function, or in a removal caller before the call."""
        return self._unbound_before(cleanup, self.removal_functions)

    @cached_property
    def callees(self) -> dict[str, frozenset[str]]:
        """function -> the module's functions it calls (`callers` turned round)."""
        out: dict[str, set[str]] = {}
        for fn, ups in self.callers.items():
            for u in ups:
                out.setdefault(u, set()).add(fn)
        return {k: frozenset(v) for k, v in out.items()}

    def _reached(self, roots: set[str], depth: int) -> set[str]:
        """`roots` and the module's functions they call, `depth` levels down."""
        out, todo = set(roots), [(r, depth) for r in roots]
        while todo:
            name, left = todo.pop()
            for n in self.callees.get(name, frozenset()) if left else ():
                if n not in out:
                    out.add(n)
                    todo.append((n, left - 1))
        return out

    def _unbound_before(self, cleanup: Cleanup, reached: set[str]) -> bool:
        """Whether component_unbind_all() (which releases the components' devres groups)
        comes before the cleanup: in its function, or in a removal caller before the call."""
        unbinds = [(r, u.function, u.line) for r, u in self.calls(["component_unbind_all"])]

        def before(rel: str, function: str, line: int) -> bool:
            return any(r == rel and f == function and n < line for r, f, n in unbinds)

        if before(cleanup.site.file, cleanup.site.function, cleanup.site.line):
            return True
        return any(call.function in reached and before(rel, call.function, call.line)
                   for rel, call in self.calls([cleanup.site.function]))  # fmt: skip

    def _on_error_path(self, rel: str, line: int) -> bool:
        """Below a label, or inside an `if` branch that returns, of a function that sets
        the mode config or the drm device up (a probe, bind or load)."""
        fn = cindex.function_node_at(self.tree(rel).root_node, line)
        if fn is None:
            return False
        body = self.files[rel][fn.start_byte : fn.end_byte]
        if not re.search(rb"\b(drm_dev_register|drmm?_mode_config_init|\w+_init)\s*\(", body):
            return False
        for node in cindex.walk(fn):
            if node.start_point[0] + 1 > line:
                break
            if node.type == "labeled_statement" and node.start_point[0] + 1 <= line:
                return True
            if node.type == "if_statement":
                cons = node.child_by_field_name("consequence")
                if cons is not None and cons.start_point[0] + 1 <= line <= cons.end_point[0] + 1:
                    return b"return" in self.files[rel][cons.start_byte : cons.end_byte]
        return False

    # -- locks and frees ------------------------------------------------------------------
    @cached_property
    def locks(self) -> tuple[Lock, ...]:
        out = []
        for rel, call in self.calls(MUTEX_INITS):
            arg = call.args[0] if call.name == "mutex_init" else (call.args[1] if len(call.args) > 1 else "")
            lock = " ".join(arg.split()).lstrip("&").strip()
            container, _ = structs.member_of(lock)
            struct = self.struct_of(rel, call.line, container) if container else ""
            out.append(Lock(call.name, self.site(rel, call), lock, struct, container))
        return tuple(out)

    @cached_property
    def frees(self) -> tuple[tuple[Site, str, str], ...]:
        """(site, freed expression, its struct) of every kfree/devm_kfree/drmm_kfree."""
        out = []
        for rel, call in self.calls(FREES):
            arg = call.args[-1] if call.args else ""
            out.append((self.site(rel, call), arg, self.struct_of(rel, call.line, arg) if arg else ""))
        return tuple(out)

    def line_of(self, rel: str, pattern: str) -> int:
        m = re.search(pattern, self.text(rel), re.M)
        return self.text(rel)[: m.start()].count("\n") + 1 if m else 0


def module_files(read: Mapping[str, bytes] | None, names: Iterable[str]) -> dict[str, bytes]:
    """The .c/.h files among `names` with their bytes from `read`."""
    return {n: read[n] for n in names if n.endswith((".c", ".h")) and read is not None and n in read}
