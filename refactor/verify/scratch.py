"""The scratch trees patches are applied and built in: never the user's checkout.

A scratch tree lives in the cache at a path that is the same from one run to the next
(one slot per concurrent user of a tree, each slot held by an flock).  The kernel build
shares one `O=` directory per tree and architecture between runs, and kbuild rebuilds
whatever it built with another source path or from sources with newer mtimes: host tools,
`prepare` outputs and every object.  With a stable path and files that keep their
mtimes, a second run rebuilds only the objects the patches touch.

- A git tree gets a `git clone --shared --no-checkout` of itself in the cache, checked
  out once and then moved to the tree's HEAD (`git checkout --force`, which rewrites
  only the files that differ: patched files come back with a new mtime, so their objects
  are rebuilt) and cleaned at the start of each use.  Nothing is written
  to the user's repository (no worktree is registered there); the clone borrows its
  objects through `objects/info/alternates`.
- A tree without git gets a copy made of hard links (`cp -al`, mtimes kept), made again
  at each use; a patched file is given its own inode before it is written (verify).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from refactor.infra import proc
from refactor.infra.cache import cache_dir
from refactor.infra.errors import RefactorError

SLOTS = 8  # concurrent runs on one tree before the next one waits


def _root(tree: Path) -> Path:
    key = hashlib.sha256(str(tree.resolve()).encode()).hexdigest()[:10]
    return cache_dir() / "scratch" / f"{tree.resolve().name}-{key}"


@contextlib.contextmanager
def _slot(root: Path) -> Iterator[Path]:
    """The first free slot directory under `root`, held until the block ends; when all
    are taken, wait for slot 0."""
    root.mkdir(parents=True, exist_ok=True)
    fds: list[int] = []
    try:
        for n in range(SLOTS):
            fd = os.open(root / f"slot-{n}.lock", os.O_RDWR | os.O_CREAT, 0o644)
            fds.append(fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            yield root / f"slot-{n}"
            return
        fcntl.flock(fds[0], fcntl.LOCK_EX)
        yield root / "slot-0"
    finally:
        for fd in fds:
            os.close(fd)


def _git(work: Path, *args: str, timeout: float = 600) -> proc.Completed:
    return proc.run(["git", *args], cwd=work, timeout=timeout)


def _head(tree: Path) -> str:
    res = _git(tree, "rev-parse", "--verify", "HEAD^{commit}")
    if not res.ok:
        raise RefactorError(f"{tree}: no HEAD commit to verify against: {res.stderr.strip()[:200]}")
    return res.stdout.strip()


def _refresh_clone(tree: Path, work: Path, head: str) -> None:
    """Bring the clone at `work` to `head` of `tree`, clean; clone it first if needed.
    The clone reads the tree's objects (alternates), so any commit of it is there."""
    top = _git(work, "rev-parse", "--show-toplevel", timeout=60) if (work / ".git").is_dir() else None
    if top is None or not top.ok or Path(top.stdout.strip()) != work.resolve():
        shutil.rmtree(work, ignore_errors=True)
        work.parent.mkdir(parents=True, exist_ok=True)
        argv = ["git", "clone", "--quiet", "--shared", "--no-checkout", str(tree.resolve()), str(work)]
        res = proc.run(argv, cwd=work.parent, timeout=1800)
        if not res.ok:
            raise RefactorError(f"git clone of {tree} into the cache failed: {res.stderr.strip()[:200]}")
    for step in (("checkout", "--quiet", "--force", "--detach", head), ("clean", "-fdxq")):
        res = _git(work, *step, timeout=1800)
        if not res.ok:
            shutil.rmtree(work, ignore_errors=True)  # the next run starts from a new clone
            why = res.stderr.strip()[:200]
            raise RefactorError(f"git {step[0]} in the scratch clone {work} failed: {why}")


@contextlib.contextmanager
def clone(tree: Path) -> Iterator[Path]:
    """A clean checkout of `tree`'s HEAD at a stable path in the cache (see the module)."""
    if not (tree / ".git").exists():
        raise RefactorError(f"{tree} is not a git repository (git init && git add -A && git commit)")
    head = _head(tree)
    with _slot(_root(tree)) as slot:
        work = slot / "tree"
        _refresh_clone(tree, work, head)
        yield work


@contextlib.contextmanager
def linked_copy(tree: Path) -> Iterator[Path]:
    """A copy of `tree` made of hard links at a stable path in the cache (a real copy on
    another file system), made again at each use."""
    with _slot(_root(tree)) as slot:
        work = slot / "tree"
        shutil.rmtree(work, ignore_errors=True)
        slot.mkdir(parents=True, exist_ok=True)
        same_fs = os.stat(slot).st_dev == os.stat(tree).st_dev
        res = proc.run(["cp", "-al" if same_fs else "-a", f"{tree}/.", str(work)], timeout=3600)
        if not res.ok:
            raise RefactorError(f"cannot copy {tree} to {work}: {res.stderr.strip()[:200]}")
        try:
            yield work
        finally:
            shutil.rmtree(work, ignore_errors=True)  # links only: the tree's files stay


@contextlib.contextmanager
def scratch(tree: Path) -> Iterator[Path]:
    """Somewhere to apply patches that is not the user's checkout (see the module)."""
    with clone(tree) if (tree / ".git").exists() else linked_copy(tree) as work:
        yield work
