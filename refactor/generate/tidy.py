"""Tidying what spatch's pretty printer leaves, the way a person would before sending
the patch: blank lines doubled where code went, arguments aligned to a paren that moved,
guards spread over lines, the `#include` of a helper the patch starts to use; and the
unified diff of a file before and after.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping


def unified(rel: str, old: str, new: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{rel}", f"b/{rel}", n=3
    )
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(out)


def tidy(old: str, new: str) -> str:
    """What spatch's pretty printer leaves for a person to fix: blank lines doubled where
    code went, and arguments aligned to a paren that moved.  (A comment right above a
    statement the patch removes describes it, and spatch removes it too.)"""
    return realign(old, tidy_guards(old, tidy_blank_lines(old, tidy_whitespace(old, new))))


def tidy_whitespace(old: str, new: str) -> str:
    """A line the patch writes holds no trailing whitespace (spatch indents the blank line
    after statements it adds); the file's own lines stay as they are."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out: list[str] = []
    written: set[int] = set()  # indices in `out` of blank lines the patch wrote
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        for x in b[j1:j2]:
            if tag in ("replace", "insert"):
                x = x.rstrip() + "\n" if x.endswith("\n") else x.rstrip()
                if not x.strip():
                    written.add(len(out))
            out.append(x)
    # a blank line written next to another blank line doubles it
    keep: list[str] = []
    for i, x in enumerate(out):
        after = i + 1 < len(out) and not out[i + 1].strip() and i + 1 not in written
        if i in written and ((keep and not keep[-1].strip()) or after):
            continue
        keep.append(x)
    return "".join(keep)


_INCLUDE = re.compile(r"^#include <(\w+)/([\w./-]+)>")


def with_includes(old: str, new: str, headers: Mapping[str, re.Pattern[str]]) -> str:
    """Include what the patch now uses: the header (of `headers`: the families' headers,
    by the helpers each declares) of a helper the file did not use before goes into its
    `#include <drm/...>` block, in order (after the `<linux/...>` block when there is none)."""
    for header, uses in headers.items():
        line = f"#include <{header}>\n"
        if line in new or not uses.search(new) or uses.search(old):
            continue
        lines = new.splitlines(keepends=True)
        group = header.split("/")[0]
        block = [
            (i, m.group(2)) for i, x in enumerate(lines) if (m := _INCLUDE.match(x)) and m.group(1) == group
        ]
        if block:
            leaf = header.split("/", 1)[1]
            lines.insert(next((i for i, name in block if name > leaf), block[-1][0] + 1), line)
        else:
            linux = [i for i, x in enumerate(lines) if x.startswith("#include <")]
            if not linux:
                continue
            at = linux[-1] + 1
            # the file's own habit: a blank line between groups, or none
            lines[at:at] = ["\n", line] if at < len(lines) and not lines[at].strip() else [line]
        new = "".join(lines)
    return new


def _width(text: str) -> int:
    return len(text.expandtabs(8))


