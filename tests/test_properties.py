"""Property-based tests: every parser the tool has takes arbitrary input without an
exception other than the tool's own error type (RefactorError and its kinds)."""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refactor.cocci import spatch
from refactor.infra.errors import RefactorError
from refactor.model import kbuild
from refactor.report import baseline
from refactor.series.run import wrap
from refactor.sweep import run as sweep
from refactor.verify.run import touched_files

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# text that looks a little like each format, mixed with anything at all
MAKE_BITS = st.sampled_from(
    [
        "obj-$(CONFIG_DRM_X) += x.o\n",
        "x-y := a.o b.o\n",
        "$(",
        ")",
        "\\\n",
        "include ",
        "$(patsubst %.c,%.o,$(wildcard *.c))",
        "ifeq (",
        "endif\n",
        "#",
        "subdir-",
        "=",
        ":=",
    ]
)
SPATCH_BITS = st.sampled_from(
    [
        "a.c:1:2-3: msg\n",
        "EXN: Failure in a.c\n",
        'parse error \n = File "a.c", line 3, column 1',
        '\t{"k": 1}',
        "diff -u -p a/a.c b/a.c\n",
        "@@ -1 +1 @@\n",
        "+x\n",
        "-y\n",
        "\n",
        ":",
        "\t",
    ]
)
COCCI_BITS = st.sampled_from(
    [
        "/// text\n",
        "// Confidence: High\n",
        "// Options: --no-includes '\n",
        "// Keywords: a, b\n",
        "virtual report\n",
        "//  more\n",
        "// Comments: x\n",
        "'",
        '"',
    ]
)


def mixed(bits: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(bits, st.text(max_size=40)), max_size=30).map("".join)


@SETTINGS
@given(mixed(MAKE_BITS))
def test_kbuild_reader_takes_any_makefile(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "drivers/gpu/drm/x").mkdir(parents=True)
        (root / "drivers/gpu/drm/x/Makefile").write_text(text, errors="surrogateescape")
        (root / "drivers/Makefile").write_text("obj-y += gpu/drm/x/\n")
        with contextlib.suppress(RefactorError):
            kbuild.read_kbuild(root)
        assert list(kbuild.logical_lines(text)) is not None


@SETTINGS
@given(mixed(SPATCH_BITS), mixed(SPATCH_BITS))
def test_spatch_output_parser_takes_anything(stdout: str, stderr: str) -> None:
    out = spatch._parse(stdout, stderr, {"a.c", "b.c"})
    assert set(out.problems) <= {"a.c", "b.c"} and set(out.matches) <= {"a.c", "b.c"}


@SETTINGS
@given(mixed(COCCI_BITS))
def test_cocci_header_reader_takes_anything(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.cocci"
        path.write_text(text, errors="surrogateescape")
        try:
            rule = spatch.read_rule(path)
        except RefactorError:
            return
        assert rule.id == "r" and isinstance(rule.keywords, tuple)


@SETTINGS
@given(st.text(), st.text(), st.text(), st.text())
def test_finding_ids_are_stable_hex(rule: str, file: str, function: str, code: str) -> None:
    a = sweep.finding_id(rule, file, function, code)
    assert a == sweep.finding_id(rule, file, function, "  " + code.replace(" ", "\t ") + " ")
    assert len(a) == 16 and int(a, 16) >= 0


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
    max_leaves=20,
)


@SETTINGS
@given(
    st.one_of(
        st.binary(max_size=200),
        JSONISH.map(lambda v: json.dumps(v).encode()),
        st.lists(st.fixed_dictionaries({"id": st.text(max_size=8)}), max_size=3).map(
            lambda fs: json.dumps({"findings": fs}).encode()
        ),
    )
)
def test_baseline_reader_takes_any_file(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "old.json"
        path.write_bytes(data)
        try:
            ids = baseline.load(path)
        except RefactorError:
            return
        assert all(isinstance(i, str) for i in ids)


@SETTINGS
@given(mixed(SPATCH_BITS))
def test_diff_readers_take_anything(text: str) -> None:
    assert all(isinstance(f, str) for f in touched_files(text, deleted=True))
    assert wrap(text).endswith("\n")
