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
from collections import OrderedDict
from collections.abc import Callable

import tree_sitter

from refactor.classify import guards, lifetime
from refactor.classify.facts import Facts
from refactor.cocci.results import Match
from refactor.csrc import cindex, structs
from refactor.csrc.structs import CType, Resolver, StructIndex, member_of
from refactor.model.tree import Driver, TreeModel, read_source

# The trees kept, by the bytes of their sources: a tree takes about 20 times its source's
# memory, and a whole-tree sweep reads some 150 MB of source; the sweep classifies a driver
# at a time, so the trees of the driver at hand are what is asked for again.
SOURCES_BYTES = 24 << 20


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
        self._sources: OrderedDict[str, tuple[bytes, tree_sitter.Tree]] = OrderedDict()
        self._sources_size = 0  # bytes of source whose trees _sources holds
        self._spans: dict[str, list[tuple[int, int, str]]] = {}
        self._facts: dict[str, Facts] = {}
        self._core: StructIndex | None = None
        self._calls: dict[tuple[str, str], list[cindex.Call]] = {}
        self._file_calls: dict[tuple[str, tuple[str, ...]], tuple[cindex.Call, ...]] = {}
        self._definitions: dict[str, tuple[cindex.Definition, ...]] = {}
        self._tables: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
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
        self._asked(rel)
        hit = self._sources.get(rel)
        if hit is not None:
            self._sources.move_to_end(rel)
            return hit
        data = self.data(rel)
        hit = self._sources[rel] = (data, cindex.parse(data))
        self._sources_size += len(data)
        while self._sources_size > SOURCES_BYTES and len(self._sources) > 1:
            self._sources_size -= len(self._sources.popitem(last=False)[1][0])
        return hit

    def tree(self, rel: str) -> tree_sitter.Tree:
        """A file's tree-sitter tree (`source()`'s)."""
        return self.source(rel)[1]

    def file_calls(self, rel: str, names: tuple[str, ...]) -> tuple[cindex.Call, ...]:
        """`cindex.calls()` of `names` in `rel`, on its parsed tree, once per sweep (the
        planner and the deciders ask the same question once per finding)."""
        key = (rel, names)
        self._asked(rel)
        if key not in self._file_calls:
            data = self.data(rel)
            wanted = any(n.encode() in data for n in names)  # cindex.calls' own test, before parsing
            self._file_calls[key] = tuple(cindex.calls(data, names, self.source(rel)[1])) if wanted else ()
        return self._file_calls[key]

    def definitions(self, rel: str) -> tuple[cindex.Definition, ...]:
        """`cindex.definitions()` of `rel`, on its parsed tree, once per sweep."""
        self._asked(rel)
        if rel not in self._definitions:
            self._definitions[rel] = tuple(cindex.definitions(*self.source(rel)))
        return self._definitions[rel]

    def mentions(self, driver: Driver, name: str) -> int:
        """How many times the driver's module files name `name` (`\\bname\\b`; a file
        without its bytes is not decoded)."""
        return sum(len(re.findall(rf"\b{name}\b", self.data(x).decode(errors="replace")))
                   for x in driver.module.files if cindex.may_name(name, self.data(x)))  # fmt: skip

    def tables(self, driver: Driver, name: str) -> tuple[tuple[str, str], ...]:
        """(file, text between the braces) of the first `name = { ... };` initialiser (an ops
        table) in each of the driver's module files that has one, in the module's order;
        once per sweep."""
        key = (driver.module.path, name)
        if key not in self._tables:
            pattern = re.compile(rf"\b{name}\s*=\s*\{{(.*?)\n\}};", re.S)
            found = []
            for rel in driver.module.files:
                if not cindex.may_name(name, self.data(rel)):
                    continue
                m = pattern.search(self.data(rel).decode(errors="replace"))
                if m:
                    found.append((rel, m.group(1)))
            self._tables[key] = tuple(found)
        for rel in driver.module.files:  # the files the answer depends on
            self._asked(rel)
        return self._tables[key]

    def decls(self, rel: str) -> structs.FileDecls:
        self._asked(rel)
        if rel not in self._decls:
            found = self._memo(rel) if self._memo else None
            if found is None:  # parsed here, the tree kept for the other questions on the file
                data, tree = self.source(rel)
                found = structs.declarations(data, rel, tree)
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
            # (a file of this driver's own module stays even when another module builds it too:
            # xe compiles i915's display files, whose locks the planner must find for i915)
            others = {f for d in self.model.drivers if d.module.path != key and d.role != "component"
                      and driver.role != "component" for f in d.module.files}  # fmt: skip
            others -= set(driver.module.files)
            files = {}
            for d in sorted({os.path.dirname(f) for f in driver.module.files}):
                try:
                    names = sorted(p.name for p in (self.root / d).iterdir() if p.suffix in (".c", ".h"))
                except OSError:
                    names = []
                files.update({f"{d}/{n}": self.data(f"{d}/{n}") for n in names if f"{d}/{n}" not in others})
            self._lifetimes[key] = lifetime.Module(files, self.core_index(), self)
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
