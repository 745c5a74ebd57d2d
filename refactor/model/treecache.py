"""The tree model and the sweep's results from the cache: only what changed is recomputed.

`load()` takes a snapshot of the tree (`cache.Snapshot`: one `find`), compares it with
the snapshot stored for that tree the last time (or, for a tree seen for the first time,
the last one stored on the same filesystem: a hard-linked copy shares its inodes) and
builds the model reading only what changed:

- the Kbuild map is reused unless a Kbuild file (or anything but a `.c`/`.h`) changed, a
  file appeared or disappeared, or a changed `.c` file includes another `.c` file;
- the keyword scans (`git grep`) are answered from the previous answers, re-reading
  only the changed files;
- what `load_tree` parses in the files the scans find (definitions, allocation sites,
  `include/drm` helpers) is memoised by file contents;
- when nothing changed, the previous model is used as it is.

`SweepCache` holds the keys of the sweep's results: a driver's findings are keyed by the
contents of everything its classification reads (its module's files, the headers next
to them, `include/drm/`), the rules' text and options, the tool and spatch versions and
the timeout; one rule's spatch result on one file by the file's contents and path, the
rule and the same versions and options; a driver's generated patches by its findings'
key, its findings, the names of the files next to its own and the patch-mode timeout
(the files the planner read beyond those are recorded in the entry and checked).  The
rules run with `--no-includes` (spatch reads no header while it matches a file); a
rule whose options make spatch read other files (`--all-includes`, `--local-includes`,
`--recursive-includes`, `-I`, `--macro-file`, ...) is keyed by everything its driver's
key covers plus every header under `include/`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from refactor.cocci.rules import Rule
from refactor.cocci.spatch import Spatch
from refactor.csrc.structs import FileDecls
from refactor.infra import git
from refactor.infra.cache import Snapshot, Store, cache_dir, digest, prune, snapshot, tool_key
from refactor.model import tree as model_mod
from refactor.model.kbuild import KbuildMap
from refactor.model.tree import AllocSite, ApiEntry, DefSummary, Driver, TreeModel, TreeScan

_FORMAT = "tree-1"
_MAX_INCREMENTAL = 2000  # beyond this many changed files, scan the tree again
_READS_OTHER_FILES = ("--all-includes", "--local-includes", "--recursive-includes", "--include",
                      "--macro-file", "--macro-file-builtins", "-I", "--iso-file")  # fmt: skip


@dataclass
class TreeEntry:
    """What is stored per tree: its snapshot and what `load_tree` learnt from it."""

    tool: str
    snapshot: Snapshot
    kbuild: KbuildMap | None = None
    untracked: frozenset[str] | None = None  # git trees: scanned files git does not track
    hits: dict[str, tuple[str, ...]] = field(default_factory=dict)  # keyword scan -> files
    models: dict[tuple[str, ...], TreeModel] = field(default_factory=dict)  # paths -> model


class CachedScan(TreeScan):
    """`TreeScan` answered from the previous entry of the tree and the file memo."""

    def __init__(self, root: Path, snap: Snapshot, prev: TreeEntry | None, changed: set[str] | None,
                 memo: Store) -> None:  # fmt: skip
        super().__init__(root)
        self.snap, self.prev, self.memo = snap, prev, memo
        self.changed = changed
        # files only modified (none added or removed): the previous scans can be updated
        self.incremental = (
            prev is not None
            and changed is not None
            and len(changed) <= _MAX_INCREMENTAL
            and all(f in snap.sigs and f in prev.snapshot.sigs for f in changed)
        )
        self.entry = TreeEntry(tool_key(), snap)
        self.git = git.is_repo(root)

    def kbuild(self) -> KbuildMap:
        prev = self.prev
        if self.incremental and prev is not None and prev.kbuild is not None and self._kbuild_unchanged(prev):
            self.entry.kbuild = prev.kbuild
        else:
            self.entry.kbuild = super().kbuild()
        return self.entry.kbuild

    def _kbuild_unchanged(self, prev: TreeEntry) -> bool:
        """The Kbuild reader reads Kbuild files and, of a `.c` file, only its `#include
        "x.c"` lines: changed `.c`/`.h` files that neither had nor have those leave the
        Kbuild map as it was."""
        assert prev.kbuild is not None and self.changed is not None
        includers = {f for m in prev.kbuild.modules for f in m.includers}
        for rel in self.changed:
            if not rel.endswith((".c", ".h")) or rel in includers:
                return False
            if rel.endswith(".c") and b'.c"' in model_mod.read_source(self.root, rel):
                return False
        return True

    def files_containing(self, needles: Iterable[str], paths: Sequence[str]) -> list[str]:
        needles = sorted(set(needles))
        key = digest(*needles, "\0", *paths)
        prev = self.prev
        if self.incremental and prev is not None and key in prev.hits and self.changed is not None:
            untracked = prev.untracked or frozenset()
            found = set(prev.hits[key]) - self.changed
            for rel in self.changed:
                if (rel.endswith((".c", ".h")) and rel not in untracked
                        and any(rel.startswith(p.rstrip("/") + "/") or rel == p for p in paths)):  # fmt: skip
                    data = model_mod.read_source(self.root, rel)
                    if any(n.encode() in data for n in needles) or (
                        not data and model_mod.unreadable(self.root, rel)
                    ):
                        found.add(rel)  # as the scan does: an unreadable file is reported later
            self.entry.untracked = prev.untracked
            result = sorted(found)
        else:
            result = super().files_containing(needles, paths)
            if self.git and self.entry.untracked is None:
                self.entry.untracked = self._untracked()
        self.entry.hits[key] = tuple(result)
        return result

    def _untracked(self) -> frozenset[str]:
        res = git.run(self.root, "ls-files", "-z", "--", "drivers", "include")
        if not res.ok:
            return frozenset()
        tracked = set(res.stdout.split("\0"))
        return frozenset(f for f in self.snap.sigs if f not in tracked)

    def definitions(self, rel: str) -> tuple[DefSummary, ...]:
        key = digest(_FORMAT, "defs", tool_key(), self.snap.digest_of(rel))
        value = self.memo.get(key)
        if value is None:
            value = super().definitions(rel)
            self.memo.put(key, value)
        return value

    def sites(self, rel: str, api_of: dict[str, str]) -> list[AllocSite]:
        key = digest(
            _FORMAT, "sites", tool_key(), rel, self.snap.digest_of(rel), repr(sorted(api_of.items()))
        )
        value = self.memo.get(key)
        if value is None:
            value = super().sites(rel, api_of)
            self.memo.put(key, value)
        return value

    def api_entries(self, rel: str) -> list[ApiEntry]:
        key = digest(_FORMAT, "api", tool_key(), rel, self.snap.digest_of(rel))
        value = self.memo.get(key)
        if value is None:
            value = super().api_entries(rel)
            self.memo.put(key, value)
        return value

    def headers(self) -> list[str]:
        return sorted(f for f in self.snap.sigs if f.startswith("include/drm/") and f.endswith(".h"))


@dataclass
class Loaded:
    """A tree model, and the cache of its sweep (None with the cache off)."""

    model: TreeModel
    cache: SweepCache | None


def _state_store() -> Store:
    return Store(cache_dir() / "state")


def _root_key(root: Path) -> str:
    return digest(_FORMAT, "root", str(root))


def load(root: Path, paths: Sequence[str] = (), use_cache: bool = True) -> Loaded:
    """The model of the tree at `root` (see `model.load_tree`), from the cache when it can
    be; with `use_cache` False, computed from scratch and the cache neither read nor written."""
    if not use_cache:
        return Loaded(model_mod.load_tree(root, paths), None)
    root = model_mod.check_tree(root)
    states = _state_store()
    snap = snapshot(root)
    prev = _previous(states, root)
    changed = snap.carry(prev.snapshot) if prev is not None else None
    memo = Store(cache_dir() / "memo")
    key = tuple(sorted(paths))
    scan = CachedScan(root, snap, prev, changed, memo)
    clean = prev is not None and not changed and key in prev.models
    if (
        clean
        and prev is not None
        and not any(not model_mod.unreadable(root, f) for f, _ in prev.models[key].unreadable)
    ):
        model = dataclasses.replace(prev.models[key], root=root)
        scan.entry = dataclasses.replace(prev, snapshot=snap, models=dict(prev.models))
    else:
        clean = False
        model = model_mod.load_tree(root, paths, scan)
        if prev is not None and not changed:  # same tree, other paths: keep what it knew
            scan.entry.models.update(prev.models)
    scan.entry.models[key] = model
    sweep_cache = SweepCache(snap, scan.entry, states, _root_key(root))
    sweep_cache.unchanged = (
        len(snap.hashes) if clean and prev is not None and prev.snapshot.root == root else -1
    )
    return Loaded(model, sweep_cache)


def _previous(states: Store, root: Path) -> TreeEntry | None:
    """The stored entry of this tree, else the last one stored (a copy of a tree made of
    hard links shares the original's inodes, so its unchanged files are recognised)."""
    for key in (_root_key(root), states.get(digest(_FORMAT, "latest"))):
        if isinstance(key, str):
            entry = states.get(key)
            if isinstance(entry, TreeEntry) and entry.tool == tool_key():
                return entry
    return None


class SweepCache:
    """Keys and stores for the sweep's results on one snapshot of a tree."""

    def __init__(self, snap: Snapshot, entry: TreeEntry, states: Store, root_key: str) -> None:
        self.snap = snap
        self.entry = entry
        self.states = states
        self.root_key = root_key
        self.results = Store(cache_dir() / "sweep")
        self.memo = Store(cache_dir() / "memo")
        self.unchanged = -1  # the number of hashes known when the entry stored is still right
        self.keys: dict[str, str] = {}  # driver name -> its key, as the sweep computed it
        self._dirs: dict[str, list[str]] | None = None
        self._files: dict[str, list[str]] | None = None
        self._drm: str | None = None
        self._include: str | None = None

    def _decls_key(self, rel: str) -> str:
        return digest(_FORMAT, "decls", tool_key(), rel, self.snap.digest_of(rel))

    def decls(self, rel: str) -> FileDecls | None:
        """The struct declarations of a file, as `structs.declarations` gave them before."""
        found = self.memo.get(self._decls_key(rel))
        return found if isinstance(found, FileDecls) else None

    def remember_decls(self, rel: str, decls: FileDecls) -> None:
        self.memo.put(self._decls_key(rel), decls)

    @property
    def hits(self) -> int:
        return self.results.hits

    def _headers_in(self, directory: str) -> list[str]:
        if self._dirs is None:
            self._dirs = {}
            for f in self.snap.sigs:
                if f.endswith(".h"):
                    self._dirs.setdefault(os.path.dirname(f), []).append(f)
        return self._dirs.get(directory, [])

    def _files_in(self, directory: str) -> list[str]:
        if self._files is None:
            self._files = {}
            for f in self.snap.sigs:
                self._files.setdefault(os.path.dirname(f), []).append(f)
        return self._files.get(directory, [])

    def _drm_headers(self) -> str:
        if self._drm is None:
            self._drm = self.snap.digests(
                f for f in self.snap.sigs if f.startswith("include/drm/") and f.endswith(".h")
            )
        return self._drm

    def _all_headers(self) -> str:
        if self._include is None:
            self._include = self.snap.digests(
                f for f in self.snap.sigs if f.startswith("include/") and f.endswith(".h")
            )
        return self._include

    def setup(self, spatch: Spatch, rules: Sequence[Rule], timeout: int, api: frozenset[str]) -> None:
        """What every key shares: the tool, spatch (its version, and which executable: a
        reinstalled or another spatch is not trusted to give the same results), the rules
        (text and options), the timeout, the tree's DRM helpers."""
        self.rules = {r.id: digest(r.id, r.path.read_bytes(), repr(r.options)) for r in rules}
        try:
            st = os.stat(spatch.path)
            exe = f"{os.path.realpath(spatch.path)} {st.st_size} {st.st_mtime_ns}"
        except OSError:
            exe = spatch.path
        self.common = digest(_FORMAT, tool_key(), spatch.version_text, exe, str(timeout))
        self.base = digest(self.common, *sorted(self.rules.values()))
        self.api = digest(*sorted(api))
        self.wide = any(o in _READS_OTHER_FILES or o.startswith("-I") for r in rules for o in r.options)

    def driver_key(self, driver: Driver, owned: Sequence[str]) -> str:
        files = set(driver.module.files) | set(owned)
        for d in {os.path.dirname(f) for f in files}:
            files.update(self._headers_in(d))
        return digest(self.base, "driver", repr(driver), repr(sorted(owned)), self.snap.digests(files),
                      self._drm_headers(), self.api, self._all_headers() if self.wide else "")  # fmt: skip

    def file_key(self, rule: Rule, rel: str, driver_key: str) -> str:
        wide = any(o in _READS_OTHER_FILES or o.startswith("-I") for o in rule.options)
        context = driver_key if wide else ""  # what else spatch may read: keyed as the driver
        return digest(self.common, "file", self.rules[rule.id], rel, self.snap.digest_of(rel), context)

    def patch_key(self, driver: Driver, findings: Sequence[object], timeout: int,
                  neighbours: Sequence[str] = ()) -> str | None:  # fmt: skip
        """The key of a driver's generated patches and refusals: its sweep key (its files,
        the headers next to them, `include/drm/`, the rules, the tool and spatch), the names
        of the files in its module's directories (the planner looks for other modules
        there; what it reads of them is checked by `deps_hold`), the drivers of the run's
        model in those directories (`neighbours`: a --paths run that leaves some out gives
        a driver's lifetime model other files), its findings and the patch-mode timeout;
        None when the sweep gave the driver no key (a file of it could not be read)."""
        key = self.keys.get(driver.name)
        if key is None:
            return None
        dirs = {os.path.dirname(f) for f in driver.module.files}
        near = sorted({f for d in dirs for f in self._files_in(d)})
        return digest(key, "patches", repr(near), repr(list(neighbours)), repr(list(findings)), str(timeout))

    def deps_hold(self, deps: Sequence[tuple[str, str]]) -> bool:
        """Whether the files a cached entry also read still have the contents it recorded."""
        return all(self.snap.digest_of(rel) == h for rel, h in deps)

    def save(self) -> None:
        """Store the tree's entry (with the content hashes learnt during the sweep), unless
        the stored one is still exact."""
        prune()
        if self.unchanged == len(self.snap.hashes):
            return
        self.states.put(self.root_key, self.entry)
        self.states.put(digest(_FORMAT, "latest"), self.root_key)
