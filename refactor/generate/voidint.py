"""The generator's edits of a void function made to return int (families/void_int.py):
`void` -> `int` in its definition and prototypes, `return;` -> `return 0;` and a final
`return 0;` in its body, and each call statement `f(...);` -> `ret = f(...);` with the
caller's error check.  Ops whose text is not found are returned, so that the plan is not
applied in part."""

from __future__ import annotations

import re
from collections.abc import Sequence

from refactor.csrc import cindex
from refactor.families.ops import Op, norm
from refactor.families.void_int import CALL_CHECK, PROTO, VOID_INT, check_lines

VOIDINT_OPS = (VOID_INT, PROTO, CALL_CHECK)


def void_to_int(ops: Sequence[Op], rel: str, text: str) -> tuple[str, list[Op]]:
    mine = [o for o in ops if o.kind in VOIDINT_OPS and o.file == rel]
    missing: list[Op] = []
    for op in [o for o in mine if o.kind == CALL_CHECK]:
        text = _check_call(op, text, missing)
    for op in [o for o in mine if o.kind == PROTO]:
        new = re.sub(rf"(^|\n)([ \t]*(?:extern\s+)?)void(\s+{op.name}\s*\([^;{{]*\)\s*;)", r"\1\2int\3", text)
        if new == text:
            missing.append(op)
        text = new
    for op in [o for o in mine if o.kind == VOID_INT]:
        text = _definition(op, text, missing)
    return text, missing


def _check_call(op: Op, text: str, missing: list[Op]) -> str:
    data = text.encode(errors="surrogateescape")
    spans = {name: (start, end) for start, end, name in cindex.function_spans(data)}
    lines = text.splitlines(keepends=True)
    start, end = spans.get(op.name, (0, -1))
    row = next((i for i in range(start - 1, end) if norm(lines[i]) == op.code), None)
    if row is None:
        missing.append(op)
        return text
    indent = lines[row][: len(lines[row]) - len(lines[row].lstrip())]
    var, exit_ = op.args.var or "ret", op.args.exit or "return ret;"
    lines[row : row + 1] = [f"{indent}{var} = {op.code}\n", *check_lines(var, exit_, indent)]
    return "".join(lines)


def _definition(op: Op, text: str, missing: list[Op]) -> str:
    data = text.encode(errors="surrogateescape")
    defs = [n for n in cindex.walk(cindex.parse(data).root_node) if n.type == "function_definition"]
    named = [n for n in defs if cindex._declarator_name(n.child_by_field_name("declarator"), data) == op.name]
    node = named[0] if named else None
    body = node.child_by_field_name("body") if node is not None else None
    if node is None or body is None:
        missing.append(op)
        return text
    head = data[node.start_byte : body.start_byte].decode(errors="surrogateescape")
    new_head = re.sub(r"\bvoid(\s+)", r"int\1", head, count=1)
    inner = data[body.start_byte : body.end_byte].decode(errors="surrogateescape")
    inner = re.sub(r"\breturn\s*;", "return 0;", inner)
    stmts = [c for c in body.named_children if c.type != "comment"]
    if not stmts or stmts[-1].type != "return_statement":
        close = inner.rindex("}")
        inner = inner[:close].rstrip("\n\t ") + "\n\treturn 0;\n" + inner[close:]
    inner = _return_last(inner)
    before = data[: node.start_byte].decode(errors="surrogateescape")
    after = data[body.end_byte :].decode(errors="surrogateescape")
    return before + new_head + inner + after


def _return_last(body: str) -> str:
    """`ret = f(...); if (ret) return ret; return 0;` at the end of the body as `return
    f(...);`, and the variable's declaration dropped when nothing else uses it."""
    m = re.search(r"\n\t(\w+) = ([^;]+);\n\tif \(\1\)\n\t\treturn \1;\n\treturn 0;\n\}$", body)
    if not m:
        return body
    var = m.group(1)
    body = body[: m.start()] + f"\n\treturn {m.group(2)};\n}}"
    if len(re.findall(rf"\b{var}\b", body)) == 1:
        body = re.sub(rf"\n\tint {var};\n(\n(?=\t))?", "\n", body, count=1)
    return body
