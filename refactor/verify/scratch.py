"""The scratch trees patches are applied and built in (never the user's checkout);
applying a patch there and taking a stack of them out again.

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
import dataclasses
import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from refactor.infra import git, proc
from refactor.infra.cache import cache_dir
from refactor.infra.errors import RefactorError
from refactor.verify.checked import touched_files

SLOTS = 8  # concurrent runs on one tree before the next one waits


def _root(tree: Path) -> Path:
    """The tree's scratch directory (its slots inside), which records the tree's path so
    that the scratch trees of a tree that is gone can be removed (`_prune`)."""
    key = hashlib.sha256(str(tree.resolve()).encode()).hexdigest()[:10]
    root = cache_dir() / "scratch" / f"{tree.resolve().name}-{key}"
    root.mkdir(parents=True, exist_ok=True)
    (root / "tree").write_text(str(tree.resolve()) + "\n")
    _prune(root.parent)
    return root


def _prune(scratch: Path) -> None:
    """Remove the scratch trees of trees that no longer exist (a test's temporary tree,
    a deleted checkout), unless a run holds one of their slots."""
    for root in scratch.iterdir():
        recorded = root / "tree"
        if not recorded.is_file() or Path(recorded.read_text().strip()).exists():
            continue
        fds = [os.open(lock, os.O_RDWR) for lock in root.glob("slot-*.lock")]
        try:
            for fd in fds:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # in use
        finally:
            for fd in fds:
                os.close(fd)
        shutil.rmtree(root, ignore_errors=True)


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


def _head(tree: Path) -> str:
    res = git.run(tree, "rev-parse", "--verify", "HEAD^{commit}")
    if not res.ok:
        raise RefactorError(f"{tree}: no HEAD commit to verify against: {res.stderr.strip()[:200]}")
    return res.stdout.strip()


def _refresh_clone(tree: Path, work: Path, head: str) -> None:
    """Bring the clone at `work` to `head` of `tree`, clean; clone it first if needed.
    The clone reads the tree's objects (alternates), so any commit of it is there."""
    top = git.run(work, "rev-parse", "--show-toplevel", timeout=60) if (work / ".git").is_dir() else None
    if top is None or not top.ok or Path(top.stdout.strip()) != work.resolve():
        shutil.rmtree(work, ignore_errors=True)
        work.parent.mkdir(parents=True, exist_ok=True)
        args = ("clone", "--quiet", "--shared", "--no-checkout", str(tree.resolve()), str(work))
        res = git.run(work.parent, *args, timeout=1800)
        if not res.ok:
            raise RefactorError(f"git clone of {tree} into the cache failed: {res.stderr.strip()[:200]}")
    # the slot's lock is held, so no other run uses this clone: a git lock file in it was
    # left by a git process that an interrupted run took down with it (SIGTERM mid-checkout)
    for stale in (work / ".git").glob("*.lock"):
        stale.unlink(missing_ok=True)
    for step in (("checkout", "--quiet", "--force", "--detach", head), ("clean", "-fdxq")):
        res = git.run(work, *step, timeout=1800)
        if not res.ok:
            shutil.rmtree(work, ignore_errors=True)  # the next run starts from a new clone
            why = res.stderr.strip()[:200]
            raise RefactorError(f"git {step[0]} in the scratch clone {work} failed: {why}")


@contextlib.contextmanager
def clone(tree: Path) -> Iterator[Path]:
    """A clean checkout of `tree`'s HEAD at a stable path in the cache (see the module)."""
    if not git.is_repo(tree):
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
    with clone(tree) if git.is_repo(tree) else linked_copy(tree) as work:
        yield work


def worktree(tree: Path) -> contextlib.AbstractContextManager[Path]:
    """A clean checkout of a git `tree`'s HEAD that is not the user's (see `clone`)."""
    return clone(tree)


# -- the stages ------------------------------------------------------------------------------
def apply_patch(work: Path, diff: str, check_only: bool) -> proc.Completed:
    """`git apply` in a clone; `patch` (no fuzz) in a copy of a tree without git."""
    if git.is_repo(work):
        args = ["apply", "-p1", "--whitespace=nowarn", *(["--check"] if check_only else []), "-"]
        res = git.run(work, *args, stdin=diff, timeout=120)
    else:
        args = ["patch", "-p1", "-F0", "-N", "-s", "--no-backup-if-mismatch", "-r", "-",
                *(["--dry-run"] if check_only else [])]  # fmt: skip
        if not check_only:
            for rel in touched_files(diff):
                unlink_shared(work / rel)
        res = proc.run(args, cwd=work, stdin=diff, timeout=120)
    if not res.ok and not res.stderr.strip():  # patch says why on stdout
        return dataclasses.replace(res, stderr=res.stdout)
    return res


def unlink_shared(path: Path) -> None:
    """Give a hard-linked file of a scratch copy its own inode before it is written."""
    if path.is_file() and path.stat().st_nlink > 1:
        tmp = path.with_name(path.name + ".drmm-tmp")
        shutil.copy2(path, tmp)
        os.replace(tmp, path)


def undo(tree: Path, work: Path, applied: list[str]) -> None:
    """Take a stack's patches back out: in reverse with `git apply -R` in a worktree (a
    whole-tree checkout and clean of a kernel worktree costs seconds); in a copy, the
    touched files are linked to the tree's again."""
    if not git.is_repo(work):
        for rel in sorted({f for d in applied for f in touched_files(d, deleted=True)}):
            dst = work / rel
            dst.unlink(missing_ok=True)
            if (tree / rel).is_file():
                try:
                    os.link(tree / rel, dst)
                except OSError:  # another file system: the copy was a real copy
                    shutil.copy2(tree / rel, dst)
        return
    for diff in reversed(applied):
        if not git.ok(work, "apply", "-R", "-p1", "-", stdin=diff):
            git.run(work, "checkout", "--quiet", "--", ".", timeout=300)
            git.run(work, "clean", "-fdq", timeout=300)
            return


def first_line(text: str) -> str:
    return next((x.strip() for x in text.splitlines() if x.strip()), "")[:300]
