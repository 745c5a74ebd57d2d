"""Read Kbuild files: which source files make up which kernel module.

With the make evaluator of `makefile.py` (variables, references, the text functions
Kbuild files call), this module follows `include`s and conditionals.  Every
`CONFIG_` symbol is taken as enabled and both branches of every conditional are kept, so
a module's file list is the union over all configurations (what an allmodconfig sweep
needs); conditional parts remember the symbol they depend on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from refactor.model.makefile import MAX_DEPTH, Entry, Evaluator, Scope, logical_lines, pattern

SOURCE_SUFFIXES = (".c", ".S", ".rs")
_CONFIG = re.compile(r"\$[({](CONFIG_\w+)[)}]")
_ASSIGN = re.compile(r"^(?:export\s+|override\s+)?([^:#=+?!\s][^:#=+?!]*?)\s*(::=|:=|\+=|\?=|!=|=)\s*(.*)$")
_COND = re.compile(r"^(ifeq|ifneq|ifdef|ifndef)\b")
_INCLUDE = re.compile(r"^-?s?include\s+(.*)$")


@dataclass(frozen=True)
class Module:
    """A kernel module (or built-in object) as Kbuild defines it."""

    name: str  # "repaper"
    path: str  # "drivers/gpu/drm/tiny/repaper.o", relative to the tree root
    config: str  # "CONFIG_DRM_REPAPER", or "y"/"m" when unconditional
    makefile: str  # the Kbuild file that names it
    files: tuple[str, ...]  # its .c files, relative to the tree root
    conditions: tuple[tuple[str, str], ...] = ()  # (file, CONFIG_ symbol) of conditional parts
    missing: tuple[str, ...] = ()  # objects with no source in the tree (generated, ...)
    includers: tuple[str, ...] = ()  # its files that `#include` another .c file

    @property
    def directory(self) -> str:
        return os.path.dirname(self.path)


def read_scope(root: Path, directory: Path) -> Scope | None:
    """Parse the Kbuild (or Makefile) of `directory` into variables."""
    for name in ("Kbuild", "Makefile"):
        mk = directory / name
        if mk.is_file():
            break
    else:
        return None
    scope = Scope(root=root, directory=directory, makefile=mk)
    _parse_file(scope, mk, set())
    return scope


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


# noqa: C901 and its length: one branch per kind of makefile line (conditional, include, assignment,
# pattern rule), each a few lines; split apart they would share the scope and the stack
def _parse_file(scope: Scope, path: Path, seen: set[Path], level: int = 0) -> None:  # noqa: C901
    if path in seen or level > MAX_DEPTH:
        return
    seen.add(path)
    ev = Evaluator(scope)
    depth = 0
    in_define = False
    in_recipe = False
    for line in logical_lines(_read_text(path)):
        stripped = line.strip()
        if in_define:
            in_define = not stripped.startswith("endef")
            continue
        if line.startswith("\t") and in_recipe:
            continue
        in_recipe = False
        if not stripped:
            continue
        if stripped.startswith("define ") or stripped == "define":
            in_define = True
        elif _COND.match(stripped):
            depth += 1
        elif stripped.startswith("else"):
            rest = stripped[4:].strip()
            if _COND.match(rest):
                pass  # `else ifeq ...`: same depth
        elif stripped.startswith("endif"):
            depth = max(0, depth - 1)
        elif m := _INCLUDE.match(stripped):
            for inc in ev.expand(m.group(1)).split():
                target = Path(inc) if os.path.isabs(inc) else scope.root / inc
                if not target.is_file():
                    target = scope.directory / inc
                if target.is_file():
                    scope.included.append(target)
                    _parse_file(scope, target, seen, level + 1)
        elif m := _ASSIGN.match(stripped):
            lhs_raw, op, value = m.group(1).strip(), m.group(2), m.group(3)
            symbols = _CONFIG.findall(lhs_raw)
            lhs = ev.expand(_CONFIG.sub("y", lhs_raw)).strip()
            if not lhs or " " in lhs:
                continue
            conditional = depth > 0 or bool(symbols)
            if op == "?=" and lhs in scope.variables:
                continue
            if op in (":=", "::="):
                entry = Entry("immediate", ev.expand(value), conditional)
            elif op == "+=" and scope.variables.get(lhs) and scope.variables[lhs][0].op == "immediate":
                entry = Entry("immediate", ev.expand(value), True)
            elif op == "!=":
                entry = Entry("immediate", "", conditional)
            else:
                entry = Entry("=" if op in ("=", "?=") else "+=", value, conditional)
            if entry.op != "+=" and not entry.conditional:
                scope.symbols[lhs] = []  # an unconditional assignment replaces the value
            scope.variables.setdefault(lhs, []).append(entry)
            text = entry.text if entry.op == "immediate" else value
            for sym in symbols or [""]:
                scope.symbols.setdefault(lhs, []).append((text, sym))
        elif ":" in stripped:
            in_recipe = True  # a make rule; its recipe lines follow with a tab
            goal, _, deps = ev.expand(stripped).partition(":")
            words = deps.split()
            if "%" in goal and words and "%" in words[0] and words[0].endswith(SOURCE_SUFFIXES):
                scope.patterns.append((os.path.normpath(goal.strip()), os.path.normpath(words[0])))


def _source_for(obj: str, patterns: Iterable[tuple[str, str]] = ()) -> str | None:
    base = obj[:-2]
    for suffix in SOURCE_SUFFIXES:
        if os.path.isfile(base + suffix):
            return base + suffix
    for target, source in patterns:  # built from elsewhere by a pattern rule
        stem = pattern(target, obj)
        if stem is not None and os.path.isfile(source.replace("%", stem, 1)):
            return source.replace("%", stem, 1)
    return None


_INCLUDE_C = re.compile(rb'^\s*#\s*include\s+"([^"]+\.c)"', re.M)


def _included_sources(path: str, search: Iterable[str] = ()) -> list[str]:
    """`.c` files that a source file pulls in with `#include "x.c"` (selftests, tables),
    looked up beside the file, then in `search` (the module's directory: `-I$(src)`)."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return []
    if b'.c"' not in data:
        return []
    out = []
    for m in _INCLUDE_C.finditer(data):
        name = m.group(1).decode(errors="replace")
        for base in (os.path.dirname(path), *search):
            inc = os.path.normpath(os.path.join(base, name))
            if os.path.isfile(inc):
                out.append(inc)
                break
    return out


def _rel(root: Path, path: str) -> str:
    return os.path.relpath(path, root)


def modules_of(scope: Scope) -> tuple[list[Module], list[Path]]:
    """The modules a directory's Kbuild file defines, and the subdirectories it names."""
    ev = Evaluator(scope)
    d = scope.directory
    mods: list[Module] = []
    subdirs: list[Path] = []
    obj_vars = [n for n in scope.variables if re.fullmatch(r"(obj|lib)-(y|m)", n)]
    sub_vars = [n for n in scope.variables if re.fullmatch(r"subdir-(y|m)", n)]
    seen_mods: set[str] = set()
    for var in obj_vars:
        for value, sym in scope.symbols.get(var, []):
            for word in ev.expand(_CONFIG.sub("y", value)).split():
                target = os.path.normpath(os.path.join(d, word))
                if word.endswith("/"):
                    subdirs.append(Path(target))
                elif word.endswith(".o") and target not in seen_mods:
                    seen_mods.add(target)
                    mods.append(_module(scope, ev, target, sym or var.rsplit("-", 1)[1]))
    for var in sub_vars:
        for word in ev.value(var).split():
            subdirs.append(Path(os.path.normpath(os.path.join(d, word))))
    return mods, subdirs


# noqa: C901 below: the ways Kbuild names a module's objects (-y, -objs, -m, $(CONFIG_) lists,
# subdirectories), checked in Kbuild's order
def _module(scope: Scope, ev: Evaluator, target: str, config: str) -> Module:  # noqa: C901
    root = scope.root
    name = os.path.basename(target)[:-2]
    prefix = os.path.join(os.path.dirname(target), name)
    # Composite objects: foo-y, foo-m, foo-objs, foo-$(CONFIG_X) (normalised to foo-y).
    rel_name = os.path.relpath(prefix, scope.directory)
    part_vars = [f"{rel_name}-y", f"{rel_name}-m", f"{rel_name}-objs"]
    files: list[str] = []
    conditions: list[tuple[str, str]] = []
    missing: list[str] = []
    always: set[str] = set()  # parts listed without a condition somewhere
    composite = any(v in scope.variables for v in part_vars)
    if composite:
        for var in part_vars:
            for value, sym in scope.symbols.get(var, []):
                for word in ev.expand(_CONFIG.sub("y", value)).split():
                    if not word.endswith(".o"):
                        continue
                    obj = os.path.normpath(os.path.join(scope.directory, word))
                    src = _source_for(obj, scope.patterns)
                    if src is None:
                        missing.append(_rel(root, obj))
                    elif src.endswith(".c"):
                        rel = _rel(root, src)
                        if rel not in files:
                            files.append(rel)
                        if sym:
                            conditions.append((rel, sym))
                        else:
                            always.add(rel)
    else:
        src = _source_for(target, scope.patterns)
        if src is None:
            missing.append(_rel(root, target))
        elif src.endswith(".c"):
            files.append(_rel(root, src))
    i = 0
    includers = []
    while i < len(files):  # included files may include more: the list grows as we go
        included = _included_sources(str(root / files[i]), [str(scope.directory)])
        if included:
            includers.append(files[i])
        for inc in included:
            rel = _rel(root, inc)
            if rel not in files:
                files.append(rel)
        i += 1
    return Module(
        name=name,
        path=_rel(root, target),
        config=config,
        makefile=_rel(root, str(scope.makefile)),
        files=tuple(files),
        conditions=tuple(dict.fromkeys((f, c) for f, c in conditions if f not in always)),
        missing=tuple(missing),
        includers=tuple(includers),
    )


@dataclass(frozen=True)
class KbuildMap:
    """Every module found under a directory, and the Kbuild files read."""

    modules: tuple[Module, ...]
    makefiles: tuple[str, ...]

    def module_of(self) -> dict[str, Module]:
        """Source file -> the module it belongs to (first one, when shared)."""
        out: dict[str, Module] = {}
        for m in self.modules:
            for f in m.files:
                out.setdefault(f, m)
        return out


def read_kbuild(root: Path, top: str = "drivers") -> KbuildMap:
    """Walk the Kbuild files from `top`, following `obj-* += dir/`; then read any Kbuild
    file under `top` that no parent names (directories wired from arch/ or elsewhere)."""
    root = root.resolve()
    start = root / top
    modules: list[Module] = []
    visited: set[Path] = set()
    read: list[str] = []

    def walk(directories: Iterable[Path]) -> None:
        queue = list(directories)
        while queue:
            d = queue.pop(0)
            if d in visited or not d.is_dir():
                continue
            visited.add(d)
            scope = read_scope(root, d)
            if scope is None:
                continue
            read.append(_rel(root, str(scope.makefile)))
            for inc in scope.included:
                visited.add(inc.parent) if inc.name in ("Kbuild", "Makefile") else None
            mods, subdirs = modules_of(scope)
            modules.extend(mods)
            queue.extend(subdirs)

    walk([start])
    orphans = sorted({p.parent for name in ("Kbuild", "Makefile") for p in start.rglob(name)} - visited)
    walk(orphans)
    return KbuildMap(tuple(modules), tuple(read))
