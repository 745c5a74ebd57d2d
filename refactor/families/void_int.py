"""A `void` function that gets a drmm_ call that can fail, made to return `int`, with the
error propagated at every caller: the planner's answer to "returns void, and the drmm_
call can fail" where it is safe.  The function must be the module's own (static, or
declared only in a header of the module), only ever called, as a statement of its own,
from functions that return int (or a pointer) and whose error exit at the call the
planner can tell; it must set nothing up before the drmm_ call that a new early return
would leak.  Otherwise the refusal names the caller or the use that stops it.

The edits are the generator's (generate/voidint.py): `void` -> `int` in the definition
and its prototypes, `return;` -> `return 0;` and a final `return 0;`, and each call
`f(...);` -> `ret = f(...); if (ret) <exit>`."""

from __future__ import annotations

import re

from refactor.classify.facts import Facts
from refactor.families.ops import Args, Op, Planning, Refusal, norm

VOID_INT, PROTO, CALL_CHECK = "void-int", "void-int-proto", "call-check"


def propagate(p: Planning, facts: Facts, file: str, line: int) -> tuple[str, str, list[Op]]:
    """(variable, exit, edits) of a drmm_ call added at `line` of a void function, made to
    return int; raises Refusal with the reason when that is not safe."""
    fn = p.function(file, line)
    name = fn.name
    why = f"{name}() returns void, and the drmm_ call can fail"
    if fn.sets_up_before(line):
        raise Refusal(f"{why}: it sets things up before the call that an early return would leak; "
                      "add error handling by hand")  # fmt: skip
    header = fn.src[fn.node.start_byte : fn.body.start_byte].decode(errors="replace") if fn.body else ""
    if not re.match(r"^\s*(static\s+)?(inline\s+)?void\s", header):
        raise Refusal(f"{why}: its definition is not a plain `void {name}(...)` the tool can change")
    ops = [Op("void-int", file, name, "")]
    protos = _prototypes(p, facts, name)
    if not re.match(r"^\s*static\b", header) and not any(f.endswith(".h") for f in protos):
        raise Refusal(f"{why}: {name}() is not static and has no prototype in a header of the driver: "
                      "callers outside it may ignore the new error")  # fmt: skip
    ops += [Op("void-int-proto", f, name, "") for f in protos]
    m = p.c.lifetime(facts.driver)
    calls = m.calls([name])
    if not calls:
        raise Refusal(f"{why}: the tool finds no caller of {name}() to propagate the error to")
    named = sum(
        len(re.findall(rf"\b{name}\b", m.text(rel))) for rel in m.files if name.encode() in m.files[rel]
    )
    if named != len(calls) + 1 + sum(protos.values()):
        raise Refusal(f"{why}: {name}() is used other than called (a pointer to it): add error handling "
                      "by hand")  # fmt: skip
    for rel, call in calls:
        ops += _caller_ops(p, rel, call.line, name, call.function, why)
    var = fn.error_var() or "ret"
    if not fn.error_var():
        ops.append(Op("declare", file, name, "", Args(var=var)))
    return var, f"return {var};", ops


def _caller_ops(p: Planning, rel: str, line: int, name: str, caller: str, why: str) -> list[Op]:
    if not caller:
        raise Refusal(f"{why}: {name}() is named outside a function at {rel}:{line}")
    fn = p.function(rel, line)
    stmt = fn.statement_at(line)
    code = p.code(rel, line)
    if (stmt is None or stmt.type != "expression_statement" or stmt.start_point[0] != stmt.end_point[0]
            or not code.startswith(f"{name}(") or not code.endswith(");")):  # fmt: skip
        raise Refusal(f"{why}: its call at {rel}:{line} in {caller}() is not a one-line statement of its "
                      "own the tool can check")  # fmt: skip
    if fn.returns == "void":
        raise Refusal(f"{why}: its caller {caller}() ({rel}:{line}) returns void too and cannot propagate it")
    try:
        var, exit_, declare = p.error_handling(rel, line)
    except Refusal as refusal:
        raise Refusal(f"{why}: at its call in {caller}() ({rel}:{line}), {refusal}") from None
    return [p.op("call-check", rel, line, Args(var=var, exit=exit_)), *declare]


def _prototypes(p: Planning, facts: Facts, name: str) -> dict[str, int]:
    """file -> how many prototypes of `name` it has, in the files of the driver's
    module directories (its private headers among them)."""
    out: dict[str, int] = {}
    m = p.c.lifetime(facts.driver)
    for rel in sorted(m.files):
        if name.encode() not in m.files[rel]:
            continue
        n = sum(1 for d in p.c.definitions(rel) if d.name == name and d.kind == "prototype")
        if n:
            out[rel] = n
    return out


def check_lines(var: str, exit_: str, indent: str) -> list[str]:
    """The lines of `if (var) <exit>` at `indent` (a `{ a; b; }` exit as a block)."""
    text = norm(exit_)
    if not (text.startswith("{") and text.endswith("}")):
        return [f"{indent}if ({var})\n", f"{indent}\t{text}\n"]
    inner = [s.strip() + ";" for s in text[1:-1].split(";") if s.strip()]
    return [f"{indent}if ({var}) {{\n", *(f"{indent}\t{s}\n" for s in inner), f"{indent}}}\n"]
