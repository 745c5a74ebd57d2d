"""Every git call of the tool: running git in a tree (through proc.run, like every other
subprocess), and the scratch worktrees that verification and series make.

A worktree is added detached (no branch is created or moved) in a directory the caller
owns, and removed with its administrative data afterwards, however the block ends, so
the user's checkout, index and branches are never touched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path

from refactor.infra import proc
from refactor.infra.errors import RefactorError


def run(tree: Path, *args: str, env: Mapping[str, str] | None = None, stdin: str | None = None,
        timeout: float = 600) -> proc.Completed:  # fmt: skip
    """`git ARGS` in `tree`; the caller decides what a failure means."""
    return proc.run(["git", *args], cwd=tree, env=env, stdin=stdin, timeout=timeout)


def git(tree: Path, *args: str, env: dict[str, str] | None = None, stdin: str | None = None,
        check: bool = True) -> str:  # fmt: skip
    """The output of `git ARGS` in `tree`; with `check`, a failure is a one-line error
    naming the git command, else it gives ""."""
    res = run(tree, *args, env=env, stdin=stdin, timeout=600)
    if check and not res.ok:
        raise RefactorError(f"git {args[0]} failed: {(res.stderr or res.stdout).strip().splitlines()[-1:]}")
    return res.stdout if res.ok else ""


def ok(tree: Path, *args: str, stdin: str | None = None, timeout: float = 120) -> bool:
    """Whether `git ARGS` in `tree` succeeds (a test such as `merge-base --is-ancestor`)."""
    return run(tree, *args, stdin=stdin, timeout=timeout).ok


def is_repo(path: Path) -> bool:
    """Whether `path` is a git checkout or worktree (its `.git` is a directory or a file)."""
    return (path / ".git").exists()


@contextlib.contextmanager
def worktree(tree: Path, work: Path, base: str = "HEAD", checkout: bool = True) -> Iterator[Path]:
    """A detached worktree of `tree` at `base` in `work` (a path in a directory the caller
    owns), removed afterwards with its administrative data.  Without `checkout` the
    worktree starts empty, for a caller that checks out only the files it needs (a whole
    kernel tree costs minutes)."""
    res = run(tree, "worktree", "add", "--detach", *([] if checkout else ["--no-checkout"]), "--quiet",
              str(work), base)  # fmt: skip
    if not res.ok:
        raise RefactorError(f"git worktree add failed: {res.stderr.strip()[:200]}")
    try:
        yield work
    finally:
        run(tree, "worktree", "remove", "--force", str(work))
        run(tree, "worktree", "prune", timeout=120)
