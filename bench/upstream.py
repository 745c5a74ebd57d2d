#!/usr/bin/env python3
"""Recall against upstream: the lifetime conversions the kernel made between two trees.

    bench/upstream.py OLD_TREE NEW_TREE [--jobs N] [--whole] [--report OLD.json]
                      [--save-report FILE] [--json]

1. Extraction.  Every `.c` file under drivers/gpu/drm and drivers/accel of OLD is paired
   with the same path in NEW (or, when it moved, the one NEW file of that name that OLD
   lacks); functions are paired by name, never by line number.  Each pair of function
   bodies is diffed line by line, and the changed lines are grouped in hunks (changes at
   most GAP unchanged lines apart), comments blanked first (a call a comment names was
   not made).  A site is a call the hunk removes, paired with the
   replacement the same hunk adds:

   | kind             | removed                               | added                      |
   |------------------|---------------------------------------|----------------------------|
   | drmm-alloc       | devm_k*alloc, devm_kstrdup, ...       | drmm_k*alloc, drmm_kstrdup |
   | drmm-mode-object | drm_{crtc,plane,encoder,connector,    | drmm_ init or alloc of the |
   |                  | writeback}_*init (and the devm_ alloc | same object               |
   |                  | it replaces; the funcs table's        |                            |
   |                  | .destroy, when upstream dropped it)   |                            |
   | drmm-mutex       | mutex_init, devm_mutex_init           | drmm_mutex_init            |
   | drmm-mode-config | drm_mode_config_init (only where OLD's | drmm_mode_config_init     |
   |                  | is not the inline wrapper of drmm_)   |                            |
   |                  | drm_mode_config_cleanup (the file has | (nothing)                  |
   |                  | fewer of them in NEW)                 |                            |
   | unplug           | drm_dev_unregister                    | drm_dev_unplug             |

2. The sweep: `drmm-refactor sweep OLD --format json` with patches (its cache makes a
   second run fast), of the driver directories that hold sites (a driver's findings do not
   depend on the others; --whole sweeps everything), or the report given with --report.
3. Scoring, per kind: sites; recall, a finding of one of the kind's rules in the same
   file and function, on the line of a removed call or within its statement; patched,
   such a finding has a patch; same fix, that patch adds upstream's helper in the
   function and removes every call upstream removed (and a .destroy entry where upstream
   dropped one).  Every miss is listed with what the sweep said about that function, and
   every different fix with the helpers the patch used.

Only the standard library and the package; the output is sorted, so two runs over the
same trees and report print the same text.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from refactor.csrc import cindex  # noqa: E402
from refactor.infra import proc  # noqa: E402

DIRS = ("drivers/gpu/drm", "drivers/accel")
GAP = 8  # unchanged lines that still keep two changes in one hunk
KINDS = ("drmm-alloc", "drmm-mode-object", "drmm-mutex", "drmm-mode-config", "unplug")
RULES_OF = {  # the rules whose finding at a site counts for it
    "drmm-alloc": ("devm-mode-object", "devm-drm-memory", "unmanaged-mode-object"),
    "drmm-mode-object": ("devm-mode-object", "unmanaged-mode-object", "devm-drm-memory"),
    "drmm-mutex": ("unmanaged-mutex",),
    "drmm-mode-config": ("unmanaged-mode-config",),
    "unplug": ("unregister-without-unplug",),
}

DEVM_ALLOCS = ("devm_kzalloc", "devm_kmalloc", "devm_kcalloc", "devm_kmalloc_array",
               "devm_kstrdup", "devm_kmemdup")  # fmt: skip
DRMM_ALLOCS = ("drmm_kzalloc", "drmm_kmalloc", "drmm_kcalloc", "drmm_kmalloc_array", "drmm_kstrdup")
# unmanaged init -> (the object, index of its funcs-table argument, -1: none)
INITS = {
    "drm_crtc_init_with_planes": ("crtc", 4),
    "drm_crtc_init": ("crtc", 2),
    "drm_universal_plane_init": ("plane", 3),
    "drm_plane_init": ("plane", 3),
    "drm_encoder_init": ("encoder", 2),
    "drm_simple_encoder_init": ("encoder", -1),
    "drm_connector_init": ("connector", 2),
    "drm_connector_init_with_ddc": ("connector", 2),
    "drm_writeback_connector_init": ("writeback", 2),
    "drm_writeback_connector_init_with_encoder": ("writeback", 2),
}
OBJECT_HELPERS = {
    "drmm_crtc_init_with_planes": "crtc",
    "drmm_crtc_alloc_with_planes": "crtc",
    "drmm_universal_plane_alloc": "plane",
    "drmm_universal_plane_init": "plane",
    "drmm_encoder_init": "encoder",
    "drmm_encoder_alloc": "encoder",
    "drmm_simple_encoder_alloc": "encoder",
    "drmm_plain_encoder_alloc": "encoder",
    "drmm_connector_init": "connector",
    "drmm_connector_hdmi_init": "connector",
    "drmm_writeback_connector_init": "writeback",
}
PLAIN_ALLOCS = ("kzalloc", "kmalloc", "kcalloc")  # only with an object helper (kfree in a hook)
REMOVED = (*DEVM_ALLOCS, *PLAIN_ALLOCS, *INITS, "mutex_init", "devm_mutex_init", "drm_mode_config_init",
           "drm_mode_config_cleanup", "drm_dev_unregister")  # fmt: skip
ADDED = (*DRMM_ALLOCS, *OBJECT_HELPERS, "drmm_mutex_init", "drmm_mode_config_init", "drm_dev_unplug")
_CALL = re.compile(r"\b(" + "|".join(sorted({*REMOVED, *ADDED}, key=len, reverse=True)) + r")\s*\(")


@dataclass(frozen=True)
class Site:
    """One conversion upstream made: the calls it removed in OLD and what it added."""

    kind: str
    file: str  # the OLD path
    function: str
    lines: tuple[int, ...]  # OLD lines of the removed calls
    removed: tuple[str, ...]  # the removed calls (and ".destroy")
    helper: str  # the helper upstream added ("" when the call only went)
    new_file: str
    new_line: int  # where the helper is in NEW (0 for a removal)
    spans: tuple[tuple[int, int], ...] = ()  # the statements of the removed calls in OLD

    def where(self) -> str:
        return f"{self.file}:{self.lines[0]} {self.function}()"

    def change(self) -> str:
        return f"{'+'.join(self.removed)} -> {self.helper or '(removed)'}"


@dataclass(frozen=True)
class Outcome:
    """What the sweep of OLD did at one site."""

    site: Site
    found: bool
    patched: bool
    same_fix: bool
    rule: str = ""
    patch: str = ""
    patch_helpers: tuple[str, ...] = ()  # drmm_ helpers the patch adds in the function
    note: str = ""  # for a miss: what the sweep said about the function


@dataclass
class _Hunk:
    removed: list[tuple[str, int]] = field(default_factory=list)  # (call, OLD line)
    added: list[tuple[str, int]] = field(default_factory=list)  # (call, NEW line)


# -- extraction ----------------------------------------------------------------------
def _c_files(root: Path) -> list[str]:
    out = []
    for d in DIRS:
        base = root / d
        if base.is_dir():
            out += [str(p.relative_to(root)) for p in base.rglob("*.c") if p.is_file()]
    return sorted(out)


def pair_files(old: Path, new: Path) -> list[tuple[str, str]]:
    """(OLD path, NEW path) of every file of OLD that NEW still has, moved or not."""
    old_files, new_files = _c_files(old), _c_files(new)
    new_set, old_set = set(new_files), set(old_files)
    by_name: dict[str, list[str]] = {}
    for f in new_files:
        if f not in old_set:
            by_name.setdefault(os.path.basename(f), []).append(f)
    pairs = []
    for f in old_files:
        if f in new_set:
            pairs.append((f, f))
        elif len(by_name.get(os.path.basename(f), [])) == 1:
            pairs.append((f, by_name[os.path.basename(f)][0]))
    return pairs


def _functions(text: bytes) -> dict[str, tuple[int, int]]:
    """name -> (first, last) line; a name defined twice (#ifdef variants) is left out."""
    seen: dict[str, tuple[int, int]] = {}
    twice = set()
    for first, last, name in cindex.function_spans(text):
        if name in seen:
            twice.add(name)
        seen[name] = (first, last)
    return {n: s for n, s in seen.items() if n not in twice and n}


def _norm(line: str) -> str:
    return " ".join(line.split())


def _calls(line: str) -> list[str]:
    # comments say what a line did; they are not calls
    code = re.sub(r"/\*.*?\*/|//.*$", "", line)
    return _CALL.findall(code)


def _uncomment(text: str) -> list[str]:
    """The lines of `text` with its comments blanked (a block comment keeps its line
    breaks): a call a comment names was not made, and upstream's edit of a comment is
    not a conversion."""

    def blank(m: re.Match[str]) -> str:
        return "\n" * m.group(0).count("\n")

    return re.sub(r"/\*.*?\*/|//[^\n]*", blank, text, flags=re.S).splitlines()


def _wraps_managed(tree: Path) -> bool:
    """Whether the tree's drm_mode_config_init() is the inline wrapper of
    drmm_mode_config_init(): then its rename is no lifetime change (the cleanup it
    registers is the same); only a manual drm_mode_config_cleanup() dropped is."""
    header = tree / "include/drm/drm_mode_config.h"
    text = " ".join(header.read_text(errors="replace").split()) if header.is_file() else ""
    wrapper = r"drm_mode_config_init\(struct drm_device \*dev\) \{ return drmm_mode_config_init\("
    return re.search(wrapper, text) is not None


def _hunks(old_lines: list[str], new_lines: list[str], o0: int, n0: int) -> list[_Hunk]:
    """The changed lines of one function, grouped; o0/n0 are the first lines' numbers."""
    sm = difflib.SequenceMatcher(None, [_norm(x) for x in old_lines], [_norm(x) for x in new_lines],
                                 autojunk=False)  # fmt: skip
    groups: list[list[tuple[int, int, int, int]]] = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            continue
        if groups and i1 - groups[-1][-1][1] <= GAP:
            groups[-1].append((i1, i2, j1, j2))
        else:
            groups.append([(i1, i2, j1, j2)])
    out = []
    for g in groups:
        h = _Hunk()
        for i1, i2, j1, j2 in g:
            h.removed += [(c, o0 + i) for i in range(i1, i2) for c in _calls(old_lines[i])]
            h.added += [(c, n0 + j) for j in range(j1, j2) for c in _calls(new_lines[j])]
        # a call on both sides (arguments changed, code moved) was not converted
        for name in {c for c, _ in h.removed}:
            gone = [x for x in h.removed if x[0] == name]
            kept = sum(1 for c, _ in h.added if c == name)
            drop = set(gone[len(gone) - kept :]) if kept else set()
            h.removed = [x for x in h.removed if x not in drop]
        out.append(h)
    return out


def _family(removed: str) -> tuple[str, ...]:
    """The helpers that replace a removed call, most specific first."""
    if removed in DEVM_ALLOCS:
        return (*DRMM_ALLOCS, *OBJECT_HELPERS)
    if removed in PLAIN_ALLOCS:
        return tuple(OBJECT_HELPERS)
    if removed in INITS:
        obj = INITS[removed][0]
        return tuple(h for h, o in OBJECT_HELPERS.items() if o == obj)
    return {
        "mutex_init": ("drmm_mutex_init",),
        "devm_mutex_init": ("drmm_mutex_init",),
        "drm_mode_config_init": ("drmm_mode_config_init",),
        "drm_dev_unregister": ("drm_dev_unplug",),
    }.get(removed, ())


def _kind(removed: Sequence[str], helper: str) -> str:
    if helper in OBJECT_HELPERS:
        return "drmm-mode-object"
    if helper in DRMM_ALLOCS:
        return "drmm-alloc"
    if helper == "drmm_mutex_init":
        return "drmm-mutex"
    if helper == "drm_dev_unplug":
        return "unplug"
    return "drmm-mode-config"


def _statement(lines: list[str], line: int) -> tuple[int, int]:
    """The lines of the statement holding `line` (1-based), as far as the text shows."""
    first = line
    while first > 1 and first > line - 3:
        prev = lines[first - 2].rstrip()
        if not prev.strip() or prev.endswith((";", "{", "}", "*/", ":")) or prev.lstrip().startswith("#"):
            break
        first -= 1
    last = line
    depth = 0
    for n in range(line, min(len(lines), line + 12) + 1):
        depth += lines[n - 1].count("(") - lines[n - 1].count(")")
        last = n
        if depth <= 0 and lines[n - 1].rstrip().endswith((";", "{", ")")):
            break
    return first, last


def _call_args(lines: list[str], line: int, name: str) -> list[str]:
    """The top-level arguments of the call of `name` starting on `line`."""
    text = "\n".join(lines[line - 1 : line + 12])
    m = re.search(r"\b" + name + r"\s*\(", text)
    if not m:
        return []
    depth, cur, args = 1, "", []
    for ch in text[m.end() :]:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0:
                args.append(cur.strip())
                return args
        if ch == "," and depth == 1:
            args.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return args


def _has_destroy(text: str, table: str) -> bool | None:
    """Whether the initialised table `table` sets .destroy (None: no such table)."""
    m = re.search(r"\b" + re.escape(table) + r"\s*=\s*\{", text)
    if not m:
        return None
    end = text.find("};", m.end())
    return re.search(r"\.destroy\s*=", text[m.end() : end if end >= 0 else None]) is not None


def _file_sites(old_rel: str, new_rel: str, old_text: bytes, new_text: bytes, wrapper: bool = False
                ) -> list[Site]:  # fmt: skip
    """The sites of one file pair; with `wrapper` (OLD's drm_mode_config_init() wraps the
    managed one), a drm_mode_config_init() renamed to drmm_mode_config_init() is none."""
    old_fns, new_fns = _functions(old_text), _functions(new_text)
    old_lines = _uncomment(old_text.decode(errors="replace"))
    new_lines = _uncomment(new_text.decode(errors="replace"))
    text = ("\n".join(old_lines), "\n".join(new_lines))
    cleanups_dropped = text[0].count("drm_mode_config_cleanup(") > text[1].count("drm_mode_config_cleanup(")
    sites: list[Site] = []
    for name in sorted(set(old_fns) & set(new_fns)):
        (o1, o2), (n1, n2) = old_fns[name], new_fns[name]
        body = old_lines[o1 - 1 : o2]
        if not any(c in REMOVED for x in body for c in _calls(x)) or body == new_lines[n1 - 1 : n2]:
            continue  # nothing upstream could have converted here
        hunks = _hunks(body, new_lines[n1 - 1 : n2], o1, n1)
        for call, line in (x for h in hunks for x in h.removed if x[0] == "drm_mode_config_cleanup"):
            if cleanups_dropped:
                sites.append(_site("drmm-mode-config", (old_rel, new_rel, name), [(call, line)], "", 0,
                                   old_lines, text))  # fmt: skip
        for (hi, i), removed in sorted(_pair(hunks).items()):
            helper, nline = hunks[hi].added[i]
            kind = _kind([c for c, _ in removed], helper)
            if wrapper and [c for c, _ in removed] == ["drm_mode_config_init"]:
                continue
            sites.append(_site(kind, (old_rel, new_rel, name), removed, helper, nline, old_lines, text))
    return sites


def _pair(hunks: Sequence[_Hunk]) -> dict[tuple[int, int], list[tuple[str, int]]]:
    """Removed calls by the added helper that replaces them: the best free one of the same
    hunk, else of the nearest hunk of the function.  An object helper may replace both the
    allocation and the init it stands for."""
    taken: dict[tuple[int, int], list[tuple[str, int]]] = {}

    def free(slot: tuple[int, int], call: str) -> bool:
        used = [c for c, _ in taken.get(slot, [])]
        helper = hunks[slot[0]].added[slot[1]][0]
        return not used or (
            helper in OBJECT_HELPERS and len(used) == 1 and (used[0] in INITS) != (call in INITS)
        )

    def best(call: str, his: Sequence[int]) -> tuple[int, int] | None:
        family = _family(call)
        for hi in his:
            slots = [(family.index(h), i) for i, (h, _) in enumerate(hunks[hi].added)
                     if h in family and free((hi, i), call)]  # fmt: skip
            if slots:
                return hi, min(slots)[1]
        return None

    left = []
    removed = [
        (hi, c, ln) for hi, h in enumerate(hunks) for c, ln in h.removed if c != "drm_mode_config_cleanup"
    ]
    for hi, call, line in sorted(removed, key=lambda x: (x[1] not in INITS, x[2])):
        slot = best(call, [hi])
        if slot is None:
            left.append((hi, call, line))
        else:
            taken.setdefault(slot, []).append((call, line))
    for hi, call, line in left:
        nearest = sorted(range(len(hunks)), key=lambda j: (abs(j - hi), j))
        slot = best(call, nearest)
        if slot is not None:
            taken.setdefault(slot, []).append((call, line))
    # a plain kzalloc() is a site only with the object it allocated
    return {k: v for k, v in taken.items() if any(c not in PLAIN_ALLOCS for c, _ in v)}


def _site(kind: str, where: tuple[str, str, str], removed: list[tuple[str, int]], helper: str, nline: int,
          old_lines: list[str], text: tuple[str, str]) -> Site:  # fmt: skip
    old_rel, new_rel, function = where
    old_str, new_str = text
    removed = sorted(removed, key=lambda x: x[1])
    names = [c for c, _ in removed]
    for call, line in removed:
        if call in INITS and INITS[call][1] >= 0:
            args = _call_args(old_lines, line, call)
            arg = args[INITS[call][1]] if len(args) > INITS[call][1] else ""
            # the funcs table (or each of `cond ? &a : &b`) lost its .destroy entry
            tables = re.findall(r"&\s*(\w+)", arg) or re.findall(r"^(\w+)$", arg)
            if any(_has_destroy(old_str, t) and not _has_destroy(new_str, t) for t in tables):
                names.append(".destroy")
    return Site(kind, old_rel, function, tuple(x[1] for x in removed), tuple(names), helper, new_rel, nline,
                tuple(_statement(old_lines, x[1]) for x in removed))  # fmt: skip


def _may_convert(a: bytes, b: bytes) -> bool:
    """Whether NEW lost a line of OLD that calls one of the removed calls (before parsing)."""
    kept = {_norm(x) for x in b.decode(errors="replace").splitlines()}
    return any(_calls(x) and _norm(x) not in kept and any(c in REMOVED for c in _calls(x))
               for x in a.decode(errors="replace").splitlines())  # fmt: skip


def extract(old: Path, new: Path) -> list[Site]:
    """Upstream's lifetime conversions from OLD to NEW, sorted by file and line."""
    sites: list[Site] = []
    wrapper = _wraps_managed(old)
    for old_rel, new_rel in pair_files(old, new):
        a, b = (old / old_rel).read_bytes(), (new / new_rel).read_bytes()
        if a == b or not _may_convert(a, b):
            continue
        sites += _file_sites(old_rel, new_rel, a, b, wrapper)
    return sorted(sites, key=lambda s: (s.file, s.lines, s.kind))


# -- the sweep and the scoring -------------------------------------------------------
def site_paths(sites: Iterable[Site]) -> list[str]:
    """The driver directories (drivers/gpu/drm/X) of the sites, or the file itself for one
    directly under drivers/gpu/drm: a sweep of those modules gives the findings there."""
    out = set()
    for s in sites:
        parts = s.file.split("/")
        out.add("/".join(parts[:4]) if len(parts) > 4 else s.file)
    return sorted(out)


def sweep_report(old: Path, jobs: int, paths: Sequence[str] = ()) -> dict:  # type: ignore[type-arg]
    """The JSON report of `drmm-refactor sweep OLD` with patches (exit 1 means findings),
    narrowed to `paths` when given."""
    narrow = [a for p in paths for a in ("--paths", p)]
    with tempfile.TemporaryDirectory(prefix="drmm-upstream-") as tmp:
        out = Path(tmp) / "old.json"
        res = proc.run([sys.executable, "-m", "refactor", "sweep", str(old), "--jobs", str(jobs), *narrow,
                        "--format", "json", "-o", str(out)],
                       cwd=REPO, timeout=14400, env={"PYTHONPATH": str(REPO)})  # fmt: skip
        if res.returncode not in (0, 1) or not out.is_file():
            raise SystemExit(f"sweep of {old} failed ({res.returncode}): {res.stderr.strip()[-400:]}")
        return json.loads(out.read_text())  # type: ignore[no-any-return]


def _patch_files(diff: str) -> dict[str, tuple[set[int], list[tuple[int, str]]]]:
    """file -> (OLD lines the diff removes, [(OLD line near it, added text)])."""
    out: dict[str, tuple[set[int], list[tuple[int, str]]]] = {}
    cur = None
    line = 0
    for text in diff.splitlines():
        if text.startswith("--- "):
            continue
        if text.startswith("+++ "):
            path = text[4:].split("\t")[0]
            cur = out.setdefault(path[2:] if path.startswith("b/") else path, (set(), []))
            continue
        m = re.match(r"@@ -(\d+)", text)
        if m:
            line = int(m.group(1))
            continue
        if cur is None:
            continue
        if text.startswith("-"):
            cur[0].add(line)
            line += 1
        elif text.startswith("+"):
            cur[1].append((line, text[1:]))
        else:
            line += 1
    return out


def score(sites: Iterable[Site], report: dict, old: Path) -> list[Outcome]:  # type: ignore[type-arg]
    """Each site with what the sweep of OLD found and patched there."""
    findings: dict[tuple[str, str], list[dict]] = {}  # type: ignore[type-arg]
    in_file: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    for f in report.get("findings", []):
        findings.setdefault((f["file"], f["function"]), []).append(f)
        in_file.setdefault(f["file"], []).append(f)
    patches = {p["id"]: p for p in report.get("patches", [])}
    swept = {f for d in report.get("drivers", []) for f in d.get("files", [])}
    skipped = {s["file"]: s["reason"] for s in report.get("skipped", [])}
    spans: dict[str, dict[str, tuple[int, int]]] = {}
    out = []
    for s in sites:
        here = findings.get((s.file, s.function), [])
        hits = [f for f in here if f["rule"] in RULES_OF[s.kind]
                and any(a <= f["line"] <= b for a, b in s.spans)]  # fmt: skip
        hits.sort(key=lambda f: (f.get("patch") is None, f["line"], f["rule"]))
        if not hits:
            note = _why_missed(s, here, in_file.get(s.file, []), swept, skipped)
            out.append(Outcome(s, False, False, False, note=note))
            continue
        hit = hits[0]
        pid = hit.get("patch") or ""
        if not pid:
            out.append(Outcome(s, True, False, False, hit["rule"], note=hit.get("no_patch", "")))
            continue
        if s.file not in spans:
            spans[s.file] = _functions((old / s.file).read_bytes())
        first, last = spans[s.file].get(s.function, (0, 0))
        removed, added = _patch_files(patches[pid]["diff"]).get(s.file, (set(), []))
        helpers = tuple(sorted({c for ln, t in added if first <= ln <= last + 1 for c in _calls(t)
                                if c in ADDED}))  # fmt: skip
        same = (not s.helper or s.helper in helpers) and all(
            any(ln in removed for ln in range(a, b + 1)) for a, b in s.spans
        )
        if ".destroy" in s.removed:
            same = same and any(re.search(r"\.destroy\s*=", (old / s.file).read_text(errors="replace")
                                          .splitlines()[ln - 1]) for ln in removed)  # fmt: skip
        out.append(Outcome(s, True, True, same, hit["rule"], pid, helpers))
    return out


def _why_missed(s: Site, here: list[dict], in_file: list[dict], swept: set[str],  # type: ignore[type-arg]
                skipped: dict[str, str]) -> str:  # fmt: skip
    """What the sweep said near a site it missed, so that misses can be grouped by cause."""
    if s.file not in swept:
        return "file not swept (in no module that creates or binds a drm_device)"
    if s.file in skipped:
        return f"file skipped ({skipped[s.file]})"
    notes = []
    if here:
        notes.append("other findings in the function: "
                     + ", ".join(sorted({f"{f['rule']}@{f['line']}" for f in here})))  # fmt: skip
    else:
        notes.append("no finding in the function")
    elsewhere = sorted({f"{f['rule']}@{f['function']}:{f['line']}" for f in in_file
                        if f["rule"] in RULES_OF[s.kind] and f["function"] != s.function})  # fmt: skip
    if elsewhere:
        notes.append("the kind's rules elsewhere in the file: " + ", ".join(elsewhere))
    return "; ".join(notes)


# -- output --------------------------------------------------------------------------
def _cause(note: str) -> str:
    if note.startswith(("file not swept", "file skipped")):
        return note.split(" (")[0]
    if "the kind's rules elsewhere in the file" in note:
        return "the kind's rules report it elsewhere in the file (another function or line)"
    return "no finding of the kind's rules in the file"


def table(outcomes: Sequence[Outcome]) -> list[dict]:  # type: ignore[type-arg]
    rows = []
    for kind in (*KINDS, "all"):
        mine = [o for o in outcomes if kind in ("all", o.site.kind)]
        n = len(mine)
        found = sum(o.found for o in mine)
        patched = sum(o.patched for o in mine)
        same = sum(o.same_fix for o in mine)
        rows.append({"kind": kind, "sites": n, "found": found, "patched": patched, "same_fix": same,
                     "recall": round(found / n, 3) if n else None})  # fmt: skip
    return rows


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:5.1f}%" if b else "    -"


