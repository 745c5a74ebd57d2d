"""The package as a user installs it: build the wheel from a copy of the checkout, install
it into a fresh virtualenv, and run the tool from an unrelated directory, where nothing of
the checkout can be found.

Offline: the wheel is built with this venv's setuptools (no build isolation) and installed
with `--no-deps --no-index`; the fresh venv sees its dependencies through a `.pth` file
naming a directory of symlinks to exactly the distributions the wheel declares (and
theirs), taken from this venv, so an import the wheel does not declare fails here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def _run(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _requires(reqs: list[str]) -> list[tuple[str, bool]]:
    """(name, conditional) of the requirements `reqs` that no extra asks for."""
    out = []
    for req in reqs:
        spec, _, marker = req.partition(";")
        if "extra" in marker:
            continue
        m = _NAME.match(spec.strip())
        assert m, req
        out.append((m.group(0), bool(marker.strip())))
    return out


def link_dependencies(wheel: Path, into: Path) -> list[str]:
    """Symlinks in `into` to the installed files of the wheel's dependencies, transitively;
    returns the distributions linked."""
    with zipfile.ZipFile(wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        todo = _requires(Parser().parsestr(zf.read(meta).decode()).get_all("Requires-Dist") or [])
    into.mkdir()
    seen: list[str] = []
    while todo:
        name, conditional = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            assert conditional, f"{name}: declared by the wheel, not installed in this venv"
            continue  # its marker does not hold here
        seen.append(key)
        root = Path(str(dist.locate_file("")))
        for top in sorted({Path(str(f)).parts[0] for f in dist.files or ()}):
            if top in ("..", "__pycache__") or (into / top).exists():
                continue
            (into / top).symlink_to(root / top)
        todo += _requires(dist.requires or [])
    return seen


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """bin/ of a fresh venv with the wheel installed."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"  # a copy: building writes build/ and *.egg-info next to the sources
    shutil.copytree(REPO, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".tox", "build", "dist", "*.egg-info", "__pycache__", ".*_cache"))  # fmt: skip
    dist = tmp / "dist"
    res = _run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                "-w", str(dist), str(src)], cwd=tmp)  # fmt: skip
    assert res.returncode == 0, res.stderr
    (wheel,) = dist.glob("drmm_refactor-*.whl")
    venv = tmp / "venv"
    res = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp)
    assert res.returncode == 0, res.stderr
    py = venv / "bin" / "python"
    res = _run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index",
                str(wheel)], cwd=tmp)  # fmt: skip
    assert res.returncode == 0, res.stderr
    deps = tmp / "deps"
    assert "click" in link_dependencies(wheel, deps)
    site = _run(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp
    ).stdout.strip()
    Path(site, "drmm-test-deps.pth").write_text(f"{deps}\n")
    return venv / "bin"


def _env(tmp_path: Path | None) -> dict[str, str]:
    """The environment, with a cache of its own in `tmp_path` (None: the usual cache)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return {**env, "NO_COLOR": "1", **({"DRMM_REFACTOR_CACHE": str(tmp_path / "cache")} if tmp_path else {})}


def test_the_wheel_holds_rules_corpus_and_templates(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = ("import refactor, refactor.sweep.run as s, refactor.cli as c, refactor.report.explain as e; "
            "print(refactor.__file__, s.RULES_DIR, c.CORPUS_TREE, e.CORPUS, sep='\\n')")  # fmt: skip
    res = _run([str(installed / "python"), "-c", code], cwd=elsewhere, env=_env(tmp_path))
    assert res.returncode == 0, res.stderr
    site = installed.parent / "lib"
    paths = [Path(x) for x in res.stdout.split()]
    assert all(site in p.parents for p in paths), paths  # the installed copy, not the checkout
    assert len(list(paths[1].glob("*.cocci"))) == len(list((REPO / "semantic_patches").glob("*.cocci")))
    corpus = sorted(p.relative_to(paths[3]) for p in paths[3].rglob("*") if p.is_file())
    checkout = sorted(p.relative_to(REPO / "corpus") for d in ("tree", "golden")
                      for p in (REPO / "corpus" / d).rglob("*") if p.is_file())  # fmt: skip
    assert corpus == checkout


def test_installed_sweep_finds_what_the_checkout_finds(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    res = _run(
        [str(installed / "drmm-refactor"), "sweep", "--format", "json"], cwd=elsewhere, env=_env(tmp_path)
    )
    assert res.returncode == 1, res.stderr  # the bundled corpus has marked bugs
    got = json.loads(res.stdout)
    here = _run([sys.executable, "-m", "refactor", "sweep", "--format", "json", str(REPO / "corpus/tree")],
                cwd=REPO, env=_env(None))  # fmt: skip
    assert here.returncode == 1, here.stderr
    want = json.loads(here.stdout)
    assert got["findings"] and got["findings"] == want["findings"]
    assert [p["diff"] for p in got["patches"]] == [p["diff"] for p in want["patches"]]
    assert [r["id"] for r in got["rules"]] == [r["id"] for r in want["rules"]]


def test_installed_rules_and_explain(installed: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    rules = _run([str(installed / "drmm-refactor"), "rules"], cwd=elsewhere, env=_env(tmp_path))
    assert rules.returncode == 0, rules.stderr
    for cocci in (REPO / "semantic_patches").glob("*.cocci"):
        assert cocci.stem in rules.stdout
    res = _run(
        [str(installed / "drmm-refactor"), "explain", "devm-mode-object"], cwd=elsewhere, env=_env(tmp_path)
    )
    assert res.returncode == 0, res.stderr
    assert "Example from the corpus: corpus/tree/drivers/gpu/drm/" in res.stdout
    assert "After (the change drmm-refactor generates, corpus/golden):" in res.stdout
