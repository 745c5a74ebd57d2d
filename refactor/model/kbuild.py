"""Read Kbuild files: which source files make up which kernel module.

A small evaluator for the subset of GNU make that Kbuild files use: variables (`=`, `:=`,
`+=`, `?=`), `$(VAR)` references, the text functions Kbuild files call (`addprefix`,
`patsubst`, `subst`, `filter`, `foreach`, ...), `include`, and conditionals.  Every
`CONFIG_` symbol is taken as enabled and both branches of every conditional are kept, so
a module's file list is the union over all configurations (what an allmodconfig sweep
needs); conditional parts remember the symbol they depend on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

SOURCE_SUFFIXES = (".c", ".S", ".rs")
_CONFIG = re.compile(r"\$[({](CONFIG_\w+)[)}]")
_ASSIGN = re.compile(r"^(?:export\s+|override\s+)?([^:#=+?!\s][^:#=+?!]*?)\s*(::=|:=|\+=|\?=|!=|=)\s*(.*)$")
_COND = re.compile(r"^(ifeq|ifneq|ifdef|ifndef)\b")
_INCLUDE = re.compile(r"^-?s?include\s+(.*)$")
_MAX_DEPTH = 40


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


@dataclass
class _Entry:
    op: str
    text: str
    conditional: bool


@dataclass
class _Scope:
    """The variables of one directory's Kbuild file (and the files it includes)."""

    root: Path
    directory: Path  # absolute
    makefile: Path
    variables: dict[str, list[_Entry]] = field(default_factory=dict)
    # LHS normalised with CONFIG_ symbols replaced by "y": name -> symbols seen
    symbols: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    included: list[Path] = field(default_factory=list)
    # `$(obj)/x/%.o: $(srctree)/y/%.c` rules: (target pattern, source pattern), absolute
    patterns: list[tuple[str, str]] = field(default_factory=list)

    def builtins(self) -> dict[str, str]:
        d = str(self.directory)
        return {"src": d, "obj": d, "srctree": str(self.root), "objtree": str(self.root)}


class Evaluator:
    """Expands make text in a scope."""

    def __init__(self, scope: _Scope) -> None:
        self.scope = scope
        self.active: set[str] = set()

    def value(self, name: str, depth: int = 0) -> str:
        if name.startswith("CONFIG_"):
            return "y"
        if name in self.scope.builtins():
            return self.scope.builtins()[name]
        entries = self.scope.variables.get(name)
        if not entries or name in self.active or depth > _MAX_DEPTH:
            return ""
        self.active.add(name)
        try:
            parts: list[str] = []
            for e in entries:
                text = e.text if e.op == "immediate" else self.expand(e.text, depth + 1)
                if e.op in ("=", ":=", "::=", "immediate") and not e.conditional:
                    parts = [text]
                else:
                    parts.append(text)
            return " ".join(p for p in parts if p)
        finally:
            self.active.discard(name)

    def expand(self, text: str, depth: int = 0) -> str:
        if "$" not in text:
            return text
        out: list[str] = []
        i = 0
        while i < len(text):
            c = text[i]
            if c != "$" or i + 1 >= len(text):
                out.append(c)
                i += 1
                continue
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
            elif nxt in "({":
                close = ")" if nxt == "(" else "}"
                end = _matching(text, i + 1, nxt, close)
                inner = text[i + 2 : end]
                out.append(self._reference(inner, depth))
                i = end + 1
            else:  # $X single-letter variable ($@, $<, ...): nothing to expand here
                i += 2
        return "".join(out)

    def _reference(self, inner: str, depth: int) -> str:
        m = re.match(r"([a-z-]+)\s+(.*)$", inner, re.S)
        if m and m.group(1) in _FUNCTIONS:
            args = _split_args(m.group(2))
            return _FUNCTIONS[m.group(1)](self, args, depth)
        name = self.expand(inner, depth).strip()
        if sub := re.fullmatch(r"([^:\s]+):([^=]*)=(.*)", name):
            # $(VAR:a=b) is $(patsubst %a,%b,$(VAR)); a pattern with % is used as is
            var, frm, to = sub.groups()
            if "%" not in frm:
                frm, to = "%" + frm, "%" + to
            return _substitute(frm, to, self.value(var, depth))
        return self.value(name, depth)


