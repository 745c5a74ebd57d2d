"""Bad input, a broken environment, awkward git states and interruptions: each case gives
its message and exit status (the table in docs/robustness.md), and nothing the user had
is changed or lost."""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from refactor.cli import main
from refactor.infra.lock import tree_lock

REPO = Path(__file__).resolve().parent.parent
RULES = REPO / "semantic_patches"
REAL_SPATCH = shutil.which("spatch") or "spatch"


def _sweep(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["sweep", *args])
    assert res.exception is None or isinstance(res.exception, SystemExit), res.exception
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def corpus_findings(corpus_tree: Path) -> set[str]:
    code, out = _sweep(str(corpus_tree), "--no-patches")
    assert code == 1
    return set(re.findall(r"^(\S+:\d+): ", out, re.M))


@pytest.fixture
def corpus_copy(tmp_path: Path, corpus_tree: Path) -> Path:
    dest = tmp_path / "linux"
    shutil.copytree(corpus_tree, dest, symlinks=True)
    return dest


# -- input -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "message"),
    [
        ("missing", "{p}: no such directory"),
        ("file", "{p} is a file, not a kernel tree directory"),
        ("empty", "{p} is not a Linux kernel tree: no readable top-level Makefile"),
        ("c-files", "{p} is not a Linux kernel tree: no readable top-level Makefile"),
        ("no-drm", "{p} has no drivers/gpu/drm: nothing to sweep"),
    ],
)
def test_bad_tree_is_one_line_and_exit_2(tmp_path: Path, make: str, message: str) -> None:
    p = tmp_path / "tree"
    if make == "file":
        p.write_text("not a tree\n")
    elif make != "missing":
        p.mkdir()
    if make == "c-files":
        (p / "main.c").write_text("int main(void) { return 0; }\n")
    if make == "no-drm":
        (p / "Makefile").write_text("VERSION = 7\nPATCHLEVEL = 2\nSUBLEVEL = 0\n")
    code, out = _sweep(str(p))
    assert code == 2
    assert out == f"drmm-refactor: {message.format(p=p)}\n"


