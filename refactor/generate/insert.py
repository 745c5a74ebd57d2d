"""The edits the generator makes itself rather than a semantic patch: a new line before
or after the statement an op is keyed on (mutex-destroy's `mutex_destroy(...)` beside a
hand free or the release hook's own destroys), with that statement's indentation.  A
statement of one line, found by its normalised text inside the op's function; an op
whose statement is not there is reported, so that a plan is never applied in part."""

from __future__ import annotations

from collections.abc import Sequence

from refactor.csrc import cindex
from refactor.families.mutex_destroy import AFTER, BEFORE
from refactor.families.ops import Op, norm

INSERT_OPS = (BEFORE, AFTER)


def _line_of(op: Op) -> str:
    """The new line's code (without indentation)."""
    return f"mutex_destroy({op.args.obj});"


def insert_lines(ops: Sequence[Op], rel: str, text: str) -> tuple[str, list[Op]]:
    """`text` with the insertions of `ops` in file `rel` made, and the ops that found no
    statement to go beside."""
    mine = [o for o in ops if o.kind in INSERT_OPS and o.file == rel]
    if not mine:
        return text, []
    data = text.encode(errors="surrogateescape")
    spans = {name: (start, end) for start, end, name in cindex.function_spans(data)}
    lines = text.splitlines(keepends=True)
    at: dict[int, list[str]] = {}  # 0-based index of a line -> the lines that go before it
    missing = []
    for op in mine:
        start, end = spans.get(op.name, (0, -1))
        row = next((i for i in range(start - 1, end) if norm(lines[i]) == op.code), None)
        if row is None:
            missing.append(op)
            continue
        indent = lines[row][: len(lines[row]) - len(lines[row].lstrip())]
        new = f"{indent}{_line_of(op)}\n"
        target = row if op.kind == BEFORE else row + 1
        if new not in at.get(target, []):
            at.setdefault(target, []).append(new)
    for row in sorted(at, reverse=True):
        lines[row:row] = at[row]
    return "".join(lines), missing
