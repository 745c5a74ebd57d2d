"""Shared fixtures: the bundled corpus, real Linux trees from Debian's packages, spatch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS_TREE = REPO / "corpus" / "tree"
FETCH = REPO / "corpus" / "fetch_tree.py"

_trees: dict[str, Path] = {}


def real_tree(series: str, git: bool = False) -> Path:
    """A Linux tree from Debian's packages, fetched once into the cache outside the repo
    (with `git`, made a git repository with one commit).

    Set DRMM_SKIP_REALTREE=1 to skip these tests explicitly (for example offline).
    """
    if os.environ.get("DRMM_SKIP_REALTREE"):
        pytest.skip("DRMM_SKIP_REALTREE is set")
    key = series + (":git" if git else "")
    if key not in _trees:
        res = subprocess.run(
            [sys.executable, str(FETCH), series, *(["--git"] if git else [])],
            capture_output=True, text=True, timeout=3600,
        )  # fmt: skip
        if res.returncode != 0:
            pytest.fail(f"cannot fetch Linux {series}: {res.stderr.strip()}")
        _trees[key] = Path(res.stdout.strip())
    return _trees[key]


@pytest.fixture(scope="session")
def linux_7_2() -> Path:
    return real_tree("7.2")


@pytest.fixture(scope="session")
def linux_7_2_git() -> Path:
    return real_tree("7.2", git=True)


@pytest.fixture(scope="session")
def linux_6_12() -> Path:
    return real_tree("6.12")


@pytest.fixture(scope="session")
def linux_6_1() -> Path:
    return real_tree("6.1")


@pytest.fixture(scope="session")
def corpus_tree() -> Path:
    return CORPUS_TREE


@pytest.fixture(scope="session")
def spatch():  # type: ignore[no-untyped-def]
    from refactor.cocci.spatch import find_spatch

    return find_spatch()
