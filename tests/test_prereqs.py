"""The kernel build's prerequisites: each one hidden in turn (a PATH of symlinks without
that program; for a header, `DRMM_HOST_INCLUDE` naming directories without it) is a
one-line message naming it and its Debian package, the verdict of every patch is
`not-checked` with that message, and `drmm-refactor check` reports it."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from refactor.cli import main
from refactor.infra.errors import RefactorError
from refactor.verify import prereqs
from refactor.verify.build import prepare_build
from refactor.verify.run import foreign_candidates, verify

HEADERS = ("stdio.h", "gelf.h", "openssl/evp.h")
# what is hidden, the name the message gives, Debian's package (written out here, not
# read from the table under test), the architecture, and whether the tree is a git tree
CASES = [
    ("make", "make", "make", "x86_64", True),
    ("gcc", "gcc", "gcc", "x86_64", True),
    ("flex", "flex", "flex", "x86_64", True),
    ("bison", "bison", "bison", "x86_64", True),
    ("bc", "bc", "bc", "x86_64", True),
    ("perl", "perl", "perl", "x86_64", True),
    ("cp", "cp", "coreutils", "x86_64", True),
    ("git", "git", "git", "x86_64", True),
    ("patch", "patch", "patch", "x86_64", False),
    ("stdio.h", "<stdio.h>", "libc6-dev", "x86_64", True),
    ("gelf.h", "<gelf.h>", "libelf-dev", "x86_64", True),
    ("openssl/evp.h", "<openssl/evp.h>", "libssl-dev", "x86_64", True),
    ("aarch64-linux-gnu-gcc", "aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu", "arm64", True),
    ("arm-linux-gnueabihf-gcc", "arm-linux-gnueabihf-gcc", "gcc-arm-linux-gnueabihf", "arm", True),
]
PATCH = "--- a/drivers/gpu/drm/x.c\n+++ b/drivers/gpu/drm/x.c\n@@ -1 +1 @@\n-a\n+b\n"


PROGRAMS = {c[0] for c in CASES if not c[0].endswith(".h")}


def _link_programs(bin_dir: Path, keep: Callable[[str], bool]) -> None:
    """Symlinks in `bin_dir` to the programs on PATH (the first of each name) for which
    `keep(name)` holds."""
    bin_dir.mkdir(parents=True)
    for d in os.environ.get("PATH", "").split(os.pathsep):
        try:
            entries = sorted(Path(d).iterdir())
        except OSError:
            continue
        for exe in entries:
            link = bin_dir / exe.name
            if keep(exe.name) and not link.is_symlink() and os.access(exe, os.X_OK) and exe.is_file():
                link.symlink_to(exe)


@pytest.fixture(scope="session")
def others(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every program on PATH but those of the table, linked once."""
    bin_dir = tmp_path_factory.mktemp("others") / "bin"
    _link_programs(bin_dir, lambda name: name not in PROGRAMS)
    return bin_dir


@pytest.fixture
def hide(others: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """hide(name): PATH without the program `name` (symlinks to all the others);
    DRMM_HOST_INCLUDE: a directory holding the checked headers but `name`."""
    count = 0

    def hide_(hidden: str) -> None:
        nonlocal count
        count += 1
        top = tmp_path / f"hidden{count}"
        _link_programs(top / "bin", lambda name: name in PROGRAMS and name != hidden)
        for h in HEADERS:
            if h != hidden:
                (top / "include" / h).parent.mkdir(parents=True, exist_ok=True)
                (top / "include" / h).write_text("/* present */\n")
        monkeypatch.setenv("PATH", os.pathsep.join([str(top / "bin"), str(others)]))
        monkeypatch.setenv("DRMM_HOST_INCLUDE", str(top / "include"))
        monkeypatch.setenv("DRMM_REFACTOR_CACHE", str(tmp_path / "cache"))

    return hide_


def fake_kernel(root: Path, git: bool) -> Path:
    """A tree that passes the kernel-tree checks (nothing in it is ever built here)."""
    (root / "scripts").mkdir(parents=True)
    (root / "Makefile").write_text("VERSION = 7\nPATCHLEVEL = 2\nall:\n")
    (root / "scripts/checkpatch.pl").write_text("exit 0;\n")
    (root / "drivers/gpu/drm").mkdir(parents=True)
    (root / "drivers/gpu/drm/x.c").write_text("a\n")
    if git:
        for argv in (
            ["init", "-q"],
            ["add", "-A"],
            ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "t"],
        ):
            subprocess.run(["git", *argv], cwd=root, check=True, capture_output=True)
    return root


