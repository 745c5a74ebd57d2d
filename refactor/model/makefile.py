"""A small evaluator for the subset of GNU make that Kbuild files use: variables (`=`,
`:=`, `+=`, `?=`) in a scope, `$(VAR)` references and `$(VAR:a=b)` substitutions, the text
functions Kbuild files call (`addprefix`, `patsubst`, `subst`, `filter`, `foreach`, ...),
and the logical lines of a makefile.  `kbuild.py` reads Kbuild files with it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

MAX_DEPTH = 40  # nested expansions and includes followed


@dataclass
class Entry:
    op: str
    text: str
    conditional: bool


@dataclass
class Scope:
    """The variables of one directory's Kbuild file (and the files it includes)."""

    root: Path
    directory: Path  # absolute
    makefile: Path
    variables: dict[str, list[Entry]] = field(default_factory=dict)
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

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self.active: set[str] = set()

    def value(self, name: str, depth: int = 0) -> str:
        if name.startswith("CONFIG_"):
            return "y"
        if name in self.scope.builtins():
            return self.scope.builtins()[name]
        entries = self.scope.variables.get(name)
        if not entries or name in self.active or depth > MAX_DEPTH:
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
            return substitute(frm, to, self.value(var, depth))
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


def pattern(pat: str, word: str) -> str | None:
    if "%" not in pat:
        return "" if pat == word else None
    pre, post = pat.split("%", 1)
    if word.startswith(pre) and word.endswith(post) and len(word) >= len(pre) + len(post):
        return word[len(pre) : len(word) - len(post)]
    return None


def substitute(pat: str, rep: str, text: str) -> str:
    """make's patsubst: each word matching `pat` (one `%`) becomes `rep` with the stem."""
    out = []
    for w in text.split():
        stem = pattern(pat, w)
        out.append(w if stem is None else rep.replace("%", stem, 1))
    return " ".join(out)


def _fn_patsubst(ev: Evaluator, a: list[str], d: int) -> str:
    if len(a) < 3:
        return ""
    return substitute(ev.expand(a[0], d).strip(), ev.expand(a[1], d).strip(), ev.expand(a[2], d))


def _fn_filter(ev: Evaluator, a: list[str], d: int, keep: bool = True) -> str:
    if len(a) < 2:
        return ""
    pats = ev.expand(a[0], d).split()
    words = ev.expand(a[1], d).split()
    return " ".join(w for w in words if any(pattern(p, w) is not None for p in pats) == keep)


def _fn_foreach(ev: Evaluator, a: list[str], d: int) -> str:
    if len(a) < 3:
        return ""
    var = ev.expand(a[0], d).strip()
    saved = ev.scope.variables.get(var)
    out = []
    for w in ev.expand(a[1], d).split():
        ev.scope.variables[var] = [Entry("immediate", w, False)]
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
        yield strip_comment(" ".join(part.strip() if i else part.rstrip() for i, part in enumerate(buf)))
        buf = []
    if buf:
        yield strip_comment(" ".join(buf))


def strip_comment(line: str) -> str:
    if line.startswith("\t"):  # a recipe line: the shell's business, kept as is
        return line
    return re.sub(r"(?<!\\)#.*$", "", line).rstrip()