def _matching(text: str, start: int, open_: str, close: str) -> int:
    level = 0
    for j in range(start, len(text)):
        if text[j] == open_:
            level += 1
        elif text[j] == close:
            level -= 1
            if level == 0:
                return j
    return len(text) - 1


def _split_args(text: str) -> list[str]:
    args: list[str] = []
    cur: list[str] = []
    level = 0
    for c in text:
        if c in "({":
            level += 1
        elif c in ")}":
            level -= 1
        if c == "," and level == 0:
            args.append("".join(cur))
            cur = []
        else:
            cur.append(c)
    args.append("".join(cur))
    return args


def _pattern(pat: str, word: str) -> str | None:
    if "%" not in pat:
        return "" if pat == word else None
    pre, post = pat.split("%", 1)
    if word.startswith(pre) and word.endswith(post) and len(word) >= len(pre) + len(post):
        return word[len(pre) : len(word) - len(post)]
    return None


def _substitute(pat: str, rep: str, text: str) -> str:
    """make's patsubst: each word matching `pat` (one `%`) becomes `rep` with the stem."""
    out = []
    for w in text.split():
        stem = _pattern(pat, w)
        out.append(w if stem is None else rep.replace("%", stem, 1))
    return " ".join(out)


def _fn_patsubst(ev: Evaluator, a: list[str], d: int) -> str:
    if len(a) < 3:
        return ""
    return _substitute(ev.expand(a[0], d).strip(), ev.expand(a[1], d).strip(), ev.expand(a[2], d))


def _fn_filter(ev: Evaluator, a: list[str], d: int, keep: bool = True) -> str:
    if len(a) < 2:
        return ""
    pats = ev.expand(a[0], d).split()
    words = ev.expand(a[1], d).split()
    return " ".join(w for w in words if any(_pattern(p, w) is not None for p in pats) == keep)


def _fn_foreach(ev: Evaluator, a: list[str], d: int) -> str:
    if len(a) < 3:
        return ""
    var = ev.expand(a[0], d).strip()
    saved = ev.scope.variables.get(var)
    out = []
    for w in ev.expand(a[1], d).split():
        ev.scope.variables[var] = [_Entry("immediate", w, False)]
        out.append(ev.expand(a[2], d + 1))
    if saved is None:
        ev.scope.variables.pop(var, None)
    else:
        ev.scope.variables[var] = saved
    return " ".join(out)


def _fn_if(ev: Evaluator, a: list[str], d: int) -> str:
    # Every configuration counts: both branches are possible.
    return " ".join(ev.expand(x, d) for x in a[1:3])


def _fn_wildcard(ev: Evaluator, a: list[str], d: int) -> str:
    out = []
    for pat in ev.expand(a[0], d).split():
        base = Path(pat) if os.path.isabs(pat) else ev.scope.directory / pat
        out += sorted(str(p) for p in base.parent.glob(base.name))
    return " ".join(out)


