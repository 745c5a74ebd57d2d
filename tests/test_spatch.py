"""The spatch runner: real spatch, and stand-ins on PATH for the failures spatch won't do."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from refactor.cocci.spatch import (
    FileStatus,
    Match,
    RuleError,
    Spatch,
    find_spatch,
    parse_version,
    read_rule,
    run_rule,
)
from refactor.infra.errors import ToolError

DATA = Path(__file__).parent / "data" / "spatch"


def _stand_in(tmp_path: Path, body: str) -> Path:
    """An executable named spatch in its own directory, for PATH or $SPATCH."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    exe = bindir / "spatch"
    exe.write_text("#!/bin/bash\n" + body)
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return exe


def _work(tmp_path: Path, names: list[str]) -> Path:
    work = tmp_path / "tree"
    work.mkdir()
    for n in names:
        shutil.copy(DATA / n, work / n)
    return work


def _slow_c(path: Path) -> None:
    """A function with 3000 if/else: the path search of slow_paths.cocci takes far over 2s."""
    lines = ["int big(int a)", "{", "\tint x = 0;"]
    for i in range(3000):
        lines.append(f"\tif (a > {i}) {{ x += foo{i % 7}(a); }} else {{ x -= bar(a, {i}); }}")
    lines += ["\treturn x;", "}"]
    path.write_text("\n".join(lines) + "\n")


def test_parse_version() -> None:
    assert parse_version("spatch version 1.1.1 compiled with OCaml version 4.13.1") == (1, 1, 1)
    assert parse_version("spatch version 1.0.8-00177-g28737419") == (1, 0, 8)
    assert parse_version("garbage") is None


def test_real_spatch_is_found(spatch: Spatch) -> None:
    assert spatch.version >= (1, 1)
    assert os.access(spatch.path, os.X_OK)


def test_old_spatch_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    exe = _stand_in(tmp_path, 'echo "spatch version 1.0.8 compiled with OCaml version 4.05.0"\n')
    monkeypatch.setenv("SPATCH", str(exe))
    with pytest.raises(ToolError) as err:
        find_spatch()
    assert str(err.value) == (
        "spatch 1.0.8 is too old: drmm-refactor needs Coccinelle 1.1 or newer; "
        "install Debian's package coccinelle (apt-get install coccinelle)"
    )


def test_missing_spatch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SPATCH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolError, match=r"^spatch not found: install Debian's package coccinelle"):
        find_spatch()


def test_spatch_printing_garbage_for_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPATCH", str(_stand_in(tmp_path, "echo hello\n")))
    with pytest.raises(ToolError, match=r"--version printed no spatch version \(got: hello\)"):
        find_spatch()


def test_rule_header() -> None:
    rule = read_rule(DATA / "find_devm_kzalloc.cocci")
    assert rule.id == "find_devm_kzalloc"
    assert rule.description == "Test rule for the runner: report every devm_kzalloc() assigned to something."
    assert rule.confidence == "High"
    assert rule.options == ("--no-includes", "--include-headers")
    assert rule.requires == "1.1"
    assert rule.modes == ("report",)


def test_results_per_file_with_parse_error(spatch: Spatch, tmp_path: Path) -> None:
    work = _work(tmp_path, ["good.c", "unparsable.c", "other.c"])
    run = run_rule(
        spatch, read_rule(DATA / "find_devm_kzalloc.cocci"),
        ["good.c", "unparsable.c", "other.c"], cwd=work, jobs=2, timeout=30,
    )  # fmt: skip
    good, bad, other = run.results
    assert [r.file for r in run.results] == ["good.c", "unparsable.c", "other.c"]
    assert good.status is FileStatus.OK
    assert [(m.line, m.column, m.message) for m in good.matches] == [
        (7, 8, "devm_kzalloc here"),
        (10, 8, "devm_kzalloc here"),
    ]
    # The function that does not parse is reported; the two around it still match.
    assert bad.status is FileStatus.PARSE_ERROR
    assert bad.detail.startswith("code not parsed at line 11")
    assert [m.line for m in bad.matches] == [5, 17]
    assert other.status is FileStatus.OK and other.matches == ()


