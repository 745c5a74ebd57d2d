"""The compiled-lines proof, in the manner of JMake: every hunk of a patch is shown to be
in the translation unit the compiler saw.

In a copy of each patched file, a marker token (`__drmm_refactor_hunk_N__`, not valid C,
and it need not be) goes on a line of its own where each changed region of each hunk
starts: before each run of its added lines that are not preprocessor directives (so the
code an added `#ifdef` guards is marked inside it), or where the lines a region only
deletes were.
The marked file is only preprocessed (`make path/file.i`); a marker that appears in the
output proves that its region was compiled, one that does not names a region that no
configuration built: `#ifdef CONFIG_PM_SLEEP` with PM_SLEEP off, `#if 0`, a file the
configuration leaves out.  A marker is never put inside a comment (it would vanish) nor
after a line continued with a backslash (it would join a macro or a directive): it moves
up to the start of the comment or of the continued lines.  A header's markers are looked
for in the patch's .c files, or the .c files beside it that include it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from refactor.infra import proc
from refactor.verify.build import FORMAT, Build, ResultCache, first_error, making

MARKER = "__drmm_refactor_hunk_{}__"
_DIRECTIVE = re.compile(r"^\s*#\s*(if|ifdef|ifndef|elif|elifdef|elifndef|else|endif)\b(.*)$")
_SYMBOL = re.compile(r"\bCONFIG_\w+")


@dataclass(frozen=True)
class Region:
    """One changed region of a hunk: its marker goes before `line` of the patched file."""

    marker: str
    file: str
    hunk: int  # the hunk's number in the patch, from 1
    line: int  # where the region starts in the patched file


@dataclass(frozen=True)
class Proof:
    """Which hunks of a patch the compiler saw, under one architecture's allmodconfig."""

    arch: str
    hunks: int
    compiled: int
    missing: tuple[str, ...]  # "file:line" of each region not compiled
    why: str  # why the first missing one was not ("" when none is missing)

    def as_json(self) -> dict[str, object]:
        return {"arch": self.arch, "hunks": self.hunks, "compiled": self.compiled,
                "missing": list(self.missing), "why": self.why}  # fmt: skip

    def text(self) -> str:
        """`5/5 hunks compiled (arm64)`, and the first missing region with its reason."""
        line = f"{self.compiled}/{self.hunks} hunk{'s' * (self.hunks != 1)} compiled ({self.arch})"
        if self.missing:
            line += f"; not compiled: {', '.join(self.missing)} ({self.why})"
        return line


def regions(diff: str) -> list[Region]:
    """The changed regions of a unified diff, one marker each: a region's added code is
    marked at the start of each run of its lines that are not preprocessor directives
    (lines an added `#ifdef` guards are marked inside it, where the compiler sees them
    or not); a region that adds only directives, or only deletes, is marked where it
    starts."""
    import unidiff

    out: list[Region] = []
    hunk_no = 0
    for pf in unidiff.PatchSet(diff):
        if pf.is_removed_file:
            continue
        for hunk in pf:
            hunk_no += 1
            lines = list(hunk)
            k = 0
            while k < len(lines):
                if not (lines[k].is_added or lines[k].is_removed):
                    k += 1
                    continue
                end = k
                while end < len(lines) and (lines[end].is_added or lines[end].is_removed):
                    end += 1
                after = lines[end].target_line_no if end < len(lines) else None
                where = after or hunk.target_start + hunk.target_length
                for line in _code_starts([x for x in lines[k:end] if x.is_added]) or [where]:
                    out.append(_region(len(out), pf.path, hunk_no, line))
                k = end
    return out