_FUNCTIONS = {
    "addprefix": lambda ev, a, d: " ".join(
        ev.expand(a[0], d).strip() + w for w in ev.expand(",".join(a[1:]), d).split()
    ),
    "addsuffix": lambda ev, a, d: " ".join(
        w + ev.expand(a[0], d).strip() for w in ev.expand(",".join(a[1:]), d).split()
    ),
    "patsubst": _fn_patsubst,
    "subst": lambda ev, a, d: (
        ev.expand(",".join(a[2:]), d).replace(ev.expand(a[0], d), ev.expand(a[1], d)) if len(a) >= 3 else ""
    ),
    "filter": _fn_filter,
    "filter-out": lambda ev, a, d: _fn_filter(ev, a, d, keep=False),
    "foreach": _fn_foreach,
    "if": _fn_if,
    "notdir": lambda ev, a, d: " ".join(os.path.basename(w) for w in ev.expand(a[0], d).split()),
    "dir": lambda ev, a, d: " ".join((os.path.dirname(w) or ".") + "/" for w in ev.expand(a[0], d).split()),
    "basename": lambda ev, a, d: " ".join(os.path.splitext(w)[0] for w in ev.expand(a[0], d).split()),
    "strip": lambda ev, a, d: " ".join(ev.expand(a[0], d).split()),
    "sort": lambda ev, a, d: " ".join(sorted(set(ev.expand(a[0], d).split()))),
    "firstword": lambda ev, a, d: (ev.expand(a[0], d).split() or [""])[0],
    "wildcard": _fn_wildcard,
    "abspath": lambda ev, a, d: " ".join(os.path.normpath(w) for w in ev.expand(a[0], d).split()),
    "realpath": lambda ev, a, d: " ".join(os.path.normpath(w) for w in ev.expand(a[0], d).split()),
    # Compiler probes, shell commands, diagnostics: nothing that names objects.
    "call": lambda ev, a, d: "",
    "shell": lambda ev, a, d: "",
    "eval": lambda ev, a, d: "",
    "info": lambda ev, a, d: "",
    "warning": lambda ev, a, d: "",
    "error": lambda ev, a, d: "",
    "findstring": lambda ev, a, d: (
        ev.expand(a[0], d) if len(a) > 1 and ev.expand(a[0], d) in ev.expand(a[1], d) else ""
    ),
    "or": lambda ev, a, d: next((ev.expand(x, d) for x in a if ev.expand(x, d).strip()), ""),
    "and": lambda ev, a, d: ev.expand(a[-1], d),
}


def logical_lines(text: str) -> Iterator[str]:
    """Join backslash continuations, then drop comments (from an unescaped `#` on), as make
    does: a comment ending in a backslash swallows the next line too."""
    buf: list[str] = []
    for raw in text.splitlines():
        if raw.rstrip().endswith("\\"):
            buf.append(raw.rstrip()[:-1])
            continue
        buf.append(raw)
        yield _strip_comment(" ".join(part.strip() if i else part.rstrip() for i, part in enumerate(buf)))
        buf = []
    if buf:
        yield _strip_comment(" ".join(buf))


def _strip_comment(line: str) -> str:
    if line.startswith("\t"):  # a recipe line: the shell's business, kept as is
        return line
    return re.sub(r"(?<!\\)#.*$", "", line).rstrip()


def read_scope(root: Path, directory: Path) -> _Scope | None:
    """Parse the Kbuild (or Makefile) of `directory` into variables."""
    for name in ("Kbuild", "Makefile"):
        mk = directory / name
        if mk.is_file():
            break
    else:
        return None
    scope = _Scope(root=root, directory=directory, makefile=mk)
    _parse_file(scope, mk, set())
    return scope


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _parse_file(scope: _Scope, path: Path, seen: set[Path], level: int = 0) -> None:
    if path in seen or level > _MAX_DEPTH:
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
                entry = _Entry("immediate", ev.expand(value), conditional)
            elif op == "+=" and scope.variables.get(lhs) and scope.variables[lhs][0].op == "immediate":
                entry = _Entry("immediate", ev.expand(value), True)
            elif op == "!=":
                entry = _Entry("immediate", "", conditional)
            else:
                entry = _Entry("=" if op in ("=", "?=") else "+=", value, conditional)
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
        stem = _pattern(target, obj)
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


def modules_of(scope: _Scope) -> tuple[list[Module], list[Path]]:
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


def _module(scope: _Scope, ev: Evaluator, target: str, config: str) -> Module:
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
