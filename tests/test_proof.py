"""The compiled-lines proof: where the markers go (pure), then on Linux 7.2 (realtree): a
hunk inside an `#ifdef CONFIG_...` that allmodconfig turns off is not-built naming the
symbol, one inside an #ifdef it turns on is proven compiled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from refactor.generate.run import _unified
from refactor.verify.proof import conditions, marked, regions

BASE = """\
#include <linux/module.h>

/* a block comment
 * that spans lines
 */
#define FOO(x) \\
	do { \\
		bar(x); \\
	} while (0)

static int one(void)
{
	return 1;
}

#ifdef CONFIG_SOMETHING
static int two(void)
{
	return 2;
}
#else
static int two(void) { return 0; }
#endif
"""


def _diff(new: str) -> str:
    return _unified("drivers/x/x.c", BASE, new)


def test_a_marker_per_changed_region_at_its_first_added_line() -> None:
    new = BASE.replace("\treturn 1;", "\tint a = 1;\n\n\treturn a;").replace("\treturn 2;", "\treturn 3;")
    regs = regions(_diff(new))
    # one hunk (the changes are 6 lines apart), two regions: each marked on its own
    assert [(r.hunk, r.line) for r in regs] == [(1, 13), (1, 21)]
    text = marked(new, regs).split("\n")
    for r in regs:
        at = text.index(r.marker)
        assert text[at + 1] == new.split("\n")[r.line - 1]  # the marker sits before its line


def test_a_deletion_only_region_is_marked_where_the_lines_were() -> None:
    new = BASE.replace("static int one(void)\n{\n\treturn 1;\n}\n\n", "")
    (reg,) = regions(_diff(new))
    assert new.split("\n")[reg.line - 1] == "#ifdef CONFIG_SOMETHING"
    out = marked(new, [reg]).split("\n")
    assert out[out.index(reg.marker) + 1] == "#ifdef CONFIG_SOMETHING"


def test_markers_move_out_of_comments_and_continued_lines() -> None:
    new = BASE.replace(" * that spans lines", " * that spans two lines")
    new = new.replace("\t\tbar(x); \\", "\t\tbaz(x); \\")
    regs = regions(_diff(new))
    assert len(regs) == 2
    out = marked(new, regs)
    lines = out.split("\n")
    for r in regs:
        k = lines.index(r.marker)
        assert not lines[k - 1].endswith("\\"), "the marker continues a macro"
    assert lines[lines.index(regs[0].marker) + 1] == "/* a block comment"
    assert lines[lines.index(regs[1].marker) + 1] == "#define FOO(x) \\"
    assert re.sub(r"^__drmm_refactor_hunk_\d+__\n", "", out, flags=re.M) == new  # nothing else changes


def test_code_an_added_ifdef_guards_is_marked_inside_it() -> None:
    new = BASE.replace("\treturn 1;", "#ifndef CONFIG_OTHER\n\tbar(1);\n#endif\n\treturn 1;")
    regs = regions(_diff(new))
    lines = new.split("\n")
    assert [lines[r.line - 1] for r in regs] == ["\tbar(1);"]  # not before the #ifndef
    only = BASE.replace("#include <linux/module.h>", "#include <linux/module.h>\n#include <linux/of.h>")
    (reg,) = regions(_diff(only))
    assert only.split("\n")[reg.line - 1] == "#include <linux/of.h>"  # only directives: the first


def test_conditions_around_a_line() -> None:
    lines = BASE.split("\n")
    assert conditions(BASE, lines.index("\treturn 2;") + 1) == ["#ifdef CONFIG_SOMETHING"]
    assert conditions(BASE, lines.index("static int two(void) { return 0; }") + 1) == [
        "#else of #ifdef CONFIG_SOMETHING"
    ]
    assert conditions(BASE, lines.index("\treturn 1;") + 1) == []


# -- on Linux 7.2 -------------------------------------------------------------------------
@pytest.mark.realtree
def test_proof_on_ifdef_hunks(linux_7_2_git: Path) -> None:
    """x86_64 allmodconfig has CONFIG_MODULES on: a hunk under `#ifdef CONFIG_MODULES`
    is compiled, one under `#ifndef CONFIG_MODULES` is not, and the reason says so."""
    from refactor.verify.build import Builds, ResultCache
    from refactor.verify.proof import prove
    from refactor.verify.run import _apply, _undo, worktree

    tree = linux_7_2_git
    rel = "drivers/gpu/drm/tiny/repaper.c"
    text = (tree / rel).read_text()
    assert "MODULE_LICENSE" in text
    lic = "MODULE_LICENSE("
    on = text.replace(lic, f"#ifdef CONFIG_MODULES\n/* built */\n#endif\n{lic}", 1)
    off = text.replace(lic, f"#ifndef CONFIG_MODULES\n/* not built */\n#endif\n{lic}", 1)
    with worktree(tree) as work:
        build = Builds(tree, work).get("x86_64")
        assert build.enabled("CONFIG_MODULES")
        cache = ResultCache(work / "results", enabled=False)
        proofs = {}
        for name, new in (("on", on), ("off", off)):
            diff = _unified(rel, text, new)
            assert _apply(work, diff, check_only=False).ok
            proofs[name] = prove(work, build, diff, cache)
            _undo(tree, work, [diff])
    assert (proofs["on"].hunks, proofs["on"].compiled, proofs["on"].missing) == (1, 1, ())
    off_proof = proofs["off"]
    assert (off_proof.hunks, off_proof.compiled) == (1, 0)
    assert off_proof.missing and off_proof.missing[0].startswith(rel + ":")
    assert "CONFIG_MODULES is on" in off_proof.why and "#ifndef CONFIG_MODULES" in off_proof.why