def _code_starts(added: Sequence[Any]) -> list[int]:
    """Where each run of added lines that are not directives (nor a directive's
    backslash-continued lines) starts; the first added line when all are directives."""
    starts: list[int] = []
    in_directive = prev_code = False
    prev_no = None
    for ln in added:
        text = ln.value.rstrip("\n")
        contiguous = prev_no is not None and ln.target_line_no == prev_no + 1
        directive = (in_directive and contiguous) or text.lstrip().startswith("#")
        if not directive and not (prev_code and contiguous):
            starts.append(ln.target_line_no)
        prev_code = not directive
        in_directive = directive and text.endswith("\\")
        prev_no = ln.target_line_no
    return starts or ([added[0].target_line_no] if added else [])


def _region(k: int, path: str, hunk: int, line: int) -> Region:
    return Region(MARKER.format(k + 1), path, hunk, max(line, 1))


def marked(text: str, marks: Sequence[Region]) -> str:
    """`text` with each region's marker on a line of its own before its line, moved up
    out of comments and continued lines."""
    lines = text.split("\n")
    blocked = _unsafe_starts(lines)
    at: dict[int, list[str]] = {}
    for r in marks:
        n = min(r.line, len(lines) + 1)
        while n > 1 and blocked[n - 1]:
            n -= 1
        at.setdefault(n, []).append(r.marker)
    out: list[str] = []
    for i, line in enumerate(lines, 1):
        out += at.pop(i, [])
        out.append(line)
    for rest in at.values():
        out += rest
    return "\n".join(out)


def _unsafe_starts(lines: Sequence[str]) -> list[bool]:
    """For each line (0-based), whether a line put before it would land inside a block
    comment or continue the line above (a backslash at its end)."""
    out = [False] * (len(lines) + 1)
    in_comment = False
    for i, line in enumerate(lines):
        out[i] = in_comment or (i > 0 and lines[i - 1].endswith("\\"))
        j, quote = 0, ""
        while j < len(line):
            two = line[j : j + 2]
            if in_comment:
                if two == "*/":
                    in_comment, j = False, j + 2
                    continue
            elif quote:
                if line[j] == "\\":
                    j += 1
                elif line[j] == quote:
                    quote = ""
            elif two == "/*":
                in_comment, j = True, j + 2
                continue
            elif two == "//":
                break
            elif line[j] in "\"'":
                quote = line[j]
            j += 1
    out[len(lines)] = in_comment or bool(lines and lines[-1].endswith("\\"))
    return out


def includers(work: Path, header: str, limit: int = 3) -> list[str]:
    """.c files beside `header` that include it by name (to see a header's markers)."""
    name = os.path.basename(header).encode()
    d = work / os.path.dirname(header)
    out = []
    for p in sorted(d.glob("*.c")) if d.is_dir() else ():
        if re.search(rb'#\s*include\s+"(?:[^"]*/)?' + re.escape(name) + rb'"', p.read_bytes()):
            out.append(str(p.relative_to(work)))
            if len(out) >= limit:
                break
    return out


def prove(work: Path, build: Build, diff: str, cache: ResultCache) -> Proof:
    """Preprocess the patched files of `work` with a marker per changed region and see
    which markers the preprocessed output holds."""
    regs = [r for r in regions(diff) if r.file.endswith((".c", ".h")) and (work / r.file).is_file()]
    hunks = sorted({r.hunk for r in regs})
    if not regs:
        return Proof(build.arch, 0, 0, (), "")
    files = sorted({r.file for r in regs})
    units = [f for f in files if f.endswith(".c")]
    for h in (f for f in files if f.endswith(".h")):
        units += [c for c in includers(work, h) if c not in units] if not units else []
    texts = {f: (work / f).read_text(errors="replace") for f in files}
    copies = {f: marked(texts[f], [r for r in regs if r.file == f]) for f in files}
    parts = [FORMAT, b"proof", build.key.encode(), *(u.encode() for u in units),
             *(f"{f}\0{copies[f]}".encode() for f in files)]  # fmt: skip
    key = hashlib.sha256(b"\0".join(parts)).hexdigest()
    hit = cache.get(key)
    if hit is None:
        seen, errors = _preprocess(work, build, copies, units, [r.marker for r in regs])
        hit = {"seen": sorted(seen), "errors": errors}
        cache.put(key, hit)
    seen = set(hit["seen"])
    missing = [r for r in regs if r.marker not in seen]
    bad_hunks = {r.hunk for r in missing}
    why = ""
    if missing:
        first = missing[0]
        why = _why(
            texts[first.file],
            first.line,
            build,
            file_seen=any(r.marker in seen for r in regs if r.file == first.file),
            error=hit["errors"].get(first.file, ""),
        )
    return Proof(build.arch, len(hunks), len(hunks) - len(bad_hunks),
                 tuple(dict.fromkeys(f"{r.file}:{r.line}" for r in missing)), why)  # fmt: skip


