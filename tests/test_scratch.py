"""The scratch trees: a stable path between runs, nothing written to the user's tree or
repository, a clean HEAD at each use, one slot per concurrent user."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from refactor.verify import scratch


def _git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}  # fmt: skip
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


@pytest.fixture()
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DRMM_REFACTOR_CACHE", str(tmp_path / "cache"))
    tree = tmp_path / "linux"
    (tree / "drivers").mkdir(parents=True)
    (tree / "drivers/a.c").write_text("int a;\n")
    (tree / "Makefile").write_text("all:\n")
    _git(tree, "init", "-q")
    _git(tree, "add", "-A")
    _git(tree, "commit", "-qm", "one")
    return tree


def test_clone_is_stable_clean_and_leaves_the_repository_alone(repo: Path) -> None:
    with scratch.scratch(repo) as first:
        assert (first / "drivers/a.c").read_text() == "int a;\n"
        mtime = (first / "Makefile").stat().st_mtime_ns
        (first / "drivers/a.c").write_text("int patched;\n")
        (first / "drivers/new.c").write_text("int new;\n")
        (first / "drivers/a.c.orig").write_text("leftover\n")
    # the user's checkout and repository: no change, no worktree registered
    assert (repo / "drivers/a.c").read_text() == "int a;\n"
    assert _git(repo, "status", "--porcelain") == ""
    assert len(_git(repo, "worktree", "list").splitlines()) == 1
    _git(repo, "commit", "-qm", "two", "--allow-empty")
    (repo / "drivers/a.c").write_text("int uncommitted;\n")  # HEAD is verified, not the checkout
    with scratch.scratch(repo) as again:
        assert again == first  # the same path: kbuild sees the same command lines
        assert (again / "drivers/a.c").read_text() == "int a;\n"
        assert not (again / "drivers/new.c").exists() and not (again / "drivers/a.c.orig").exists()
        assert (again / "Makefile").stat().st_mtime_ns == mtime  # untouched files keep their mtime
        assert _git(again, "rev-parse", "HEAD") == _git(repo, "rev-parse", "HEAD")


def test_concurrent_users_get_their_own_slots(repo: Path) -> None:
    with scratch.scratch(repo) as one, scratch.scratch(repo) as two:
        assert one != two
        (one / "drivers/a.c").write_text("int one;\n")
        assert (two / "drivers/a.c").read_text() == "int a;\n"


def test_a_broken_clone_is_made_again(repo: Path) -> None:
    with scratch.scratch(repo) as work:
        pass
    (work / ".git").rename(work / "not-git")
    with scratch.scratch(repo) as work:
        assert (work / ".git").exists() and (work / "drivers/a.c").is_file()


def test_a_git_lock_left_by_an_interrupted_run_does_not_stop_the_next(repo: Path) -> None:
    with scratch.scratch(repo) as work:
        (work / "drivers/a.c").write_text("int changed;\n")
    (work / ".git/index.lock").write_text("")  # a git checkout killed with its run
    with scratch.scratch(repo) as again:
        assert again == work and (work / "drivers/a.c").read_text() == "int a;\n"
        assert not (work / ".git/index.lock").exists()


def test_a_tree_without_git_gets_a_linked_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRMM_REFACTOR_CACHE", str(tmp_path / "cache"))
    tree = tmp_path / "plain"
    (tree / "drivers").mkdir(parents=True)
    (tree / "drivers/a.c").write_text("int a;\n")
    with scratch.scratch(tree) as work:
        assert os.stat(work / "drivers/a.c").st_ino == os.stat(tree / "drivers/a.c").st_ino
        path = work
    assert not path.exists() and (tree / "drivers/a.c").read_text() == "int a;\n"
    with scratch.scratch(tree) as work:
        assert work == path


def test_the_scratch_trees_of_a_tree_that_is_gone_are_removed(repo: Path, tmp_path: Path) -> None:
    with scratch.scratch(repo) as work:
        pass
    other = tmp_path / "other"
    other.mkdir()
    shutil.rmtree(repo)
    with scratch.scratch(other):
        assert not work.exists()
