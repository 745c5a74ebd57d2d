"""What the patch planner needs to know about one C function, from tree-sitter.

Where a variable is first given a value, which expression names the drm_device at a
line, and how a new failing call at a line must leave the function (the exit the
following error check already uses).  Answers are conservative: None means "not sure",
and the planner then makes no patch and says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tree_sitter

from refactor.csrc import cindex
from refactor.csrc.structs import CType, StructIndex, _declarator, type_name

ERROR_VARS = ("ret", "err", "error", "rc", "r", "retval")
MODE_OBJECT_PARAMS = ("struct drm_crtc", "struct drm_plane", "struct drm_encoder", "struct drm_connector")
_LOGGING = re.compile(r"^(\w+_)?(err|error|warn|warning|dbg|debug|info|notice|printk?)(_\w+)?\(", re.I)
# Set-up that cannot fail and acquires nothing to undo: skipped when looking for the error
# check that follows a new call.
# Calls that leave nothing to undo: managed allocations, lookups, error-pointer helpers.
_SAFE_CALL = re.compile(
    r"^(devm_|drmm_|pcim_|of_|to_|platform_get_|dev_get_|device_get_|fwnode_|dev_name$|"
    r"container_of$|IS_ERR|PTR_ERR$|ERR_PTR$|ERR_CAST$|WARN|BUG_ON$|ARRAY_SIZE$|min|max|clamp|BIT|"
    r"GENMASK|FIELD_|READ_ONCE$|WRITE_ONCE$|\w+_get_drvdata$|\w+_set_drvdata$|strcmp$|strncmp$|"
    r"memcpy$|sizeof$|offsetof$|\w+_to_\w+$|dma_fence_context_alloc$)"
)
# a call that undoes a set-up, as the hand-unwinding error checks make them
_TEARDOWN_CALL = re.compile(
    r"^\w+_(cleanup|fini|takedown|destroy|uninit|release|unregister|free|put|"
    r"disable|disable_unprepare|del|remove|exit)\([^;]*\);$|^k[v]?free\([^;]*\);$"
)
# a call whose resources are released by devres or drmm (nothing to undo by hand)
_MANAGED_CALL = re.compile(r"^(devm_|drmm_|pcim_)\w+$")
_INFALLIBLE = re.compile(
    r"^(mutex_init|spin_lock_init|raw_spin_lock_init|rwlock_init|init_rwsem|seqlock_init|"
    r"INIT_LIST_HEAD|INIT_HLIST_HEAD|INIT_WORK|INIT_DELAYED_WORK|INIT_KFIFO|init_waitqueue_head|"
    r"init_completion|atomic_set|atomic64_set|atomic_long_set|refcount_set|hash_init|xa_init|"
    r"xa_init_flags|idr_init|idr_init_base|ida_init|init_llist_head|lockdep_set_class\w*|"
    r"timer_setup|drm_mm_init|kref_init|bitmap_zero|memset)\("
)


def _text(src: bytes, node: tree_sitter.Node | None) -> str:
    return "" if node is None else src[node.start_byte : node.end_byte].decode(errors="replace")


def _called_names(src: bytes, root: tree_sitter.Node) -> set[str]:
    out = set()
    for n in cindex.walk(root):
        if n.type == "call_expression":
            fn = n.child_by_field_name("function")
            if fn is not None and fn.type == "identifier":
                out.add(_text(src, fn))
    return out


def _line(node: tree_sitter.Node) -> int:
    return node.start_point[0] + 1


@dataclass(frozen=True)
class Variable:
    name: str
    type: CType
    param: bool
    line: int  # of the declaration
    set_at: tuple[int, ...]  # lines where it gets a value (initialiser or assignment)


class Function:
    """One function definition of a parsed file."""

    def __init__(self, src: bytes, node: tree_sitter.Node) -> None:
        self.src = src
        self.node = node
        decl = node.child_by_field_name("declarator")
        self.name = cindex._declarator_name(decl, src)
        rtype = type_name(src, node.child_by_field_name("type"))
        pointer = decl is not None and decl.type == "pointer_declarator"
        self.returns = "pointer" if pointer else ("void" if rtype == "void" else rtype)
        self.body = node.child_by_field_name("body")
        self.variables: dict[str, Variable] = {}
        self._collect()

    @classmethod
    def at(cls, src: bytes, tree: tree_sitter.Tree, line: int) -> Function | None:
        node = cindex.function_node_at(tree.root_node, line)
        return cls(src, node) if node is not None else None

    def _collect(self) -> None:
        sets: dict[str, list[int]] = {}
        for node in cindex.walk(self.node):
            if node.type == "assignment_expression":
                left = node.child_by_field_name("left")
                sets.setdefault(" ".join(_text(self.src, left).split()), []).append(_line(node))
        for node in cindex.walk(self.node):
            if node.type not in ("declaration", "parameter_declaration"):
                continue
            base = type_name(self.src, node.child_by_field_name("type"))
            for d in node.children_by_field_name("declarator"):
                target = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
                name, pointer, array, function = _declarator(self.src, target)
                if not name or function or name in self.variables:
                    continue
                param = node.type == "parameter_declaration"
                lines = list(sets.get(name, []))
                if d.type == "init_declarator" or param:
                    lines.insert(0, _line(node))
                self.variables[name] = Variable(name, CType(base, pointer + int(array)), param, _line(node),
                                                tuple(lines))  # fmt: skip

    def set_before(self, expr: str, line: int) -> bool:
        """Whether `expr` (a variable or member) is given a value on a line before `line`."""
        v = self.variables.get(expr)
        if v is not None:
            return any(x < line for x in v.set_at)
        return any(_line(n) < line for n in cindex.walk(self.node) if n.type == "assignment_expression"
                   and " ".join(_text(self.src, n.child_by_field_name("left")).split()) == expr)  # fmt: skip

    # -- the drm_device in scope --------------------------------------------------------
    def drm_at(self, line: int, index: StructIndex, avoid: str = "") -> str:
        """An expression naming a valid drm_device at `line`, "" when there is none."""
        ranked: list[tuple[int, str]] = []
        for v in self.variables.values():
            if v.name == avoid or not (v.param or any(x < line for x in v.set_at)):
                continue
            t = CType(index.canonical(v.type.name), v.type.pointer)
            if t == CType("struct drm_device", 1):
                ranked.append((0 if v.param else 1, v.name))
                continue
            if t.pointer == 1 and t.name in MODE_OBJECT_PARAMS and v.param:
                ranked.append((4, f"{v.name}->dev"))
                continue
            s = index.get(t.name) if t.pointer == 1 else None
            for f in s.fields if s else ():
                if f.type != "struct drm_device" or f.function:
                    continue
                if f.pointer == 0:
                    ranked.append((2, f"&{v.name}->{f.name}"))
                elif f.pointer == 1 and self._valid_member(v, f"{v.name}->{f.name}", line):
                    ranked.append((3, f"{v.name}->{f.name}"))
        if not ranked and self._component_bind():
            ranked.append((5, "data"))
        return min(ranked)[1] if ranked else ""

    def _valid_member(self, v: Variable, member: str, line: int) -> bool:
        """A pointer member is valid at `line` when this function sets it before, or when
        the function uses it (`x->drm->dev`, an init call) and never sets it: then it was set
        before the function was called."""
        if self.set_before(member, line):
            return True
        body = " ".join(_text(self.src, self.node).split()).replace(" ->", "->").replace("-> ", "->")
        return v.param and member in body and not self.set_before(member, 1 << 30)

    def _component_bind(self) -> bool:
        """`int bind(struct device *dev, struct device *master, void *data)`: a component's
        bind, whose `data` is the drm_device of the aggregate driver."""
        params = [v for v in self.variables.values() if v.param]
        shape = [(p.type.name, p.type.pointer) for p in params]
        return len(params) == 3 and shape[:2] == [("struct device", 1)] * 2 and params[2].name == "data"

    def creates_drm_after(self, line: int) -> bool:
        """Whether the function allocates the drm_device after `line`."""
        pattern = re.compile(rb"\b(devm_drm_dev_alloc|drm_dev_alloc|__devm_drm_dev_alloc)\s*\(")
        for node in cindex.walk(self.node):
            if (
                node.type == "call_expression"
                and _line(node) > line
                and pattern.match(self.src[node.start_byte : node.end_byte])
            ):
                return True
        return False

    # -- statements ---------------------------------------------------------------------
    def statement_at(self, line: int) -> tree_sitter.Node | None:
        """The statement of a block that starts on `line` (the outermost one)."""
        for node in cindex.walk(self.node):
            parent = node.parent
            if (
                parent is not None
                and parent.type in ("compound_statement", "labeled_statement")
                and _line(node) == line
                and node.is_named
                and node.type not in ("comment", "statement_identifier")
            ):
                return node
        return None

    def error_var(self) -> str:
        """The int variable the function keeps error codes in, "" when it has none."""
        for name in ERROR_VARS:
            v = self.variables.get(name)
            if v is not None and not v.param and v.type.pointer == 0 and v.type.name in ("int", "long"):
                return name
        return ""

    def error_exit(self, line: int, var: str) -> str | None:
        """How a call added at `line` whose error is in `var` must leave the function: the
        exit of the error check that follows the next statement (it unwinds exactly what was
        set up before that statement), or a plain return when the function unwinds nothing
        by hand.  None when that is not clear."""
        stmt = self.statement_at(line)
        if stmt is None or stmt.parent is None or self.returns not in ("int", "pointer"):
            return None
        siblings = [c for c in stmt.parent.children if c.is_named and c.type != "comment"]
        after = siblings[siblings.index(stmt) + 1 :]
        while after and self._infallible(after[0]):
            after = after[1:]
        for i, node in enumerate(after[:2]):
            if node.type == "if_statement":
                exit_ = self._exit_of(node, var)
                if exit_ is not None:
                    return exit_
            if i == 0 and node.type == "return_statement":
                break
        exit_ = self._past_calls(after, var)
        if exit_ is not None:
            return exit_
        exit_ = self._previous_exit(stmt, var)
        if exit_ is not None:
            return exit_
        # nothing set up before `line` to leak: a plain return is right even where later
        # error paths unwind what comes after
        if not self.sets_up_before(line):
            return f"return {var};" if self.returns == "int" else f"return ERR_PTR({var});"
        return None

    def _past_calls(self, after: list[tree_sitter.Node], var: str) -> str | None:
        """The exit of the check after up to three unchecked calls (qxl_io_reset(): a call
        whose result nobody checks cannot fail), when none of them has a teardown of its
        kind in the function (`drm_kms_helper_poll_init()` and a `..._poll_fini()`: the
        check's label would undo what the new exit comes before)."""
        torn = {n for n in _called_names(self.src, self.node) if _TEARDOWN_CALL.match(n + "();")}
        skipped = 0
        while after and skipped < 3 and (self._infallible(after[0]) or self._bare_call(after[0])):
            name = self._bare_call(after[0])
            stem = name.rsplit("_", 1)[0] if "_" in name else name
            if name and any(t.startswith(stem + "_") for t in torn):
                return None
            skipped += bool(name)
            after = after[1:]
        if not skipped:
            return None
        for node in after[:2]:
            if node.type == "if_statement":
                return self._exit_of(node, var)
            if node.type != "expression_statement":
                return None
        return None

    def _bare_call(self, node: tree_sitter.Node) -> str:
        """The name of the call a statement of its own makes (`f(x);`), "" otherwise."""
        expr = node.named_children[0] if node.type == "expression_statement" and node.named_children else None
        if expr is None or expr.type != "call_expression":
            return ""
        fn = expr.child_by_field_name("function")
        return _text(self.src, fn) if fn is not None and fn.type == "identifier" else ""

    def sets_up_before(self, line: int) -> bool:
        """Whether a call before `line` may have set up something that a new early return
        would leak (only managed, logging, lookup and infallible calls are known safe)."""
        for node in cindex.walk(self.node):
            if node.type != "call_expression" or _line(node) >= line:
                continue
            fn = node.child_by_field_name("function")
            name = _text(self.src, fn) if fn is not None else ""
            if not (_SAFE_CALL.match(name) or _LOGGING.match(name + "(") or _INFALLIBLE.match(name + "(")):
                return True
        return False

    def _infallible(self, node: tree_sitter.Node) -> bool:
        """A statement that cannot fail and sets up nothing to undo: a known init call, or
        an assignment with no call in it."""
        if node.type != "expression_statement":
            return False
        text = " ".join(_text(self.src, node).split())
        if _INFALLIBLE.match(text):
            return True
        expr = node.named_children[0] if node.named_children else None
        return (expr is not None and expr.type == "assignment_expression"
                and not any(n.type == "call_expression" for n in cindex.walk(expr)))  # fmt: skip

    def _exit_of(self, if_node: tree_sitter.Node, var: str) -> str | None:
        """The exit of an error check that a new call's check can copy: its goto or return,
        with the teardown calls it makes by hand first (v3d_gem_init's `{ drm_mm_takedown();
        return -ENOMEM; }`: they undo what was set up before the checked statement), but
        without its own messages and error codes."""
        body = if_node.child_by_field_name("consequence")
        if body is None or if_node.child_by_field_name("alternative") is not None:
            return None
        stmts = [c for c in body.children if c.is_named and c.type != "comment"] if (
            body.type == "compound_statement") else [body]  # fmt: skip
        if not stmts:
            return None
        *before, last = stmts
        undo = []
        for s in before:  # logging, setting the error code that the exit returns, or undoing
            text = " ".join(_text(self.src, s).split())
            if s.type != "expression_statement":
                return None
            if _TEARDOWN_CALL.match(text):
                undo.append(text)
            elif not (_LOGGING.match(text) or text.startswith(f"{var} =")):
                return None
        if last.type == "goto_statement":
            label = last.child_by_field_name("label")
            exit_ = f"goto {_text(self.src, label)};"
        elif last.type == "return_statement":
            exit_ = f"return {var};" if self.returns == "int" else f"return ERR_PTR({var});"
        else:
            return None
        return "{ " + " ".join([*undo, exit_]) + " }" if undo else exit_

    def _previous_exit(self, stmt: tree_sitter.Node, var: str) -> str | None:
        """The exit of the error check just before `stmt` when the statement it checks is a
        managed call (devm_, drmm_: nothing of its own to undo by hand) and everything
        from there to `stmt` is infallible: the same unwinding is right after it."""
        siblings = [c for c in stmt.parent.children if c.is_named and c.type != "comment"]  # type: ignore[union-attr]
        before = siblings[: siblings.index(stmt)]
        while before and self._infallible(before[-1]):
            before = before[:-1]
        if len(before) < 2 or before[-1].type != "if_statement":
            return None
        checked = " ".join(_text(self.src, before[-2]).split())
        m = re.match(r"^(?:([\w>.\-\[\]\s]+?)\s*=\s*)?(\w+)\(", checked)
        if before[-2].type != "expression_statement" or not m or not _MANAGED_CALL.match(m.group(2)):
            return None
        cond = before[-1].child_by_field_name("condition")
        if not m.group(1) or m.group(1).replace(" ", "") not in _text(self.src, cond).replace(" ", ""):
            return None  # not the check of that call's result
        return self._exit_of(before[-1], var)
