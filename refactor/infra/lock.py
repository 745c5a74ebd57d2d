"""One run at a time per tree for the commands that make worktrees and branches.

The lock is an advisory `flock` on a file in the cache (never in the tree), keyed by the
tree's resolved path; the kernel drops it when the process ends, however it ends, so a
crashed run leaves no stale lock."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from refactor.infra.cache import cache_dir
from refactor.infra.errors import RefactorError


@contextlib.contextmanager
def tree_lock(tree: Path, what: str) -> Iterator[None]:
    """Hold the lock of `tree` while `what` runs, or fail at once with who holds it."""
    directory = cache_dir() / "locks"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256(str(tree.resolve()).encode()).hexdigest()[:16]
        fd = os.open(directory / f"{key}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise RefactorError(f"cannot create the lock for {tree} in {directory}: {exc.strerror}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode(errors="replace").strip() or "another process"
            raise RefactorError(f"another drmm-refactor run ({holder}) is working on {tree}: wait for it "
                                "to finish") from None  # fmt: skip
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}, {what}".encode(), 0)
        yield
    finally:
        os.close(fd)
