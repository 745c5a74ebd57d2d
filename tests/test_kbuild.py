"""The Kbuild reader on small synthetic trees (corpus/kbuild/<case>/, each with expected.json)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from refactor.model.kbuild import Evaluator, KbuildMap, logical_lines, read_kbuild, read_scope

CORPUS = Path(__file__).resolve().parent.parent / "corpus" / "kbuild"
CASES = sorted(p for p in CORPUS.iterdir() if (p / "expected.json").is_file())


def _expected(case: Path) -> dict[str, Any]:
    return json.loads((case / "expected.json").read_text())


def _sources(case: Path) -> list[str]:
    return sorted(str(p.relative_to(case)) for p in case.rglob("*.c"))


def _as_expected(kmap: KbuildMap) -> dict[str, dict[str, Any]]:
    return {
        m.path: {
            "name": m.name,
            "config": m.config,
            "makefile": m.makefile,
            "files": list(m.files),
            "conditions": [list(c) for c in m.conditions],
            "missing": list(m.missing),
        }
        for m in kmap.modules
    }


def _case_params() -> list[Any]:
    params = []
    for case in CASES:
        exp = _expected(case)
        marks = [pytest.mark.xfail(strict=True, reason=exp["xfail"])] if "xfail" in exp else []
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


def test_corpus_has_every_case() -> None:
    names = {c.name for c in CASES}
    assert {
        "single_file",
        "composite",
        "conditional",
        "nested",
        "continuations",
        "variables",
        "pattern_rule",
        "include_c",
        "rust_asm",
    } <= names


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_expected_json_names_real_files(case: Path) -> None:
    """Guard the corpus itself: every file an expected.json names exists in its tree."""
    exp = _expected(case)
    sources = set(_sources(case))
    for path, mod in exp["modules"].items():
        assert path.endswith(".o") and mod["name"] == Path(path).stem
        assert (case / mod["makefile"]).is_file()
        assert set(mod["files"]) <= sources, path
        assert {f for f, _ in mod["conditions"]} <= set(mod["files"]), path
        assert not any((case / m).exists() for m in mod["missing"]), path
    assert set(exp["unmapped"]) <= sources
    assert all((case / mk).is_file() for mk in exp["makefiles"])


@pytest.mark.parametrize("case", _case_params())
def test_case(case: Path) -> None:
    exp = _expected(case)
    kmap = read_kbuild(case)

    paths = [m.path for m in kmap.modules]
    assert len(paths) == len(set(paths)), "a module listed twice"
    assert _as_expected(kmap) == exp["modules"]
    assert list(kmap.makefiles) == exp["makefiles"]

    module_of = kmap.module_of()
    sources = _sources(case)
    assert set(module_of) <= set(sources), "mapped a file that does not exist"
    assert [s for s in sources if s not in module_of] == sorted(exp["unmapped"])
    if "module_of" in exp:
        assert {f: m.path for f, m in module_of.items()} == exp["module_of"]


# --- read_kbuild details ---------------------------------------------------------------


def test_top_limits_the_walk_and_paths_stay_relative_to_root() -> None:
    root = CORPUS / "nested"
    kmap = read_kbuild(root, top="drivers/gpu/drm")
    assert [m.path for m in kmap.modules] == [
        "drivers/gpu/drm/drmcore.o",
        "drivers/gpu/drm/foodrm/foodrm.o",
        "drivers/gpu/drm/panel/panel-barpanel.o",
        "drivers/gpu/drm/tinyorphan/tinyorphan.o",  # orphan under top: still read, last
    ]
    assert list(kmap.makefiles) == [
        "drivers/gpu/drm/Makefile",
        "drivers/gpu/drm/foodrm/Kbuild",
        "drivers/gpu/drm/panel/Makefile",
        "drivers/gpu/drm/tinyorphan/Makefile",
    ]
    assert kmap.modules[1].directory == "drivers/gpu/drm/foodrm"


def test_relative_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(CORPUS)
    kmap = read_kbuild(Path("single_file"))
    assert sorted(m.path for m in kmap.modules) == [
        "drivers/gpu/drm/bardrm.o",
        "drivers/gpu/drm/bazdrm.o",
        "drivers/gpu/drm/foodrm.o",
        "drivers/gpu/drm/quxdrm.o",
        "drivers/gpu/drm/tightdrm.o",
    ]


def test_module_of_prefers_the_first_module() -> None:
    kmap = read_kbuild(CORPUS / "pattern_rule")
    shared = "drivers/gpu/drm/bardisp/display/bar_dpll.c"
    owners = [m.path for m in kmap.modules if shared in m.files]
    assert owners == ["drivers/gpu/drm/bardisp/bardisp.o", "drivers/gpu/drm/quux/quux.o"]
    assert kmap.module_of()[shared].path == owners[0]


# --- logical_lines ---------------------------------------------------------------------


def _nonblank(text: str) -> list[str]:
    return [line for line in logical_lines(text) if line.strip()]


def test_continuations_join_with_one_space() -> None:
    text = "x := a.o \\\n\tb.o\t\t\\\n    c.o  \t\\\n\td.o\ny := e.o\n"
    assert list(logical_lines(text)) == ["x := a.o b.o c.o d.o", "y := e.o"]


def test_comments_are_dropped() -> None:
    text = "# whole line\n   # indented\nobj-y += a.o # trailing b.o\nobj-y += c.o#tight\n"
    assert list(logical_lines(text)) == ["", "", "obj-y += a.o", "obj-y += c.o"]


def test_escaped_hash_is_not_a_comment() -> None:
    assert list(logical_lines("X := a\\#b # real comment\n")) == ["X := a\\#b"]


def test_recipe_lines_keep_their_hash() -> None:
    text = "$(obj)/x.h: $(src)/x.txt\n\techo '#define X' > $@\n"
    assert list(logical_lines(text)) == ["$(obj)/x.h: $(src)/x.txt", "\techo '#define X' > $@"]


def test_commented_line_ends_a_continuation() -> None:
    # GNU make joins first, then the `#` comments out the rest of the logical line.
    lines = list(logical_lines("x := a.o \\\n# b.o \\\n"))
    assert lines[0].split() == ["x", ":=", "a.o"]
    assert not any("b.o" in line for line in lines)


def test_continuation_at_end_of_file() -> None:
    # Only the words matter here: the last, unfinished line is joined without trimming.
    assert [line.split() for line in logical_lines("x := a.o \\\n\tb.o \\")] == [["x", ":=", "a.o", "b.o"]]


def test_comment_on_tab_indented_continuation_line() -> None:
    assert _nonblank("x := a.o \\\n\tb.o # was c.o\n") == ["x := a.o b.o"]


def test_comment_ending_in_backslash_continues() -> None:
    assert _nonblank("# old list \\\nobj-y += y.o\n") == []


# --- Evaluator -------------------------------------------------------------------------

MAKEFILE = """\
L := a.o b.o c.o
R = $(L) r.o
A := one
IMM := $(A)
LAZY = $(A)
APPENDED := first
APPENDED += $(A)
A := two
OPT ?= opt1
OPT ?= opt2
U := u1
ifdef CONFIG_SOMETHING
U := u2
else
U += u3
endif
NAME := foo
$(NAME)-y := named.o
obj-$(CONFIG_FOO) += foo.o
"""


@pytest.fixture
def ev(tmp_path: Path) -> Evaluator:
    (tmp_path / "Makefile").write_text(MAKEFILE)
    scope = read_scope(tmp_path, tmp_path)
    assert scope is not None
    return Evaluator(scope)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("$(L)", "a.o b.o c.o"),
        ("${L}", "a.o b.o c.o"),
        ("x$(L)y", "xa.o b.o c.oy"),
        ("$$(L)", "$(L)"),
        ("$(CONFIG_ANYTHING)", "y"),
        ("$(NOT_DEFINED)", ""),
        ("$(R)", "a.o b.o c.o r.o"),
        ("$(addprefix sub/,$(L))", "sub/a.o sub/b.o sub/c.o"),
        ("$(addsuffix .o,p q)", "p.o q.o"),
        ("$(patsubst %.o,%.c,$(L))", "a.c b.c c.c"),
        ("$(patsubst a.o,z.o,$(L))", "z.o b.o c.o"),
        ("$(subst .o,.c,$(L))", "a.c b.c c.c"),
        ("$(filter b.o c.o,$(L))", "b.o c.o"),
        ("$(filter %.o,a.o b.c)", "a.o"),
        ("$(foreach w,p q,$(w)-y)", "p-y q-y"),
        ("$(if $(CONFIG_X),yes.o,no.o)", "yes.o no.o"),
        ("$(notdir sub/a.o b.o)", "a.o b.o"),
        ("$(dir sub/a.o)", "sub/"),
        ("$(basename sub/a.o b.c)", "sub/a b"),
        ("$(sort c b a b)", "a b c"),
        ("$(strip   a   b  )", "a b"),
        ("$(firstword $(L))", "a.o"),
        ("$(shell echo x.o)", ""),
        ("$(addprefix $(NAME)/,$(firstword $(L)))", "foo/a.o"),
    ],
)
def test_expand(ev: Evaluator, text: str, want: str) -> None:
    assert ev.expand(text) == want


def test_expand_builtins(ev: Evaluator, tmp_path: Path) -> None:
    root = str(tmp_path)
    assert ev.expand("$(src)/x.c $(obj) $(srctree)/drivers") == f"{root}/x.c {root} {root}/drivers"


def test_foreach_restores_its_variable(ev: Evaluator) -> None:
    assert ev.expand("$(foreach L,p,$(L))") == "p"
    assert ev.expand("$(L)") == "a.o b.o c.o"


def test_variable_flavours(ev: Evaluator) -> None:
    assert ev.value("IMM") == "one"  # := expands at once
    assert ev.value("LAZY") == "two"  # = expands when used
    assert ev.value("APPENDED") == "first one"  # += on a simple variable expands at once
    assert ev.value("OPT") == "opt1"  # ?= only when undefined
    assert ev.value("U") == "u1 u2 u3"  # every branch of a conditional counts
    assert ev.value("foo-y") == "named.o"  # the name itself is expanded
    assert ev.value("obj-y") == "foo.o"  # obj-$(CONFIG_FOO) is normalised to obj-y


def _bug(text: str, want: str, reason: str, id: str) -> Any:
    """A case that once failed: `reason` says how the reader got it wrong."""
    return pytest.param(text, want, id=id)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        _bug(
            "$(filter-out b.o,$(L))",
            "a.o c.o",
            "function names with a '-' (filter-out) are not recognised: read as a variable, expand to ''",
            "filter-out",
        ),
        _bug(
            "$(dir a.o)",
            "./",
            "$(dir) of a bare name gives '/' (os.path.dirname is '') instead of './'",
            "dir-bare-name",
        ),
        _bug(
            "$(L:.o=.c)",
            "a.c b.c c.c",
            "substitution references $(VAR:a=b) are not supported: they expand to ''",
            "substitution-reference",
        ),
    ],
)
def test_expand_known_bugs(ev: Evaluator, text: str, want: str) -> None:
    assert ev.expand(text) == want