def test_unreadable_file_is_skipped_with_the_reason(
    corpus_copy: Path, monkeypatch: pytest.MonkeyPatch, corpus_findings: set[str]
) -> None:
    """Permission denied (simulated: the tests run as root, which reads anything)."""
    victim = corpus_copy / "drivers/gpu/drm/bufdisp/bufdisp.c"
    real_open = Path.open

    def deny(self: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self == victim:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    if os.geteuid() != 0:
        victim.chmod(0)
    code, out = _sweep(str(corpus_copy), "--no-patches")
    assert code == 1
    assert "skipped drivers/gpu/drm/bufdisp/bufdisp.c: unreadable: Permission denied" in out
    found = set(re.findall(r"^(\S+:\d+): ", out, re.M))
    assert found == {f for f in corpus_findings if "/bufdisp/bufdisp.c" not in f}


def test_odd_bytes_do_not_stop_the_sweep(corpus_copy: Path, corpus_findings: set[str]) -> None:
    """Invalid UTF-8, NUL bytes and a 200,000-character line in a driver's files."""
    odd = corpus_copy / "drivers/gpu/drm/cleandisp/cleandisp_kms.c"
    odd.write_bytes(
        odd.read_bytes()
        + b'\n/* \xff\xfe latin-1: \xe9 */\nchar nul[] = "a\0b";\nint x = '
        + b"1 + " * 50_000
        + b"1;\n"
    )
    code, out = _sweep(str(corpus_copy), "--no-patches")
    assert code == 1
    assert set(re.findall(r"^(\S+:\d+): ", out, re.M)) == corpus_findings


def test_symlink_loop_is_not_followed(corpus_copy: Path, corpus_findings: set[str]) -> None:
    (corpus_copy / "drivers/gpu/drm/loop").symlink_to("../drm")
    (corpus_copy / "drivers/gpu/drm/self").symlink_to("self")
    code, out = _sweep(str(corpus_copy), "--no-patches")
    assert code == 1
    assert set(re.findall(r"^(\S+:\d+): ", out, re.M)) == corpus_findings


def test_rule_spatch_rejects_is_reported_and_the_others_run(
    tmp_path: Path, corpus_tree: Path, corpus_findings: set[str]
) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    (rules / "broken.cocci").write_text(
        "// SPDX-License-Identifier: GPL-2.0-only\n/// A rule with a syntax error.\n//\n"
        "// Confidence: Low\n// Options: --no-includes\n// Requires: 1.1\n// Keywords: drm_dev_put\n\n"
        "virtual report\n\n@r depends on report@\nexpression E;\n@@\n* drm_dev_put(E\n"
    )
    code, out = _sweep(str(corpus_tree), "--no-patches", "--rules-dir", str(rules))
    assert code == 1
    assert "skipped broken.cocci: rule-error: rule broken is rejected by spatch" in out
    assert set(re.findall(r"^(\S+:\d+): ", out, re.M)) == corpus_findings


# -- environment -------------------------------------------------------------------------
def _stand_in(tmp_path: Path, body: str) -> Path:
    """A spatch that answers --version and rule checks like the real one, then `body`."""
    exe = tmp_path / "spatch"
    exe.write_text(
        f'#!/bin/sh\ncase "$*" in *--version*|*--parse-cocci*) exec {REAL_SPATCH} "$@";; esac\n{body}\n'
    )
    exe.chmod(0o755)
    return exe


@pytest.mark.parametrize(
    ("body", "args", "code", "expect"),
    [
        ("kill -SEGV $$", (), 0, "spatch-crash: spatch killed by signal 11"),
        ("sleep 300", ("--timeout", "1"), 0, "timeout: no result after 31s; spatch killed"),
        ("echo 'garbage: not a report line'; echo '\x01\x02 more'", (), 0, "0 findings"),
    ],
    ids=["crash", "hang", "garbage"],
)
def test_faulty_spatch_costs_only_its_files(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    corpus_tree: Path,
    body: str,
    args: tuple[str, ...],
    code: int,
    expect: str,
) -> None:
    monkeypatch.setenv("SPATCH", str(_stand_in(tmp_path, body)))
    got, out = _sweep(
        str(corpus_tree),
        "--no-patches",
        "--rules",
        "double-put",
        "--paths",
        "drivers/gpu/drm/tiny/putpanel.c",
        *args,
    )
    assert got == code, out
    assert expect in out


def test_missing_and_old_spatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corpus_tree: Path) -> None:
    monkeypatch.delenv("SPATCH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    code, out = _sweep(str(corpus_tree))
    assert (code, out) == (
        2,
        "drmm-refactor: spatch not found: install Debian's package coccinelle (apt-get install coccinelle)\n",
    )
    old = tmp_path / "old"
    old.mkdir()
    (old / "spatch").write_text("#!/bin/sh\necho 'spatch version 1.0.8 compiled with OCaml version 4.05.0'\n")
    (old / "spatch").chmod(0o755)
    monkeypatch.setenv("SPATCH", str(old / "spatch"))
    code, out = _sweep(str(corpus_tree))
    assert code == 2 and out.startswith("drmm-refactor: spatch 1.0.8 is too old")


def test_full_disk_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, corpus_tree: Path
) -> None:
    """A full output file system (simulated: every write fails with ENOSPC)."""
    import refactor.infra.output as output_mod

    class Full:
        def __init__(self, fd: int, mode: str) -> None:
            self.fd = fd

        def __enter__(self) -> Full:
            return self

        def __exit__(self, *exc: object) -> None:
            os.close(self.fd)

        def write(self, text: str) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output_mod.os, "fdopen", Full)
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    code, out = _sweep(str(corpus_tree), "--no-patches", "--format", "json", "-o", str(target))
    assert code == 2
    assert out == f"drmm-refactor: cannot write {target}: No space left on device\n"
    assert list(target.parent.iterdir()) == []


# -- git -----------------------------------------------------------------------------------
def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(corpus_copy: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "946684800")
    _git(corpus_copy, "init", "-q", "-b", "master")
    _git(corpus_copy, "config", "user.name", "Ada Maintainer")
    _git(corpus_copy, "config", "user.email", "ada@example.org")
    _git(corpus_copy, "add", "-A")
    _git(corpus_copy, "commit", "-q", "-m", "Import the tree")
    return corpus_copy


def _state(repo: Path) -> tuple[str, str, str]:
    head = subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=repo, capture_output=True, text=True)
    return _git(repo, "rev-parse", "HEAD"), _git(repo, "status", "--porcelain"), head.stdout


def _series(repo: Path, out: Path, *extra: str) -> tuple[int, str]:
    res = CliRunner().invoke(
        main,
        [
            "series",
            str(repo),
            "-o",
            str(out),
            "--branch",
            "drmm/t",
            "--include-unverified",
            "--paths",
            "drivers/gpu/drm/tiny",
            *extra,
        ],
    )
    return res.exit_code, res.output


def test_dirty_tree_is_untouched_and_the_series_is_based_on_head(repo: Path, tmp_path: Path) -> None:
    dirty = repo / "drivers/gpu/drm/tiny/putpanel.c"
    dirty.write_text(dirty.read_text() + "/* work in progress */\n")
    (repo / "notes.txt").write_text("untracked\n")
    before = _state(repo)
    code, out = _series(repo, tmp_path / "out")
    assert code == 0, out
    assert _state(repo) == before and dirty.read_text().endswith("/* work in progress */\n")
    patches = "".join(p.read_text() for p in (tmp_path / "out").glob("*.patch"))
    assert "work in progress" not in patches
    assert f"base-commit: {before[0].strip()}" in patches


def test_detached_head(repo: Path, tmp_path: Path) -> None:
    _git(repo, "checkout", "-q", "--detach")
    before = _state(repo)
    code, out = _series(repo, tmp_path / "out")
    assert code == 0, out
    assert _state(repo) == before and before[2] == ""


