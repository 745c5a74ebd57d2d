"""The driver's own architecture, the compiled-lines proof and bisectability, on a git
tree of Linux 7.2 (realtree).  The first run prepares x86_64, arm64 and arm allmodconfig
build directories in the cache (minutes each); later runs reuse them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from refactor.generate.run import Patch
from refactor.generate.tidy import unified
from refactor.series import bisect
from refactor.series.commits import Commit, Series
from refactor.verify.checked import Candidate
from refactor.verify.run import verify

pytestmark = pytest.mark.realtree

TILCDC = "drivers/gpu/drm/tilcdc/tilcdc_crtc.c"
REPAPER = "drivers/gpu/drm/tiny/repaper.c"


def _comment_after(text: str, anchor: str, comment: str) -> str:
    assert anchor in text, anchor
    return text.replace(anchor, anchor + f"\n{comment}", 1)


def test_an_arm_only_driver_is_built_for_arm_and_every_hunk_proven(linux_7_2_git: Path) -> None:
    """tilcdc depends on ARM: x86_64 cannot build it (it uses __iowmb()), arm can."""
    tree = linux_7_2_git
    text = (tree / TILCDC).read_text()
    new = _comment_after(text, '#include "tilcdc_drv.h"', "/* the crtc of the LCD controller */")
    cands = [Candidate("tilcdc", "tilcdc", unified(TILCDC, text, new), (), ("drivers/gpu/drm/tilcdc",),
                       "CONFIG_DRM_TILCDC", stack="tilcdc")]  # fmt: skip
    (c,) = verify(tree, cands)[0]
    assert (c.verdict, c.arch) == ("verified", "arm"), c.reason
    assert c.proof is not None and (c.proof.hunks, c.proof.compiled, c.proof.missing) == (1, 1, ())


def test_a_hunk_under_an_ifdef_that_is_off_is_not_built_naming_it(linux_7_2_git: Path) -> None:
    """The same file built, one hunk under `#ifdef CONFIG_...` off in x86_64 allmodconfig
    (not-built, naming the symbol) and one under a symbol that is on (compiled)."""
    tree = linux_7_2_git
    text = (tree / REPAPER).read_text()
    off = _comment_after(text, "#include <linux/delay.h>",
                         "#ifdef CONFIG_KASAN_HW_TAGS\n/* only with hardware tags */\n#endif")  # fmt: skip
    on = _comment_after(text, "#include <linux/delay.h>", "#ifdef CONFIG_SPI\n/* always here */\n#endif")
    cands = [
        Candidate(
            name,
            "repaper",
            unified(REPAPER, text, new),
            (),
            ("drivers/gpu/drm/tiny",),
            "CONFIG_TINYDRM_REPAPER",
            stack=name,
        )  # fmt: skip
        for name, new in (("off", off), ("on", on))
    ]
    checks = {c.patch: c for c in verify(tree, cands)[0]}
    assert checks["off"].verdict == "not-built", checks["off"].reason
    assert "CONFIG_KASAN_HW_TAGS is off" in checks["off"].reason
    assert checks["off"].arch == "x86_64" and checks["off"].proof is not None
    assert checks["off"].proof.compiled == 0 and checks["off"].proof.missing
    assert checks["on"].verdict == "verified", checks["on"].reason
    assert checks["on"].proof is not None and checks["on"].proof.compiled == checks["on"].proof.hunks == 1


def _series(commits: list[tuple[str, str]]) -> Series:
    out = []
    for k, (name, diff) in enumerate(commits):
        p = Patch(name, "repaper", "test", (), (), (REPAPER,), diff)
        out.append(Commit(p, f"drm/tiny/repaper: step {k + 1}", "", "verified", "", (), (), "x86_64"))
    return Series("", "b", 1, "HEAD", "id", "s", "", tuple(out), Path("."), None)


def test_a_commit_that_only_builds_on_top_of_a_later_one_is_caught(linux_7_2_git: Path) -> None:
    """Commit 1 uses a constant commit 2 defines: each builds in verification's order only
    when both are there, and the bisect check says which commit it needs."""
    tree = linux_7_2_git
    text = (tree / REPAPER).read_text()
    anchor = "#include <linux/delay.h>"
    uses = text + "\nint drmm_refactor_bisect_probe(void)\n{\n\treturn drmm_refactor_bisect_value;\n}\n"
    both = _comment_after(uses, anchor, "\nstatic const int drmm_refactor_bisect_value = 1;")
    first, second = unified(REPAPER, text, uses), unified(REPAPER, uses, both)
    steps = bisect.check(tree, [_series([("uses", first), ("defines", second)])], [])
    assert [s.verdict for s in steps] == ["build-failed", "verified"], steps
    assert "does not build on its own" in steps[0].reason and "step 2" in steps[0].reason
    assert "drmm_refactor_bisect_value" in steps[0].reason


def test_the_right_order_is_bisectable(linux_7_2_git: Path) -> None:
    tree = linux_7_2_git
    text = (tree / REPAPER).read_text()
    anchor = "#include <linux/delay.h>"
    uses = text + "\nint drmm_refactor_bisect_probe(void)\n{\n\treturn drmm_refactor_bisect_value;\n}\n"
    both = _comment_after(uses, anchor, "\nstatic const int drmm_refactor_bisect_value = 1;")
    defined = _comment_after(text, anchor, "\nstatic const int drmm_refactor_bisect_value = 1;")
    define, use = unified(REPAPER, text, defined), unified(REPAPER, defined, both)
    steps = bisect.check(tree, [_series([("defines", define), ("uses", use)])], [])
    assert [s.verdict for s in steps] == ["verified", "verified"], steps


def test_a_failure_of_make_itself_is_not_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A host tool that could not run (make's Error 126, as when two runs rebuilt it at
    once) says nothing about the file: the next compile tries again.  A compiler error in
    the file is the text's, and is cached by it."""
    from refactor.verify.build import Build, ResultCache, compile_file, compiler_failed

    bin_dir, work = tmp_path / "bin", tmp_path / "work"
    bin_dir.mkdir()
    (work / "drivers").mkdir(parents=True)
    (work / "drivers/a.c").write_text("int a;\n")
    fake = bin_dir / "make"
    fake.write_text('#!/bin/sh\necho "$MSG"; exit 2\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    build = Build(tmp_path / "o", "x86_64", {}, "k")
    cache = ResultCache(tmp_path / "results")
    monkeypatch.setenv("MSG", "make[3]: *** [scripts/Makefile.host:131: scripts/dtc/data.o] Error 126")
    assert not compile_file(work, build, "drivers/a.c", cache)["ok"]
    entries = lambda: [p for p in (tmp_path / "results").rglob("*") if p.is_file()]  # noqa: E731
    assert not entries()
    monkeypatch.setenv("MSG", "drivers/a.c:1:5: error: expected ';'")
    assert not compile_file(work, build, "drivers/a.c", cache)["ok"]
    assert len(entries()) == 1
    assert compiler_failed("x.c:1:10: fatal error: y.h: No such file or directory")