def _preprocess(work: Path, build: Build, copies: dict[str, str], units: Sequence[str],
                markers: Sequence[str]) -> tuple[set[str], dict[str, str]]:  # fmt: skip
    """Put the marked copies in place (the originals renamed aside, so their inode and
    mtime come back untouched and the objects built from them stay valid), preprocess
    each unit, put the originals back."""
    aside: dict[str, Path] = {}
    seen: set[str] = set()
    errors: dict[str, str] = {}
    try:
        for f, text in copies.items():
            path = work / f
            aside[f] = path.with_name(path.name + ".drmm-orig")
            os.replace(path, aside[f])
            path.write_text(text)
        for u in units:
            out = build.dir / (u[:-2] + ".i")
            with making(build):
                out.unlink(missing_ok=True)  # a stale .i would prove nothing
                res = proc.run([*build.make(), u[:-2] + ".i"], cwd=work, timeout=1800)
            if not res.ok or not out.is_file():
                errors[u] = first_error(res.stdout + res.stderr)
                continue
            text = out.read_text(errors="replace")
            seen |= {m for m in markers if m in text}
    finally:
        for f, orig in aside.items():
            os.replace(orig, work / f)
    return seen, errors


def _why(text: str, line: int, build: Build, file_seen: bool, error: str) -> str:
    """Why the region at `line` was not compiled: the #if around it and the state of its
    CONFIG_ symbols, or the file not being built at all."""
    conds = conditions(text, line)

    def explains(cond: str) -> bool:  # a symbol in the state that makes `cond` false
        negated = cond.startswith(("#ifndef", "#else", "#elifndef"))
        return any(build.enabled(s) == negated for s in _SYMBOL.findall(cond))

    for cond in sorted(reversed(conds), key=lambda c: not explains(c)):  # innermost that explains
        syms = list(dict.fromkeys(_SYMBOL.findall(cond)))
        state = ", ".join(f"{s} is {'on' if build.enabled(s) else 'off'}" for s in syms)
        return f"under `{cond}`" + (f": {state}" if state else "")
    if not file_seen:
        return f"the file is not built under {build.arch} allmodconfig" + (f" ({error})" if error else "")
    return "not in the preprocessed source (a macro that is not expanded?)"


def conditions(text: str, line: int) -> list[str]:
    """The preprocessor conditions around `line` (1-based), outermost first: `#ifdef X`,
    `#else of #if Y`, ..."""
    stack: list[str] = []
    lines = text.split("\n")
    i = 0
    while i < min(line - 1, len(lines)):
        cur = lines[i]
        while cur.endswith("\\") and i + 1 < len(lines):
            i += 1
            cur = cur[:-1] + " " + lines[i].strip()
        i += 1
        m = _DIRECTIVE.match(cur)
        if not m:
            continue
        kind, rest = m.group(1), re.sub(r"/\*.*?\*/|//.*$", "", m.group(2)).strip()
        if kind in ("if", "ifdef", "ifndef"):
            stack.append(f"#{kind} {rest}")
        elif kind.startswith("elif") and stack:
            stack[-1] = f"#{kind} {rest}"
        elif kind == "else" and stack:
            stack[-1] = f"#else of {stack[-1].removeprefix('#else of ')}"
        elif kind == "endif" and stack:
            stack.pop()
    return stack