def render(outcomes: Sequence[Outcome], old: Path, new: Path) -> str:
    head = f"{'kind':18} {'sites':>5} {'found':>5} {'recall':>7} {'patched':>7} {'same fix':>8}"
    lines = [f"upstream conversions {old} -> {new} ({', '.join(DIRS)})", "", head]
    for r in table(outcomes):
        lines.append(f"{r['kind']:18} {r['sites']:5} {r['found']:5} {_pct(r['found'], r['sites']):>7} "
                     f"{r['patched']:7} {r['same_fix']:8}")  # fmt: skip
    misses = [o for o in outcomes if not o.found]
    causes: dict[str, int] = {}
    for o in misses:
        causes[_cause(o.note)] = causes.get(_cause(o.note), 0) + 1
    lines += ["", "misses by what the sweep said:"]
    lines += [f"  {n:4}  {why}" for why, n in sorted(causes.items(), key=lambda x: (-x[1], x[0]))]
    lines += ["", f"misses ({len(misses)}):"]
    for o in misses:
        lines.append(f"  {o.site.kind:17} {o.site.where()}  {o.site.change()}  [{o.note}]")
    unpatched = [o for o in outcomes if o.found and not o.patched]
    lines += ["", f"found, no patch ({len(unpatched)}):"]
    for o in unpatched:
        lines.append(f"  {o.site.kind:17} {o.site.where()}  {o.site.change()}  {o.rule}: {o.note or '-'}")
    different = [o for o in outcomes if o.patched and not o.same_fix]
    lines += ["", f"different fixes ({len(different)}):"]
    for o in different:
        lines.append(f"  {o.site.kind:17} {o.site.where()}  upstream {o.site.change()}; patch {o.patch} "
                     f"adds {', '.join(o.patch_helpers) or 'no drmm_ helper here'}")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path, help="the older kernel tree")
    ap.add_argument("new", type=Path, help="the newer kernel tree")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--report", type=Path, help="a `sweep --format json` report of OLD to use instead")
    ap.add_argument("--json", action="store_true", help="print JSON instead of text")
    ap.add_argument("--whole", action="store_true",
                    help="sweep the whole tree, not only the driver directories that hold sites")  # fmt: skip
    ap.add_argument("--save-report", type=Path, help="also write the sweep's JSON report here")
    args = ap.parse_args(argv)
    for t in (args.old, args.new):
        if not (t / "Makefile").is_file() or not (t / "drivers/gpu/drm").is_dir():
            print(f"upstream.py: {t}: not a kernel tree with drivers/gpu/drm", file=sys.stderr)
            return 2
    sites = extract(args.old, args.new)
    if args.report:
        try:
            report = json.loads(args.report.read_text())
        except (OSError, ValueError) as e:
            print(f"upstream.py: {args.report}: {e}", file=sys.stderr)
            return 2
    else:
        report = sweep_report(args.old, args.jobs, () if args.whole else site_paths(sites))
        if args.save_report:
            args.save_report.write_text(json.dumps(report))
    outcomes = score(sites, report, args.old)
    if args.json:
        doc = {"old": str(args.old), "new": str(args.new), "table": table(outcomes),
               "sites": [asdict(o) for o in outcomes]}  # fmt: skip
        print(json.dumps(doc, indent=1, sort_keys=True))
    else:
        sys.stdout.write(render(outcomes, args.old, args.new))
    return 0


if __name__ == "__main__":
    sys.exit(main())
