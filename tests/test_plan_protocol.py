"""The plan protocol has two copies: `Op.key` on the Python side, and the `key()` of the
`@initialize:python@` block that each patch-mode rule carries (spatch runs it, the
planner's Python is not there).  These tests run each rule's block as spatch would, with
a stand-in for spatch's `cocci` module and match positions, and check that it keys a
planned edit exactly as the planner does, and that the copies are one text."""

from __future__ import annotations

import ast
import dataclasses
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


# -- what the planners write and the rules read -------------------------------------------

FAMILIES_DIR = Path(__file__).resolve().parent.parent / "refactor/families"


def _str_constants(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _values(node: ast.AST) -> set[str]:
    """The strings an expression can be (`"a" if c else "b"`: not the strings of `c`)."""
    if isinstance(node, ast.IfExp):
        return _values(node.body) | _values(node.orelse)
    return _str_constants(node)


def _callee(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def _planned_kinds() -> tuple[set[str], set[str]]:
    """The op kinds the family modules write (`p.op(KIND, ...)`, `Op(KIND, ...)`), and the
    prefixes of those built by `"init-" + name`.  A kind held in a variable is each string
    assigned to it in the function, or passed for it where the function is called."""
    kinds: set[str] = set()
    prefixes: set[str] = set()
    trees = {p.name: ast.parse(p.read_text()) for p in sorted(FAMILIES_DIR.glob("*.py"))}
    calls = [n for t in trees.values() for n in ast.walk(t) if isinstance(n, ast.Call)]
    for name, tree in trees.items():
        for fn in (n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)):
            if fn.name == "op":
                continue  # the helper that builds an Op of the kind it is given
            params = [a.arg for a in fn.args.args]
            for call in (n for n in ast.walk(fn) if isinstance(n, ast.Call) and n.args):
                if _callee(call) not in ("op", "Op"):
                    continue
                kind = call.args[0]
                if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                    kinds.add(kind.value)
                elif isinstance(kind, ast.BinOp) and isinstance(kind.left, ast.Constant):
                    prefixes.add(str(kind.left.value))
                elif isinstance(kind, ast.Name) and kind.id in params:
                    at = params.index(kind.id)
                    for c in calls:
                        if _callee(c) == fn.name and len(c.args) > at:
                            kinds |= _values(c.args[at])
                elif isinstance(kind, ast.Name):
                    set_to = [a.value for a in ast.walk(fn) if isinstance(a, ast.Assign)
                              and any(isinstance(t, ast.Name) and t.id == kind.id
                                      for t in a.targets)]  # fmt: skip
                    assert set_to, f"{name}: {fn.name}() writes an op whose kind {kind.id} is not seen"
                    kinds |= set().union(*map(_values, set_to))
                else:
                    raise AssertionError(f"{name}: {fn.name}() writes an op of a kind the test cannot see")
    return kinds, prefixes


def _scripts(path: Path) -> str:
    """The Python of a rule: its initialize block and its script rules' bodies (up to the
    next rule, without the SmPL comments between rules)."""
    head = r"^@(?:initialize:python|script:python[^@\n]*)@\n(?:[^@\n][^\n]*\n)*@@\n(.*?)(?=^@|\Z)"
    bodies = re.findall(head, path.read_text(), re.M | re.S)
    return "\n".join("\n".join(x for x in b.splitlines() if not x.startswith("//")) for b in bodies)


def test_every_planned_kind_is_one_a_rule_makes() -> None:
    """An op kind no rule's patch mode looks up would never be made: its plan would fail
    at generation on every tree.  Each kind (or prefix) the planners write is a string
    some patch-mode rule keys an edit by."""
    from refactor.generate.run import GENERATOR_OPS

    kinds, prefixes = _planned_kinds()
    assert len(kinds) > 20 and {"init-", "plane-init-", "kalloc-init-"} <= prefixes, (kinds, prefixes)
    known = set().union(*(_str_constants(ast.parse(_scripts(p), str(p))) for p in PATCH_RULES))
    missing = sorted(k for k in kinds if k not in known and k not in GENERATOR_OPS)
    assert not missing, f"no patch-mode rule makes the planned edits {missing}"
    loose = sorted(p for p in prefixes if not any(k.startswith(p) for k in known))
    assert not loose, f"no patch-mode rule makes an edit of the kinds {loose}..."


def test_the_rules_read_only_values_the_planners_give() -> None:
    """The values a rule reads of a planned edit (`op["drm"]`, `op.get("var", ...)`) are
    fields of `ops.Args`, by the name the plan file gives them."""
    from refactor.families.ops import Args

    given = set(Args(**{f.name: "x" for f in dataclasses.fields(Args)}).as_json())
    assert {"return", "drm", "funcs"} <= given
    read = {m for p in PATCH_RULES for m in re.findall(r'\bop(?:\.get\(|\[)"(\w+)"', _scripts(p))}
    assert len(read) > 10, read
    unknown = sorted(read - given - {"key"})  # "key" is the plan file's own field, not a value
    assert not unknown, f"the rules read {unknown}, which no planner gives (ops.Args)"


def test_the_plan_file_is_what_the_rules_read() -> None:
    """A plan file entry as generate writes it: the key, and the values as strings under
    the rules' names (an int, as a guard's column, is a string the rule converts)."""
    from refactor.families.ops import Args

    op = Op("guard-enter", "a.c", "f", "x;", Args(column=8, drm="drm", idx="idx", return_="return;"))
    assert op.args.as_json() == {"column": "8", "drm": "drm", "idx": "idx", "return": "return;"}
    assert Op("put", "a.c", "f", "x;").args.as_json() == {}