def expected(name: str, package: str) -> str:
    return f"verification needs {name} (Debian package {package}), not found: apt-get install {package}"


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_a_hidden_prerequisite_is_named_with_its_package(
    hide: Any, case: tuple[str, str, str, str, bool]
) -> None:
    hidden, name, package, arch, git = case
    hide(hidden)
    assert prereqs.check((arch,), git=git) == expected(name, package)


def test_nothing_hidden_nothing_missing(hide: Any) -> None:
    hide("")
    assert prereqs.check(("x86_64", "arm64", "arm"), git=True) == ""
    assert prereqs.check(("x86_64",), git=False) == ""


def test_several_missing_are_one_line(hide: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hide("gelf.h")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    msg = prereqs.check(("arm64",))
    assert "\n" not in msg
    assert msg.startswith("verification needs make (Debian package make), gcc (Debian package gcc), ")
    assert "<gelf.h> (Debian package libelf-dev)" in msg and "<stdio.h>" not in msg
    assert msg.endswith(
        "not found: apt-get install make gcc flex bison bc perl libelf-dev coreutils git"
        " gcc-aarch64-linux-gnu"
    )


HOST_CASES = [c for c in CASES if c[3] == "x86_64"]


@pytest.mark.parametrize("case", HOST_CASES, ids=[c[0] for c in HOST_CASES])
def test_verdicts_are_not_checked_with_the_message(
    hide: Any, tmp_path: Path, case: tuple[str, str, str, str, bool]
) -> None:
    hidden, name, package, arch, git = case
    tree = fake_kernel(tmp_path / "linux", git)
    cands = foreign_candidates(tree, [("a.patch", PATCH), ("b.patch", PATCH)])
    hide(hidden)
    checks, hits, _ = verify(tree, cands, arch=arch)
    assert [(c.verdict, c.reason) for c in checks] == [("not-checked", expected(name, package))] * 2
    assert hits == 0


@pytest.mark.parametrize("hidden", ["flex", "gelf.h"])
def test_check_command_reports_it(hide: Any, tmp_path: Path, hidden: str) -> None:
    tree = fake_kernel(tmp_path / "linux", git=False)
    patch = tmp_path / "x.patch"
    patch.write_text(PATCH)
    hide(hidden)
    name, package = {"flex": ("flex", "flex"), "gelf.h": ("<gelf.h>", "libelf-dev")}[hidden]
    res = CliRunner().invoke(main, ["check", "--tree", str(tree), "--format", "json", str(patch)])
    assert res.exit_code == 1, res.output
    doc = json.loads(res.stdout)
    assert [(p["verdict"], p["reason"]) for p in doc] == [("not-checked", expected(name, package))]
    text = CliRunner().invoke(main, ["check", "--tree", str(tree), str(patch)])
    assert text.exit_code == 1 and expected(name, package) in text.stdout
    assert (tree / "drivers/gpu/drm/x.c").read_text() == "a\n"


def test_prepare_build_says_it_before_make(hide: Any, tmp_path: Path) -> None:
    tree = fake_kernel(tmp_path / "linux", git=False)
    hide("bison")
    with pytest.raises(RefactorError) as exc:
        prepare_build(tree, tree)
    assert str(exc.value) == expected("bison", "bison")
    assert not (tmp_path / "cache/build").exists()  # make never ran


def test_run_asks_for_the_packages(hide: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """`./run` installs what `python3 -m refactor.verify.prereqs` prints."""
    hide("openssl/evp.h")
    assert prereqs.main(["--arch", "arm64", "--arch", "arm"]) == 0
    assert capsys.readouterr().out == "libssl-dev\n"
    hide("arm-linux-gnueabihf-gcc")
    assert prereqs.main(["--arch", "arm64", "--arch", "arm"]) == 0
    assert capsys.readouterr().out == "gcc-arm-linux-gnueabihf\n"
