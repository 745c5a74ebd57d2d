"""The plan protocol has two copies: `Op.key` on the Python side, and the `key()` of the
`@initialize:python@` block that each patch-mode rule carries (spatch runs it, the
planner's Python is not there).  These tests run each rule's block as spatch would, with
a stand-in for spatch's `cocci` module and match positions, and check that it keys a
planned edit exactly as the planner does, and that the copies are one text."""

from __future__ import annotations

import ast
import os
import re
import types
from pathlib import Path

import pytest

from refactor.families.ops import Op, norm

RULES = Path(__file__).resolve().parent.parent / "semantic_patches"


def _init_block(path: Path) -> str:
    """The Python of a rule's `@initialize:python@` block ("" when it has none)."""
    block = r"^@initialize:python@\n@@\n(.*?)(?=^@[\w ]*@$|^@\w+[^\n]*@\n)"  # up to the next rule
    m = re.search(block, path.read_text(), re.M | re.S)
    return m.group(1) if m else ""


PATCH_RULES = sorted(p for p in RULES.glob("*.cocci") if "def key(" in _init_block(p))


class _Pos:
    """What spatch hands a script for a position: file, line, enclosing function."""

    def __init__(self, file: str, line: int, function: str) -> None:
        self.file, self.line, self.current_element = file, str(line), function


def _run_block(path: Path) -> dict[str, object]:
    """The block's namespace, run without a plan (so it reads no file) as spatch runs it."""
    namespace: dict[str, object] = {"cocci": types.SimpleNamespace(include_match=lambda keep: None)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRMM_REFACTOR")}
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        exec(compile(_init_block(path), str(path), "exec"), namespace)  # noqa: S102 - the rule's own code
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return namespace


PROTOCOL = ("_code", "key", "want", "applied")  # the functions every patch-mode rule shares


def _protocol(block: str) -> dict[str, str]:
    """The protocol's functions in a block, and how it reads the plan, as code (their
    syntax trees: comments and layout may differ between the copies)."""
    tree = ast.parse(block)
    out = {n.name: ast.dump(n) for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in PROTOCOL}
    reads = [n for n in tree.body if isinstance(n, ast.If) and "DRMM_REFACTOR_PLAN" in ast.unparse(n.test)]
    out["plan"] = "\n".join(ast.dump(n) for n in reads)
    return out


def test_the_patch_mode_rules_carry_one_protocol() -> None:
    assert len(PATCH_RULES) >= 5, "the patch-mode rules were not found"
    copies = {p.name: _protocol(_init_block(p)) for p in PATCH_RULES}
    first = copies[PATCH_RULES[0].name]
    assert set(first) == {*PROTOCOL, "plan"} and first["plan"], first
    differ = [n for n, c in copies.items() if c != first]
    assert not differ, f"{differ} read or key the plan differently from {PATCH_RULES[0].name}"


@pytest.mark.parametrize("rule", PATCH_RULES, ids=lambda p: p.stem)
def test_a_rule_keys_an_edit_as_the_planner_does(rule: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    ns = _run_block(rule)
    key = ns["key"]
    assert callable(key)
    src = tmp_path / "drivers/gpu/drm/foo/foo_drv.c"
    src.parent.mkdir(parents=True)
    line = "\tpriv->lock =  devm_kzalloc(dev,\tsizeof(*priv), GFP_KERNEL);"
    src.write_text("/* a */\nstatic int foo_probe(struct device *dev)\n{\n" + line + "\n}\n")
    rel = "drivers/gpu/drm/foo/foo_drv.c"
    pos = [_Pos(str(src), 4, "foo_probe")]
    # spatch matches a scratch copy of the file: drmm-refactor names the file it stands for
    monkeypatch.setenv("DRMM_REFACTOR_FILE", rel)
    by_line = Op("drmm-alloc", rel, "foo_probe", norm(line))
    assert key("drmm-alloc", pos) == by_line.key
    by_name = Op("guard-whole", rel, "foo_crtc_enable", "")
    assert key("guard-whole", pos, "foo_crtc_enable") == by_name.key
    # without DRMM_REFACTOR_FILE the path is the match's, relative to where spatch runs
    monkeypatch.delenv("DRMM_REFACTOR_FILE")
    monkeypatch.chdir(tmp_path)
    assert key("drmm-alloc", pos) == by_line.key