def _open_paren(line: str) -> int | None:
    """The display column of the last unclosed `(` of a line, None when all are closed."""
    stack: list[int] = []
    col = 0
    for ch in line:
        if ch == "(":
            stack.append(col)
        elif ch == ")" and stack:
            stack.pop()
        col = (col // 8 + 1) * 8 if ch == "\t" else col + 1
    return stack[-1] if stack else None


def _indent(width: int) -> str:
    return "\t" * (width // 8) + " " * (width % 8)


def realign(old: str, new: str) -> str:
    """Continuation lines aligned to the open paren of a line the patch changed (a renamed
    call) move with the paren, as checkpatch expects."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out = list(b)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "replace":
            continue
        for k in range(min(i2 - i1, j2 - j1)):
            was, now = _open_paren(a[i1 + k]), _open_paren(b[j1 + k])
            if was is None or now is None or was == now:
                continue
            j = j1 + k + 1
            while j < len(out) and j - j1 < (j2 - j1) + 8:
                body = out[j].lstrip(" \t")
                lead = out[j][: len(out[j]) - len(body)]
                if not body.strip() or _width(lead) != was + 1 or (j < j2 and j - j1 < j2 - j1):
                    break
                out[j] = _indent(now + 1) + body
                if body.rstrip().endswith((";", "{", ")")) and _open_paren(out[j]) is None:
                    break
                j += 1
    return "".join(out)


_GUARD = re.compile(r"^\s*if \(!drm_dev_enter\(.*\)\)( \{)?$")


_IF = re.compile(r"^\s*(} else )?if \(.*\)$")


def _comment_above(lines: list[str], i: int) -> int:
    """The first line of the comments right above line `i` (`i` when there are none): `//`
    lines and whole block comments, not code with a comment at its end."""
    j = i
    while j > 0:
        prev = lines[j - 1].strip()
        if prev.startswith("//"):
            j -= 1
        elif prev.endswith("*/"):
            k = j - 1
            while k >= 0 and "/*" not in lines[k]:
                k -= 1
            if k < 0 or not lines[k].strip().startswith("/*"):
                break
            j = k
        else:
            break
    return j


def _guard_size(lines: list[str], i: int) -> int:
    """The lines of the drm_dev_enter() check at `i`: the check and its return, or a braced
    failure path (which delivers the pending event) down to its closing brace."""
    head = lines[i].rstrip("\n")
    if not head.endswith("{"):
        return 2
    indent = head[: len(head) - len(head.lstrip())]
    for k in range(i + 1, len(lines)):
        if lines[k].rstrip("\n") == indent + "}":
            return k - i + 1
    return 2


_SPAN = re.compile(r"^(\s*)if \(drm_dev_enter\(.*\)\) \{$")


def _reindent_spans(old: str, new: str) -> str:
    """The statements a guard block wraps, as they were plus one tab: spatch re-indents
    them itself but leaves the comments between them (and braces after a comment) where
    they were."""
    before = old.splitlines(keepends=True)
    lines = new.splitlines(keepends=True)
    keys = [x.strip() for x in before]
    for i, line in enumerate(lines):
        m = _SPAN.match(line.rstrip("\n"))
        if not m or line in before:
            continue
        end = next((k for k in range(i + 1, len(lines)) if lines[k].rstrip("\n") == m.group(1) + "}"), None)
        if end is None or end - 2 <= i or not lines[end - 1].strip().startswith("drm_dev_exit("):
            continue
        inner = [x.strip() for x in lines[i + 1 : end - 1]]
        at = next((k for k in range(len(keys)) if keys[k : k + len(inner)] == inner), None)
        if at is not None:
            lines[i + 1 : end - 1] = [("\t" + x if x.strip() else x) for x in before[at : at + len(inner)]]
    return "".join(lines)


def tidy_guards(old: str, new: str) -> str:
    """Where spatch puts an added drm_dev_enter() check (its return, or its braced failure
    path), as checkpatch and a reader want it: above the comment of the statement it
    precedes (not between them), after a blank line that ends the declarations and before
    one that sets it off from the statements it guards; and an
    `if` arm left unbraced when its `else` was braced
    (to hold drm_dev_exit()) gets braces too."""
    if "drm_dev_enter(" not in new:
        return new
    new = _reindent_spans(old, new)
    before = set(old.splitlines())
    lines = new.splitlines(keepends=True)
    i = 0
    while i + 1 < len(lines):
        if _GUARD.match(lines[i].rstrip("\n")) and lines[i].rstrip("\n") not in before:
            size = _guard_size(lines, i)
            guard = lines[i : i + size]
            j = _comment_above(lines, i)
            if j < i:
                lines[j : i + size] = guard + lines[j:i]
                i = j
            if i > 0 and lines[i - 1].strip().endswith(";"):
                lines.insert(i, "\n")
                i += 1
            i += size
            if i < len(lines) and lines[i].strip() and lines[i].strip() != "}":
                lines.insert(i, "\n")  # the guard stands apart from what it guards (vc4, bochs)
                i += 1
            continue
        i += 1
    for k in range(2, len(lines)):
        arm, stmt, cond = lines[k].rstrip("\n"), lines[k - 1], lines[k - 2].rstrip("\n")
        if (arm.strip() == "else {" and arm not in before and stmt.strip().endswith(";")
                and _IF.match(cond) and not cond.endswith("{")):  # fmt: skip
            indent = arm[: len(arm) - len(arm.lstrip())]
            lines[k - 2] = cond + " {\n"
            lines[k] = f"{indent}}} else {{\n"
    return "".join(lines)


def tidy_blank_lines(old: str, new: str) -> str:
    """Where the patch removed code (a function, a statement), spatch can leave a blank
    line in its place, and the blank lines that framed it now meet: keep one; a label whose
    statements went (an error label that only cleaned up) is not followed by a blank."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    out: list[str] = []
    cuts: list[int] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        chunk = b[j1:j2]
        if (
            tag in ("replace", "delete")
            and any(x.strip() for x in a[i1:i2])
            and all(not x.strip() for x in chunk)
        ):
            cuts.append(len(out))
            continue
        out.extend(chunk)
    for k in reversed(cuts):
        if k < len(out) and not out[k].strip() and (k == 0 or not out[k - 1].strip()
                                                    or _LABEL.match(out[k - 1])):  # fmt: skip
            del out[k]  # two blank lines, or a label left over a blank line
    return "".join(out)


_LABEL = re.compile(r"^\w+:\s*$")
