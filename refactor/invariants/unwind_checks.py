"""The error-unwinding invariants of the drmm_ families' new error checks, for the
semantic stage: a new error exit (the `goto` or `return` of a check the patch adds after
a drmm_ call that can fail) must unwind at least what every earlier error exit of the
same function unwinds, since all that was set up before it.  In a goto ladder, an exit
that jumps below an earlier check's label (or returns) skips teardowns that undo what
is already set up, and leaks it; goto-unwinds-uninitialised (drmm_checks.py) catches
the other way to get it wrong.  A void function made to return int must return a value
on every path (`return;` left behind, or a caller still ignoring the result).
"""

from __future__ import annotations

import re

import tree_sitter

from refactor.csrc import cindex
from refactor.csrc.cfunc import Function
from refactor.invariants.drmm_checks import _TEARDOWN, _added_lines
from refactor.invariants.types import Change, Violation

_CALL = re.compile(r"^(\w+)\s*\(")
_SUCCESS = re.compile(r"return\s*(0|true|false)?\s*;")


def _undoes(statement: str) -> bool:
    """Whether a statement is a call that takes something down."""
    m = _CALL.match(statement)
    return bool(m and (_TEARDOWN.search(m.group(1)) or m.group(1) in ("kfree", "kvfree")))


def _text(src: bytes, node: tree_sitter.Node) -> str:
    return " ".join(src[node.start_byte : node.end_byte].decode(errors="replace").split())


def _labels(fn: Function) -> dict[str, tree_sitter.Node]:
    out = {}
    for n in cindex.walk(fn.node):
        if n.type == "labeled_statement":
            label = n.child_by_field_name("label")
            if label is not None:
                out[fn.src[label.start_byte : label.end_byte].decode()] = n
    return out


def _teardown_from(fn: Function, label: tree_sitter.Node) -> list[str]:
    """The teardown calls run from `label` on, falling through the labels below it, up to
    the first return (the unwinding a goto to it does)."""
    out = []
    for n in cindex.walk(fn.node):
        if n.start_byte < label.start_byte:
            continue
        if n.type == "return_statement":
            break
        if n.type == "expression_statement":
            text = _text(fn.src, n)
            if _undoes(text):
                out.append(text)
    return out


def _in_loop(node: tree_sitter.Node, fn: Function) -> bool:
    """Inside a loop of the function (its exits undo what the iteration took: of_node_put())."""
    up = node.parent
    while up is not None and up != fn.node:
        if up.type in ("for_statement", "while_statement", "do_statement"):
            return True
        up = up.parent
    return False


def _exits(fn: Function) -> list[tuple[int, list[str]]]:
    """(line, teardown calls run) of every error exit of the function body: an `if` whose
    branch ends in a goto or a return of something other than 0, with its own teardown
    calls and those of the label it jumps to."""
    labels = _labels(fn)
    first_label = min((n.start_byte for n in labels.values()), default=fn.node.end_byte)
    out = []
    for n in cindex.walk(fn.node):
        if n.type != "if_statement" or n.start_byte > first_label or _in_loop(n, fn):
            continue
        body = n.child_by_field_name("consequence")
        if body is None or n.child_by_field_name("alternative") is not None:
            continue
        block = body.type == "compound_statement"
        stmts = [c for c in body.named_children if c.type != "comment"] if block else [body]
        if not stmts or stmts[-1].type not in ("goto_statement", "return_statement"):
            continue
        last = stmts[-1]
        if last.type == "return_statement" and _SUCCESS.fullmatch(_text(fn.src, last)):
            continue
        runs = [
            _text(fn.src, s)
            for s in stmts[:-1]
            if s.type == "expression_statement" and _undoes(_text(fn.src, s))
        ]
        if last.type == "goto_statement":
            name = last.child_by_field_name("label")
            target = labels.get(fn.src[name.start_byte : name.end_byte].decode()) if name else None
            runs += _teardown_from(fn, target) if target is not None else []
        out.append((n.start_point[0] + 1, runs))
    return out


def goto_unwinds_too_little(change: Change) -> list[Violation]:
    """A new error exit runs every teardown that an earlier error exit of the function runs
    (what that one unwinds is set up before the new one too)."""
    if change.family == "drm-guards":
        return []
    out = []
    for rel, text in change.after.items():
        if not rel.endswith(".c"):
            continue
        added = _added_lines(change.before.get(rel, "").splitlines(), text.splitlines())
        src = text.encode(errors="surrogateescape")
        tree = cindex.parse(src)
        done: set[tuple[str, int]] = set()
        for line in sorted(added):
            fn = Function.at(src, tree, line)
            if fn is None:
                continue
            exits = _exits(fn)
            for at, runs in exits:
                if at != line or (fn.name, at) in done:
                    continue
                done.add((fn.name, at))
                for earlier, theirs in exits:
                    if earlier >= at or earlier in added:
                        continue
                    missing = [t for t in theirs if t not in runs]
                    if missing:
                        out.append(Violation(
                            "goto-unwinds-too-little", rel, at,
                            f"the new error exit at line {at} of {fn.name}() does not run "
                            f"{missing[0].rstrip(';')}, "
                            f"which the earlier error check at line {earlier} runs: it would leak what "
                            "that check unwinds"))  # fmt: skip
                        break
    return out


UNWIND_CHECKS = (goto_unwinds_too_little,)
