"""The tree model: what a kernel tree is made of, as far as the DRM lifetime rules care.

`load_tree()` reads the tree's version, maps source files to modules with the Kbuild
reader, finds every module that creates a `drm_device` (directly or through a wrapper)
and records which managed helpers the tree declares in `include/drm/`, so later stages
only propose what the tree supports.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from refactor.csrc import cindex
from refactor.infra import proc
from refactor.infra.errors import TreeError
from refactor.model.kbuild import KbuildMap, Module, read_kbuild

# The calls that create a drm_device.  `__drm_dev_alloc` only exists in newer trees.
ALLOC_APIS = ("devm_drm_dev_alloc", "__devm_drm_dev_alloc", "drm_dev_alloc", "__drm_dev_alloc")
MANAGED_ALLOC = ("devm_drm_dev_alloc", "__devm_drm_dev_alloc")
API_PATTERN = re.compile(r"^(__)?(drmm_|devm_drm_|drm_dev_)\w+$")
_TEST_PATH = re.compile(r"(^|/)(tests?|selftests?|kunit)(/|$)|_test\.c$|kunit")


@dataclass(frozen=True)
class AllocSite:
    """One place a module creates its drm_device."""

    api: str  # the allocation API reached: devm_drm_dev_alloc, drm_dev_alloc, ...
    call: str  # the name called here: the API itself or a wrapper of it
    file: str
    line: int
    function: str
    struct: str = ""  # private struct embedding the drm_device ("struct foo_priv")
    member: str = ""  # its drm_device member ("drm")
    assigned_to: str = ""  # where the result goes

    @property
    def managed(self) -> bool:
        return self.api in MANAGED_ALLOC


@dataclass(frozen=True)
class Wrapper:
    """A function or macro outside the DRM core whose body allocates a drm_device."""

    name: str
    api: str
    file: str
    line: int
    kind: str


@dataclass(frozen=True)
class Driver:
    """A module that creates a drm_device."""

    module: Module
    allocations: tuple[AllocSite, ...]
    test: bool  # kunit or selftest code, not a device driver
    # "drm": creates a drm_device; "component": a separate module whose component bind()
    # callbacks attach mode objects to another module's drm_device
    role: str = "drm"

    @property
    def name(self) -> str:
        return self.module.name

    @property
    def private_structs(self) -> tuple[str, ...]:
        return tuple(sorted({a.struct for a in self.allocations if a.struct}))


@dataclass(frozen=True)
class ApiEntry:
    name: str
    kind: str  # function, inline, prototype, macro
    header: str  # relative to the tree root
    line: int


@dataclass(frozen=True)
class ApiTable:
    """The drmm_*, devm_drm_* and drm_dev_* helpers declared in include/drm/."""

    entries: tuple[ApiEntry, ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(e.name for e in self.entries)

    def has(self, name: str) -> bool:
        return name in self.names

    def get(self, name: str) -> ApiEntry | None:
        return next((e for e in self.entries if e.name == name), None)


@dataclass(frozen=True)
class TreeModel:
    root: Path
    version: str
    kbuild: KbuildMap
    drivers: tuple[Driver, ...]
    wrappers: tuple[Wrapper, ...]
    api: ApiTable
    # files that call an allocation API but belong to no module Kbuild defines
    unmapped: tuple[AllocSite, ...]
    unreadable: tuple[tuple[str, str], ...] = ()  # (file, why) among those the scan found


def tree_version(root: Path) -> str:
    """`VERSION.PATCHLEVEL.SUBLEVEL` + EXTRAVERSION from the top Makefile."""
    try:
        text = (root / "Makefile").read_text(errors="replace")[:4096]
    except OSError:
        raise TreeError(f"{root} is not a Linux kernel tree: no readable top-level Makefile") from None
    fields = dict(re.findall(r"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=[ \t]*(\S*)", text, re.M))
    if not fields.get("VERSION") or "PATCHLEVEL" not in fields:
        raise TreeError(f"{root} is not a Linux kernel tree: its Makefile sets no VERSION/PATCHLEVEL")
    version = f"{fields['VERSION']}.{fields['PATCHLEVEL']}"
    if fields.get("SUBLEVEL"):
        version += f".{fields['SUBLEVEL']}"
    return version + fields.get("EXTRAVERSION", "")


def check_tree(root: Path) -> Path:
    """Refuse paths that are not kernel trees with a DRM subsystem; return the resolved root."""
    if not root.exists():
        raise TreeError(f"{root}: no such directory")
    if not root.is_dir():
        raise TreeError(f"{root} is a file, not a kernel tree directory")
    tree_version(root)
    if not (root / "drivers/gpu/drm").is_dir():
        raise TreeError(f"{root} has no drivers/gpu/drm: nothing to sweep")
    return root.resolve()


def files_containing(root: Path, needles: Iterable[str], paths: Sequence[str]) -> list[str]:
    """Relative paths of .c/.h files under `paths` that contain any of `needles`.

    One pass over the tree: `git grep` on a git work tree (tracked files, as they are in the
    work tree; Debian's `/*` .gitignore defeats `--untracked`),
    GNU grep otherwise.
    """
    needles = sorted(set(needles))
    if not needles:
        return []
    patterns = [arg for n in needles for arg in ("-e", n)]
    existing = [p for p in paths if (root / p).exists()]
    if not existing:
        return []
    if (root / ".git").exists():
        argv = ["git", "grep", "-lF", "--no-color", *patterns, "--",
                *[f"{p}/*.c" if (root / p).is_dir() else p for p in existing],
                *[f"{p}/*.h" for p in existing if (root / p).is_dir()]]  # fmt: skip
    else:
        argv = ["grep", "-rlF", "--include=*.c", "--include=*.h", *patterns, *existing]
    res = proc.run(argv, cwd=root, timeout=600)
    # files grep cannot read come back (as unreadable) from the reads that follow
    denied = [m.group(1) for m in _UNREADABLE.finditer(res.stderr)]
    other = [x for x in res.stderr.splitlines() if x.strip() and not _UNREADABLE.match(x)]
    if res.returncode not in (0, 1) and (other or not denied):
        raise TreeError(f"{root}: cannot search the tree: {res.stderr.strip()[:200]}")
    return sorted({os.path.normpath(line) for line in [*res.stdout.splitlines(), *denied] if line})


_UNREADABLE = re.compile(
    r"^(?:grep|fatal|warning): (?:unable to read )?'?(.+?)'?: (?:Permission denied|Input/output error)$", re.M
)


def read_source(root: Path, rel: str) -> bytes:
    """The bytes of a file of the tree, empty when it cannot be read."""
    try:
        return (root / rel).read_bytes()
    except OSError:
        return b""


def unreadable(root: Path, rel: str) -> str:
    """Why a file of the tree cannot be read ("" when it can)."""
    try:
        with (root / rel).open("rb"):
            return ""
    except OSError as exc:
        return exc.strerror or str(exc)


@dataclass(frozen=True)
class DefSummary:
    """What `find_wrappers` needs of one definition: its name, kind, line, whether it is
    static, and the identifiers its body mentions."""

    name: str
    kind: str
    line: int
    static: bool
    names: frozenset[str]


def summarise(source: bytes) -> tuple[DefSummary, ...]:
    lines = source.decode(errors="replace").splitlines()
    return tuple(
        DefSummary(
            d.name,
            d.kind,
            d.line,
            d.kind == "function" and _is_static(lines, d),
            frozenset(cindex.identifiers_in(d.body)),
        )  # fmt: skip
        for d in cindex.definitions(source)
    )


class TreeScan:
    """How `load_tree` reads a tree: Kbuild, the keyword scan, and what it parses in the
    files the scan finds.  `refactor/treecache.py` answers the same questions from its
    cache, reading only what changed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def kbuild(self) -> KbuildMap:
        return read_kbuild(self.root)

    def files_containing(self, needles: Iterable[str], paths: Sequence[str]) -> list[str]:
        return files_containing(self.root, needles, paths)

    def definitions(self, rel: str) -> tuple[DefSummary, ...]:
        return summarise(read_source(self.root, rel))

    def sites(self, rel: str, api_of: dict[str, str]) -> list[AllocSite]:
        return _sites(self.root, rel, api_of)

    def api_entries(self, rel: str) -> list[ApiEntry]:
        found = cindex.definitions(read_source(self.root, rel))
        return [ApiEntry(d.name, d.kind, rel, d.line) for d in found if API_PATTERN.match(d.name)]

    def headers(self) -> list[str]:
        inc = self.root / "include/drm"
        return [str(h.relative_to(self.root)) for h in sorted(inc.rglob("*.h"))] if inc.is_dir() else []


@dataclass(frozen=True)
class Scanned:
    """What the keyword scans of `find_wrappers` found."""

    wrappers: tuple[Wrapper, ...]
    core: frozenset[str]  # files defining the allocation APIs (the DRM core, not drivers)
    callers: tuple[str, ...]  # files naming an allocation API or a wrapper
    extra: tuple[str, ...]  # files naming one of the extra words


def find_wrappers(root: Path, scan: TreeScan | None = None, extra: Sequence[str] = ()) -> Scanned:
    """Functions (not static) and macros that call an allocation API or another wrapper.

    One scan of `drivers/` and `include/` per level of wrappers (the first also looks for
    `extra`, so the tree is not read again for them); the files each level finds are the
    ones whose definitions are parsed.
    """
    scan = scan or TreeScan(root)
    api_of: dict[str, str] = {a: a for a in ALLOC_APIS}
    core: set[str] = set()
    wrappers: list[Wrapper] = []
    callers: set[str] = set()
    extra_hits: list[str] = []
    new = set(ALLOC_APIS)
    for level in range(7):  # wrappers of wrappers, a few levels deep
        found: set[str] = set()
        words = new | set(extra) if level == 0 else new
        for rel in scan.files_containing(words, ["drivers", "include"]):
            if level == 0 and extra:
                data = read_source(root, rel)
                if not data and unreadable(root, rel):
                    callers.add(rel)  # the scan read it, this process cannot: load_tree says so
                    continue
                if any(w.encode() in data for w in extra):
                    extra_hits.append(rel)
                if not any(n.encode() in data for n in new):
                    continue
            callers.add(rel)
            if level == 6:
                continue  # only the callers of the last level's wrappers
            for d in scan.definitions(rel):
                if d.name in ALLOC_APIS and d.kind != "prototype":
                    core.add(rel)
                if d.name in api_of or d.kind == "prototype" or d.static:
                    continue
                hit = d.names & set(api_of)
                if hit:
                    api = api_of[sorted(hit)[0]]
                    api_of[d.name] = api
                    wrappers.append(Wrapper(d.name, api, rel, d.line, d.kind))
                    found.add(d.name)
        new = found
        if not new:
            break
    return Scanned(tuple(wrappers), frozenset(core), tuple(sorted(callers)), tuple(extra_hits))


def _is_static(lines: list[str], d: cindex.Definition) -> bool:
    head = " ".join(lines[max(0, d.line - 2) : d.line])
    return bool(re.search(r"\bstatic\b", head))


def _sites(root: Path, rel: str, api_of: dict[str, str]) -> list[AllocSite]:
    out = []
    source = read_source(root, rel)
    for c in cindex.calls(source, api_of):
        struct = member = ""
        if c.name == "devm_drm_dev_alloc" and len(c.args) >= 4:
            struct, member = c.args[2], c.args[3]
        elif c.name in ("__devm_drm_dev_alloc", "__drm_dev_alloc") and c.args:
            m = re.search(r"offsetof\s*\(\s*(.+?)\s*,\s*([\w.\[\]]+)\s*\)", ", ".join(c.args))
            if m:
                struct, member = m.group(1), m.group(2)
        if m := re.fullmatch(r"typeof\s*\(\s*\*\s*(\w+)\s*\)", struct):
            # `typeof(*priv)`: the type priv points to, from its declaration
            struct = cindex.declared_type(source, c.line, m.group(1)) or struct
        out.append(AllocSite(api_of[c.name], c.name, rel, c.line, c.function, struct, member, c.assigned_to))
    return out


def read_api(root: Path, scan: TreeScan | None = None) -> ApiTable:
    """Every drmm_*, devm_drm_* and drm_dev_* name declared under include/drm/."""
    scan = scan or TreeScan(root)
    entries: dict[str, ApiEntry] = {}
    for rel in scan.headers():
        for e in scan.api_entries(rel):
            entries.setdefault(e.name, e)
    return ApiTable(tuple(sorted(entries.values(), key=lambda e: e.name)))


def is_test_path(path: str) -> bool:
    return bool(_TEST_PATH.search(path))


def load_tree(root: Path, paths: Sequence[str] = (), scan: TreeScan | None = None) -> TreeModel:
    """Build the model of the kernel tree at `root` (optionally only modules under `paths`);
    `scan` reads the tree (by default directly; `treecache.py` gives a cached one)."""
    root = check_tree(root)
    scan = scan or TreeScan(root)
    version = tree_version(root)
    kbuild = scan.kbuild()
    scanned = find_wrappers(root, scan, extra=["component_add"])
    wrappers, core = scanned.wrappers, scanned.core
    api_of = {a: a for a in ALLOC_APIS} | {w.name: w.api for w in wrappers}
    module_of = kbuild.module_of()
    by_module: dict[str, list[AllocSite]] = {}
    unmapped: list[AllocSite] = []
    unreadable_files: list[tuple[str, str]] = []
    for rel in scanned.callers:
        if rel in core or not rel.endswith(".c") or not _under(rel, "drivers"):
            continue
        why = unreadable(root, rel)
        if why:
            unreadable_files.append((rel, why))
            continue
        sites = scan.sites(rel, api_of)
        module = module_of.get(rel)
        if module is None:
            unmapped.extend(sites)
        elif sites:
            by_module.setdefault(module.path, []).extend(sites)
    modules = {m.path: m for m in kbuild.modules}
    drivers = []
    for path, sites in sorted(by_module.items()):
        module = modules[path]
        if paths and not any(_under(f, p) for f in module.files for p in paths):
            continue
        test = all(is_test_path(s.file) for s in sites) or is_test_path(module.path)
        drivers.append(Driver(module, tuple(sites), test))
    known = {d.module.path for d in drivers}
    for rel in scanned.extra:
        if not _under(rel, "drivers/gpu/drm"):
            continue
        module = module_of.get(rel)
        if module is None or module.path in known or not rel.endswith(".c"):
            continue
        if paths and not any(_under(f, p) for f in module.files for p in paths):
            continue
        known.add(module.path)
        drivers.append(Driver(module, (), is_test_path(module.path), role="component"))
    drivers.sort(key=lambda d: d.module.path)
    if paths:
        unreadable_files = [(f, why) for f, why in unreadable_files if any(_under(f, p) for p in paths)]
    api = read_api(root, scan)
    return TreeModel(root, version, kbuild, tuple(drivers), tuple(wrappers), api, tuple(unmapped),
                     tuple(unreadable_files))  # fmt: skip


def _under(path: str, prefix: str) -> bool:
    prefix = os.path.normpath(prefix)
    return path == prefix or path.startswith(prefix.rstrip("/") + "/")
