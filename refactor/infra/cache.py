"""Content-addressed caches: where they live, how entries are stored, and what a tree is.

- `cache_dir()`: `$DRMM_REFACTOR_CACHE`, else `$XDG_CACHE_HOME/drmm-refactor`.
- `Store`: pickled values under a hash key, each entry checked by a digest of its bytes,
  so a truncated or corrupt entry is discarded (and the value recomputed), never used.
- `Snapshot`: the size, mtime, inode and mode of every file under `drivers/` and `include/`
  (and the top Makefile), from one `find`; compared with the previous snapshot of the
  same tree it says which files changed, and it remembers the content hash of the files
  that were hashed, so an unchanged file is never read again to compute a cache key.
- `tool_key()`: the tool's version and the text of its own modules, so a cache written
  by another version (or a modified checkout) of the tool is not used.
- `prune()`: entries not used for `MAX_AGE_DAYS` are removed (a hit refreshes an entry's
  mtime at most once a day), so the cache does not grow without bound across rebases.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from refactor.infra import proc

_MAGIC = b"drmm-cache-1\n"
SCANNED = ("drivers", "include", "Makefile")
# A file changed within this long before a snapshot may change again within the same
# mtime tick: its stat is not trusted next time (git's "racily clean" entries).
_RACY_NS = 2_000_000_000
MAX_AGE_DAYS = 30
_DAY = 86400
PRUNED = ("state", "sweep", "memo", "results")  # the Store directories (results: verification's)


def cache_dir() -> Path:
    base = os.environ.get("DRMM_REFACTOR_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "drmm-refactor"
    )
    return Path(base)


def digest(*parts: bytes | str) -> str:
    h = hashlib.sha256()
    for p in parts:
        b = p.encode() if isinstance(p, str) else p
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


_TOOL_KEY: str | None = None


def tool_key() -> str:
    """The tool version and a hash of its package's Python files and templates."""
    global _TOOL_KEY
    if _TOOL_KEY is None:
        from refactor import __version__

        pkg = Path(__file__).resolve().parent.parent
        parts: list[bytes | str] = [__version__]
        for p in sorted(pkg.rglob("*")):
            if p.is_file() and p.suffix in (".py", ".j2"):
                parts += [str(p.relative_to(pkg)), p.read_bytes()]
        _TOOL_KEY = digest(*parts)
    return _TOOL_KEY


class Store:
    """Pickled values keyed by a hex digest; `hits`, `misses` and `discarded` count."""

    def __init__(self, root: Path, enabled: bool = True) -> None:
        self.root = root
        self.enabled = enabled
        self.hits = self.misses = self.discarded = 0

    def path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> Any | None:
        if not self.enabled:
            return None
        path = self.path(key)
        try:
            data = path.read_bytes()
        except OSError:
            self.misses += 1
            return None
        head, check, payload = (
            data[: len(_MAGIC)],
            data[len(_MAGIC) : len(_MAGIC) + 32],
            data[len(_MAGIC) + 32 :],
        )
        value: Any = None
        ok = head == _MAGIC and hashlib.sha256(payload).digest() == check
        if ok:
            try:
                value = pickle.loads(payload)
            except Exception:  # noqa: BLE001 - any unpickling failure means a bad entry
                ok = False
        if not ok:
            path.unlink(missing_ok=True)  # a corrupt entry is discarded and recomputed
            self.discarded += 1
            self.misses += 1
            return None
        self.hits += 1
        _refresh(path)
        return value

    def put(self, key: str, value: Any) -> None:
        if not self.enabled:
            return
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{key}.{os.getpid()}.tmp")
            tmp.write_bytes(_MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def _refresh(path: Path, now: float | None = None) -> None:
    """Mark an entry as used (for `prune`), at most once a day per entry."""
    now = time.time() if now is None else now
    try:
        if now - path.stat().st_mtime > _DAY:
            os.utime(path)
    except OSError:
        pass


def prune(root: Path | None = None, max_age_days: float = MAX_AGE_DAYS, now: float | None = None) -> int:
    """Remove the entries of the Store directories not used for `max_age_days`; runs at
    most once a day (the `pruned` stamp), and returns how many entries it removed."""
    root = cache_dir() if root is None else root
    now = time.time() if now is None else now
    stamp = root / "pruned"
    try:
        if now - stamp.stat().st_mtime < _DAY:
            return 0
    except OSError:
        pass
    removed = 0
    for sub in PRUNED:
        for entry in (root / sub).glob("??/*"):
            try:
                if now - entry.stat().st_mtime > max_age_days * _DAY:
                    entry.unlink()
                    removed += 1
            except OSError:
                continue
    try:
        root.mkdir(parents=True, exist_ok=True)
        stamp.touch()
        os.utime(stamp, (now, now))
    except OSError:
        pass
    return removed


Sig = str  # "size mtime inode mode", as find prints them


@dataclass
class Snapshot:
    """What the files of a tree look like now, and the content hashes known for them."""

    root: Path
    device: int
    taken_ns: int
    sigs: dict[str, Sig]
    hashes: dict[str, str] = field(default_factory=dict)
    racy: frozenset[str] = frozenset()  # stat not to be trusted next time

    def digest_of(self, rel: str) -> str:
        """The content hash of a file of the tree ("" when it cannot be read)."""
        h = self.hashes.get(rel)
        if h is None:
            try:
                h = hashlib.sha256((self.root / rel).read_bytes()).hexdigest()
            except OSError:
                h = ""
            self.hashes[rel] = h
        return h

    def digests(self, rels: Iterable[str]) -> str:
        """One hash for the contents of several files (names included)."""
        return digest(*[p for r in sorted(rels) for p in (r, self.digest_of(r))])

    def carry(self, old: Snapshot) -> set[str]:
        """Take over `old`'s hashes for files whose stat is unchanged (and was trusted);
        return the files that changed, appeared or disappeared.  A file whose stat changed
        but whose contents did not (a hash was known) does not count as changed."""
        changed: set[str] = set()
        same_fs = old.device == self.device
        if same_fs and not old.racy and self.sigs == old.sigs:
            self.hashes.update(old.hashes)
            return changed
        for rel, sig in self.sigs.items():
            before = old.sigs.get(rel)
            known = old.hashes.get(rel)
            if before is None:
                changed.add(rel)
            elif same_fs and before == sig and rel not in old.racy:
                if known is not None:
                    self.hashes[rel] = known
            elif known is None or self.digest_of(rel) != known:
                changed.add(rel)
        changed.update(rel for rel in old.sigs if rel not in self.sigs)
        return changed


def snapshot(root: Path) -> Snapshot:
    """Stat every file under drivers/ and include/ (and the top Makefile) with one `find`."""
    taken = time.time_ns()
    present = [p for p in SCANNED if (root / p).exists()]
    res = proc.run(["find", *present, "-type", "f", "-printf", r"%s %T@ %i %m %p\0"], cwd=root, timeout=600)
    sigs: dict[str, Sig] = {}
    racy: set[str] = set()
    recent = taken // 1_000_000_000 - _RACY_NS // 1_000_000_000 - 1
    for rec in res.stdout.split("\0"):
        try:
            a = rec.index(" ")
            cut = rec.index(" ", rec.index(" ", rec.index(" ", a + 1) + 1) + 1)
        except ValueError:
            continue
        sig, rel = rec[:cut], rec[cut + 1 :]
        sigs[rel] = sig
        mtime = rec[a + 1 : rec.index(" ", a + 1)]
        if int(mtime.partition(".")[0]) >= recent:
            racy.add(rel)
    return Snapshot(root, os.stat(root).st_dev, taken, sigs, {}, frozenset(racy))