def test_existing_branch_and_output_files(repo: Path, tmp_path: Path) -> None:
    code, out = _series(repo, tmp_path / "out")
    assert code == 0, out
    first = _git(repo, "rev-parse", "drmm/t")
    code, out = _series(repo, tmp_path / "other")
    assert (code, out) == (
        2,
        "drmm-refactor: branch drmm/t exists: pass --branch NAME, --reroll for a new version, or --force\n",
    )
    assert not (tmp_path / "other").exists()
    code, out = _series(repo, tmp_path / "out", "--branch", "drmm/u")
    assert code == 2 and "already has 0000-cover-letter.patch: pass --force" in out
    assert _git(repo, "branch", "--list", "drmm/u") == ""
    code, out = _series(repo, tmp_path / "out", "--force")
    assert code == 0, out
    assert _git(repo, "rev-parse", "drmm/t") == first  # the same inputs give the same commits
    _git(repo, "branch", "mine")
    code, out = _series(repo, tmp_path / "mine", "--branch", "mine", "--force")
    assert (code, out) == (
        2,
        "drmm-refactor: branch mine was not made by drmm-refactor: --force replaces "
        "only series branches; choose another --branch\n",
    )
    assert _git(repo, "rev-parse", "mine") == _git(repo, "rev-parse", "HEAD")


def test_two_runs_at_once(repo: Path, tmp_path: Path) -> None:
    with tree_lock(repo, "a test"):
        code, out = _series(repo, tmp_path / "out")
    assert code == 2
    assert out == (
        f"drmm-refactor: another drmm-refactor run (pid {os.getpid()}, a test) is working on {repo}: "
        "wait for it to finish\n"
    )
    assert not (tmp_path / "out").exists()


# -- interruption --------------------------------------------------------------------------
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_interrupted_series_leaves_nothing_behind(repo: Path, tmp_path: Path, sig: int) -> None:
    """A real series run on the corpus, stopped at several points: the tree, its git
    state and the output directory are as before, or the series is complete."""
    before = _state(repo)
    env = {**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path / "tmp")}
    (tmp_path / "tmp").mkdir()
    outcomes = []
    for delay in (0.5, 2.0, 4.0, 7.0, 60.0):
        out = tmp_path / f"out-{delay}"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "refactor",
                "series",
                str(repo),
                "-o",
                str(out),
                "--branch",
                f"drmm/i{int(delay * 10)}",
                "--include-unverified",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            _, err = proc.communicate(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=120)
        outcomes.append(proc.returncode)
        assert _state(repo) == before
        assert _git(repo, "worktree", "list").count("\n") == 1, "a worktree was left behind"
        assert list((tmp_path / "tmp").iterdir()) == [], "temporary files were left behind"
        branch = _git(repo, "branch", "--list", f"drmm/i{int(delay * 10)}")
        if proc.returncode == 0:
            assert branch and (out / "series.json").is_file()
        else:
            # -sig: the signal came before the interpreter had installed any handler (a loaded
            # machine at the 0.5 s point), so the kernel's default action ended it; nothing of
            # the tool's had run, and the state checks above still hold
            assert proc.returncode in (128 + sig, -sig), err
            assert "Traceback" not in err, err  # quiet while loading, one line once started
            assert not err.strip() or err.strip().splitlines()[-1].startswith("drmm-refactor: "), err
            assert branch == "", "a branch was left by an interrupted run"
            leftovers = [p.name for p in out.iterdir()] if out.exists() else []
            assert leftovers == [], f"partial output: {leftovers}"
    assert 128 + sig in outcomes and outcomes[-1] == 0, outcomes


def test_interrupted_sweep_writes_no_partial_report(corpus_tree: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    target = tmp_path / "report.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "refactor",
            "sweep",
            str(corpus_tree),
            "--no-cache",
            "--format",
            "json",
            "-o",
            str(target),
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip() == "drmm-refactor: interrupted"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_spatch_processes_of_worker_threads(
    tmp_path: Path, corpus_tree: Path, sig: signal.Signals
) -> None:
    """spatch runs in its own session from worker threads: a signal must still stop it,
    at once, not after spatch's own end (here never)."""
    pids = tmp_path / "pids"
    exe = _stand_in(tmp_path, f"echo $$ >> {pids}; exec sleep 300")
    env = {**os.environ, "PYTHONPATH": str(REPO), "SPATCH": str(exe)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "refactor", "sweep", str(corpus_tree), "--no-cache", "--no-patches"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(pids.read_text().split() if pids.exists() else []) < 2:
        time.sleep(0.2)  # both workers are in spatch
    started = pids.read_text().split()
    assert len(started) == 2, started
    begin = time.monotonic()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert time.monotonic() - begin < 15
    assert "Traceback" not in err, err
    for pid in pids.read_text().split():
        with pytest.raises(ProcessLookupError):
            os.kill(int(pid), 0)
