"""Read Kconfig: a symbol's `depends on`, and which architectures can enable it.

Only what choosing a build architecture needs: `config`/`menuconfig` entries with their
`depends on` lines, the conditions of the `if`, `menu` and `choice` blocks around them,
and `source`/`rsource` to follow.  `select`, `default`, help texts and the rest do not
decide whether allmodconfig can turn a symbol on, so they are skipped.

A dependency is evaluated for an architecture by guessing what its allmodconfig sets:
a symbol that only an `arch/*/Kconfig` defines (ARM, ARM64, X86, ARCH_SUNXI, 64BIT) is on
when that architecture's own Kconfig defines it and off otherwise; a symbol defined
outside arch/ (COMPILE_TEST, OF, COMMON_CLK) is on, as allmodconfig turns on what it can;
a symbol of the Kconfig files read here is on when its own dependencies are.  The guess
only orders the architectures to try: the prepared .config has the last word.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ARCHES = ("x86_64", "arm64", "arm")  # in order of preference: the cheapest build first
SRCARCH = {"x86_64": "x86", "x86": "x86", "arm64": "arm64", "arm": "arm", "riscv": "riscv"}
_TOKEN = re.compile(r'\s*(\|\||&&|!=|<=|>=|[!()=<>]|"[^"]*"|\'[^\']*\'|[A-Za-z0-9_.$-]+)')
_NOT_KCONFIG = ("Documentation", "tools", "LICENSES", "debian", "samples")
_CONFIG = re.compile(r"^\s*(?:menu)?config\s+(\w+)")


@dataclass(frozen=True)
class Entry:
    """A Kconfig symbol's definition: where, and everything it depends on (its own
    `depends on` lines and the conditions of the blocks around it)."""

    symbol: str  # without CONFIG_
    file: str  # relative to the tree root
    line: int
    depends: tuple[str, ...]


@functools.lru_cache(maxsize=64)
def parse(root: Path, path: str) -> dict[str, Entry]:
    """The entries of the Kconfig file `path` (relative to `root`) and of the files it
    sources; the first definition of a symbol wins.  Cached: do not change the result."""
    entries: dict[str, Entry] = {}
    _parse(root, path, [], entries, set())
    return entries


def _parse(root: Path, path: str, outer: list[str], entries: dict[str, Entry], seen: set[str]) -> None:
    if path in seen or len(seen) > 2000:
        return
    seen.add(path)
    try:
        text = (root / path).read_text(errors="replace")
    except OSError:
        return
    blocks: list[tuple[str, list[str]]] = []  # (kind, conditions) of the if/menu/choice around
    mine: list[tuple[str, int, list[str]]] = []  # this file's entries, their depends growing
    current: list[str] | None = None  # the depends of the entry being read
    help_indent = -1

    def around() -> list[str]:
        return [*outer, *(c for _, conds in blocks for c in conds)]

    for n, raw in enumerate(_logical(text), 1):
        if help_indent >= 0:  # a help text runs while lines are indented more than `help`
            if not raw.strip() or _indent(raw) > help_indent:
                continue
            help_indent = -1
        line = _strip_comment(raw).strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        rest = rest.strip()
        if word in ("help", "---help---"):
            help_indent = _indent(raw)
        elif word == "depends" and rest.startswith("on"):
            expr = rest[2:].strip()
            if current is not None:
                current.append(expr)
            elif blocks and blocks[-1][0] in ("menu", "choice"):  # the block's own depends
                blocks[-1][1].append(expr)
        elif word in ("config", "menuconfig"):
            sym = rest.split()[0] if rest else ""
            current = None
            if sym and sym not in entries:
                current = around()
                entries[sym] = Entry(sym, path, n, ())  # a placeholder: first definition wins
                mine.append((sym, n, current))
        elif word in ("if", "menu", "choice", "comment", "endif", "endmenu", "endchoice", "mainmenu"):
            current = None
            if word == "if":
                blocks.append(("if", [rest]))
            elif word in ("menu", "choice"):
                blocks.append((word, []))
            elif word.startswith("end") and blocks:
                blocks.pop()
        elif word in ("source", "rsource", "osource", "orsource"):
            current = None
            target = rest.strip("\"'")
            if "$" in target:  # $(SRCARCH) and friends: arch Kconfig, not read here
                continue
            if word.startswith(("rs", "ors")):
                target = os.path.normpath(os.path.join(os.path.dirname(path), target))
            _parse(root, target, around(), entries, seen)
    for sym, n, deps in mine:
        entries[sym] = Entry(sym, path, n, tuple(deps))


def _logical(text: str) -> list[str]:
    """Lines with backslash continuations joined onto the first line of each group (the
    lines joined become empty, so that line numbers stay right)."""
    out: list[str] = []
    buf: list[str] = []
    for raw in text.splitlines():
        if raw.endswith("\\"):
            buf.append(raw[:-1])
            continue
        out.append(" ".join([*buf, raw]))
        out += [""] * len(buf)
        buf = []
    if buf:
        out.append(" ".join(buf))
        out += [""] * (len(buf) - 1)
    return out


def _indent(line: str) -> int:
    return len(line.expandtabs(8)) - len(line.expandtabs(8).lstrip())


def _strip_comment(line: str) -> str:
    out, quote = [], ""
    for c in line:
        if quote:
            quote = "" if c == quote else quote
        elif c in "\"'":
            quote = c
        elif c == "#":
            break
        out.append(c)
    return "".join(out)


# -- expressions ---------------------------------------------------------------------------
def evaluate(expr: str, value: Callable[[str], bool | None]) -> bool | None:
    """Whether a Kconfig expression holds, taking each symbol as on, off or unknown
    (None) by `value`, in three-valued logic: None when it depends on the unknown ones.
    Tristate m counts as on; `A = B` compares the two as on/off, or literally."""
    tokens = _TOKEN.findall(expr)
    pos = 0

    def peek() -> str:
        return tokens[pos] if pos < len(tokens) else ""

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1] if pos - 1 < len(tokens) else ""

    def atom(tok: str) -> str | None:
        if tok[:1] in "\"'":
            return tok[1:-1]
        if tok in ("y", "m", "n"):
            return tok
        v = value(tok)
        return None if v is None else "y" if v else "n"

    def primary() -> bool | None:
        tok = take()
        if tok == "!":
            v = primary()
            return None if v is None else not v
        if tok == "(":
            v = disjunction()
            if peek() == ")":
                take()
            return v
        if peek() in ("=", "!="):
            op = take()
            a, b = atom(tok), atom(take())
            if a is None or b is None:
                return None
            return (a == b) == (op == "=")
        if peek() in ("<", ">", "<=", ">="):  # numeric comparisons: not an arch question
            take()
            take()
            return None
        a = atom(tok)
        return None if a is None else a != "n"

    def conjunction() -> bool | None:
        v = primary()
        while peek() == "&&":
            take()
            w = primary()
            v = False if v is False or w is False else None if v is None or w is None else True
        return v

    def disjunction() -> bool | None:
        v = conjunction()
        while peek() == "||":
            take()
            w = conjunction()
            v = True if v is True or w is True else None if v is None or w is None else False
        return v

    return disjunction() if tokens else True


# -- the architectures ------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def arch_symbols(root: Path) -> dict[str, frozenset[str]]:
    """SRCARCH -> the symbols its arch/SRCARCH Kconfig files define; "" -> the symbols
    that only arch/ defines (PM, also defined in kernel/power, is not an arch symbol)."""
    per_arch: dict[str, set[str]] = {}
    elsewhere: set[str] = set()
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in _NOT_KCONFIG]
        rel = os.path.relpath(top, root)
        for name in files:
            if not name.startswith("Kconfig"):
                continue
            try:
                text = Path(top, name).read_text(errors="replace")
            except OSError:
                continue
            syms = {m.group(1) for line in text.splitlines() if (m := _CONFIG.match(line))}
            parts = rel.split(os.sep)
            if parts[0] == "arch" and len(parts) > 1:
                per_arch.setdefault(parts[1], set()).update(syms)
            else:
                elsewhere |= syms
    out = {k: frozenset(v) for k, v in per_arch.items()}
    out[""] = frozenset(set().union(*per_arch.values()) - elsewhere) if per_arch else frozenset()
    return out


def find(root: Path, directory: str, symbol: str) -> tuple[Entry | None, dict[str, Entry]]:
    """The entry of `symbol` (with or without CONFIG_) as the Kconfig files of
    `directory` and of the directories above it (up to three levels, and not above
    drivers/) define it, and every entry read on the way."""
    symbol = symbol.removeprefix("CONFIG_")
    found: Entry | None = None
    index: dict[str, Entry] = {}
    d = directory.strip("/")
    for _ in range(4):
        if not d or d in ("drivers", "."):
            break
        kconfig = f"{d}/Kconfig"
        if (root / kconfig).is_file():
            entries = parse(root, kconfig)
            if symbol in entries:  # the higher file sees the if blocks around the lower one
                found, index = entries[symbol], entries
            elif found is not None:
                break
        d = os.path.dirname(d)
    return found, index


def allowed(root: Path, directory: str, symbol: str, arch: str) -> bool | None:
    """Whether `symbol`'s dependencies can hold under `arch`'s allmodconfig: False when
    the architecture's own symbols rule it out (None when its Kconfig entry is not found
    near `directory`)."""
    entry, index = find(root, directory, symbol)
    if entry is None:
        return None
    syms = arch_symbols(root)
    mine = syms.get(SRCARCH.get(arch, arch), frozenset())
    memo: dict[str, bool | None] = {}

    def value(name: str) -> bool | None:
        name = name.removeprefix("CONFIG_")
        if name in memo:
            return memo[name]
        memo[name] = None  # a dependency loop: unknown
        if name in syms[""] and name not in index:
            v: bool | None = name in mine
        elif name in index:
            v = _all(evaluate(e, value) for e in index[name].depends)
            v = None if v is True else v  # its dependencies allow it; allmodconfig may not set it
        else:
            v = None
        memo[name] = v
        return v

    return _all(evaluate(e, value) for e in entry.depends) is not False


def _all(values: Iterable[bool | None]) -> bool | None:
    """Three-valued `and` of all `values`."""
    out: bool | None = True
    for v in values:
        if v is False:
            return False
        if v is None:
            out = None
    return out


def arches_for(root: Path, directory: str, symbol: str) -> tuple[str, ...]:
    """The architectures (of ARCHES, in order) whose allmodconfig the Kconfig
    dependencies of `symbol` allow; all of them when its entry is not found."""
    if symbol in ("", "y", "m"):
        return ARCHES
    verdicts = [(a, allowed(root, directory, symbol, a)) for a in ARCHES]
    if all(v is None for _, v in verdicts):
        return ARCHES
    return tuple(a for a, v in verdicts if v)
