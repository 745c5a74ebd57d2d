"""The scratch tree patches are applied in, never the user's checkout: a detached git
worktree of HEAD, or for a tree without git a copy whose files are hard links (a file is
given its own inode before a patch changes it); applying a patch there and taking a
stack of them out again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from refactor.infra import git, proc
from refactor.infra.cache import cache_dir
from refactor.infra.errors import RefactorError
from refactor.verify.checked import touched_files


# -- the scratch tree --------------------------------------------------------------------
@contextlib.contextmanager
def scratch(tree: Path) -> Iterator[Path]:
    """Somewhere to apply patches that is not the user's checkout: a detached git worktree
    of HEAD, or for a tree without git a copy of it whose files are hard links (a file is
    unlinked before a patch changes it, so the tree itself is never written)."""
    if git.is_repo(tree):
        with worktree(tree) as work:
            yield work
        return
    root = cache_dir() / "scratch"
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="drmm-verify-", dir=root) as tmp:
        work = Path(tmp) / "tree"
        same_fs = os.stat(root).st_dev == os.stat(tree).st_dev
        res = proc.run(["cp", "-al" if same_fs else "-a", f"{tree}/.", str(work)], timeout=3600)
        if not res.ok:
            raise RefactorError(f"cannot copy {tree} to {work}: {first_line(res.stderr)}")
        yield work


@contextlib.contextmanager
def worktree(tree: Path) -> Iterator[Path]:
    """A detached git worktree of `tree`'s HEAD, removed afterwards (with its admin data)."""
    if not git.is_repo(tree):
        raise RefactorError(f"{tree} is not a git repository (git init && git add -A && git commit)")
    with (tempfile.TemporaryDirectory(prefix="drmm-verify-") as tmp,
          git.worktree(tree, Path(tmp) / "tree") as work):  # fmt: skip
        yield work


# -- the stages ------------------------------------------------------------------------------
def apply_patch(work: Path, diff: str, check_only: bool) -> proc.Completed:
    """`git apply` in a worktree; `patch` (no fuzz) in a copy of a tree without git."""
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