def test_timeout_costs_only_that_file(spatch: Spatch, tmp_path: Path) -> None:
    work = _work(tmp_path, ["good.c", "other.c"])
    _slow_c(work / "slow.c")
    run = run_rule(
        spatch, read_rule(DATA / "slow_paths.cocci"),
        ["slow.c", "good.c", "other.c"], cwd=work, jobs=1, timeout=2,
    )  # fmt: skip
    slow, good, other = run.results
    assert slow.status is FileStatus.TIMEOUT
    assert "Timeout" in slow.detail
    assert good.status is FileStatus.OK
    assert [m.line for m in good.matches] == [7, 10]
    assert other.status is FileStatus.OK


def test_crash_costs_only_that_file(spatch: Spatch, tmp_path: Path) -> None:
    # The stand-in runs the real spatch, but dies of SIGSEGV on any batch holding crash.c.
    exe = _stand_in(
        tmp_path,
        f"""for a in "$@"; do last="$a"; done
if [ -f "$last" ] && grep -q '^crash.c$' "$last"; then kill -SEGV $$; fi
exec {spatch.path} "$@"
""",
    )
    work = _work(tmp_path, ["good.c", "unparsable.c", "other.c"])
    shutil.copy(DATA / "good.c", work / "crash.c")
    files = ["good.c", "crash.c", "unparsable.c", "other.c"]
    # jobs=1 puts every file in one batch: the crash takes the batch down, the runner
    # then isolates the culprit by running each file alone.
    run = run_rule(
        Spatch(str(exe), spatch.version), read_rule(DATA / "find_devm_kzalloc.cocci"),
        files, cwd=work, jobs=1, timeout=30,
    )  # fmt: skip
    by = {r.file: r for r in run.results}
    assert by["crash.c"].status is FileStatus.CRASH
    assert by["crash.c"].detail == "spatch killed by signal 11"
    assert by["crash.c"].matches == ()
    assert by["good.c"].status is FileStatus.OK
    assert by["good.c"].matches == (
        Match("good.c", 7, 8, 20, "devm_kzalloc here"),
        Match("good.c", 10, 8, 20, "devm_kzalloc here"),
    )
    assert by["unparsable.c"].status is FileStatus.PARSE_ERROR
    assert [m.line for m in by["unparsable.c"].matches] == [5, 17]
    assert by["other.c"].status is FileStatus.OK


def test_rule_spatch_rejects(spatch: Spatch, tmp_path: Path) -> None:
    work = _work(tmp_path, ["good.c"])
    with pytest.raises(RuleError, match=r"^rule broken is rejected by spatch: "):
        run_rule(spatch, read_rule(DATA / "broken.cocci"), ["good.c"], cwd=work)


def test_no_files_no_process(spatch: Spatch, tmp_path: Path) -> None:
    run = run_rule(spatch, read_rule(DATA / "find_devm_kzalloc.cocci"), [], cwd=tmp_path)
    assert run.results == () and run.processes == 0


def test_several_rules_share_one_pool(spatch: Spatch, tmp_path: Path) -> None:
    """run_rules gives each rule the results run_rule gives it alone, in order, and
    reports each finished batch with its rule."""
    from refactor.cocci.spatch import run_rules

    work = _work(tmp_path, ["good.c", "unparsable.c", "other.c"])
    find = read_rule(DATA / "find_devm_kzalloc.cocci")
    slow = read_rule(DATA / "slow_paths.cocci")
    files = ["good.c", "unparsable.c", "other.c"]
    done: list[tuple[str, str]] = []
    work_list = [(find, files), (slow, ["other.c", "good.c"]), (slow, [])]
    both = run_rules(spatch, work_list, cwd=work, jobs=2, timeout=30,
                     progress=lambda rule, batch: done.extend((rule, f) for f in batch))  # fmt: skip
    alone = [run_rule(spatch, find, files, cwd=work, jobs=2, timeout=30),
             run_rule(spatch, slow, ["other.c", "good.c"], cwd=work, jobs=2, timeout=30)]  # fmt: skip
    assert [r.rule for r in both] == ["find_devm_kzalloc", "slow_paths", "slow_paths"]
    assert [r.results for r in both[:2]] == [r.results for r in alone]
    assert both[2].results == ()
    assert sorted(done) == sorted([("find_devm_kzalloc", f) for f in files] +
                                  [("slow_paths", "other.c"), ("slow_paths", "good.c")])  # fmt: skip
