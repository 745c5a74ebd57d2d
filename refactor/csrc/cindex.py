"""Fast structural index of C files with tree-sitter-c: calls, definitions, macros.

This is not a compiler: the preprocessor is not run, so macros stay as written.  It is
used where a quick, tolerant parse of many files beats running spatch: finding where the
drm device is allocated, which functions wrap the allocation, and which helpers a tree
declares.  Errors in the parse (unknown macros, attributes) are local: tree-sitter keeps
the rest of the file.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import tree_sitter
import tree_sitter_c

_LANGUAGE = tree_sitter.Language(tree_sitter_c.language())
_local = threading.local()


def _parser() -> tree_sitter.Parser:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = tree_sitter.Parser(_LANGUAGE)
    return parser


@dataclass(frozen=True)
class Call:
    """A call of a named function or function-like macro."""

    name: str
    line: int  # 1-based
    function: str  # the enclosing function definition, "" at file scope
    args: tuple[str, ...]  # argument texts, whitespace-normalised
    assigned_to: str  # left side when the call's value is assigned or initialises a variable


@dataclass(frozen=True)
class Definition:
    """A function definition, prototype or `#define` in a file."""

    name: str
    kind: str  # "function", "inline", "prototype", "macro"
    line: int
    body: str  # text of the body (function) or replacement list (macro); "" for prototypes


def _text(src: bytes, node: tree_sitter.Node) -> str:
    return " ".join(src[node.start_byte : node.end_byte].decode(errors="replace").split())


def walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    cursor = node.walk()
    visited = False
    while True:
        if not visited:
            yield cursor.node  # type: ignore[misc]
            if cursor.goto_first_child():
                continue
        if cursor.goto_next_sibling():
            visited = False
            continue
        if not cursor.goto_parent():
            return
        visited = True


def _declarator_name(node: tree_sitter.Node | None, src: bytes) -> str:
    """The identifier a (possibly nested pointer/function) declarator declares."""
    while node is not None:
        if node.type in ("identifier", "field_identifier"):
            return _text(src, node)
        inner = node.child_by_field_name("declarator")
        if inner is None:
            ident = next((c for c in node.children if c.type == "identifier"), None)
            return _text(src, ident) if ident is not None else ""
        node = inner
    return ""


def _enclosing_function(node: tree_sitter.Node, src: bytes) -> str:
    cur = node.parent
    while cur is not None:
        if cur.type == "function_definition":
            return _declarator_name(cur.child_by_field_name("declarator"), src)
        cur = cur.parent
    return ""


def _arguments(node: tree_sitter.Node, src: bytes) -> tuple[str, ...]:
    """Split an argument list on its top-level commas, keeping text the grammar could not
    parse (`struct foo` given to a macro becomes an ERROR node, but its text is kept)."""
    args_node = node.child_by_field_name("arguments")
    if args_node is None:
        return ()
    args: list[str] = []
    cur: list[str] = []
    for child in args_node.children:
        if child.type in ("(", ")"):
            continue
        if child.type == ",":
            args.append(" ".join(cur))
            cur = []
        else:
            cur.append(_text(src, child))
    if cur or args:
        args.append(" ".join(cur))
    return tuple(a.strip() for a in args)


def _assigned_to(node: tree_sitter.Node, src: bytes) -> str:
    cur = node.parent
    while cur is not None and cur.type in ("cast_expression", "parenthesized_expression"):
        cur = cur.parent
    if cur is None:
        return ""
    if cur.type == "assignment_expression":
        left = cur.child_by_field_name("left")
        return _text(src, left) if left is not None else ""
    if cur.type == "init_declarator":
        return _declarator_name(cur.child_by_field_name("declarator"), src)
    return ""


# the texts parsed lately by a thread, up to this many bytes of source: callers ask again
# for the same file (a tree takes tens of times its source's memory, so only a few files
# are kept).  Per thread: a tree-sitter tree is not to be read by two threads at once.
_PARSED_BYTES = 4 << 20


def parse(source: bytes) -> tree_sitter.Tree:
    """The tree of `source`, memoised by contents for the last few texts this thread asked
    for (the trees are only read, never edited, so one tree can serve every caller)."""
    memo: OrderedDict[bytes, tree_sitter.Tree] | None = getattr(_local, "parsed", None)
    if memo is None:
        memo = _local.parsed = OrderedDict()
        _local.parsed_size = 0
    tree = memo.get(source)
    if tree is not None:
        memo.move_to_end(source)
        return tree
    tree = _parser().parse(source)
    if len(source) <= _PARSED_BYTES:
        memo[source] = tree
        _local.parsed_size += len(source)
        while _local.parsed_size > _PARSED_BYTES:
            _local.parsed_size -= len(memo.popitem(last=False)[0])
    return tree


def calls(source: bytes, names: Iterable[str], tree: tree_sitter.Tree | None = None) -> list[Call]:
    """Every call in `source` of one of `names` (`tree`: the source parsed already)."""
    wanted = set(names)
    if not any(n.encode() in source for n in wanted):
        return []
    out = []
    for node in walk((tree or parse(source)).root_node):
        if node.type != "call_expression":
            continue
        fn = node.child_by_field_name("function")
        if fn is None or fn.type != "identifier":
            continue
        name = _text(source, fn)
        if name in wanted:
            out.append(
                Call(
                    name=name,
                    line=node.start_point[0] + 1,
                    function=_enclosing_function(node, source),
                    args=_arguments(node, source),
                    assigned_to=_assigned_to(node, source),
                )
            )
    return out


def definitions(source: bytes, tree: tree_sitter.Tree | None = None) -> list[Definition]:
    """Function definitions, prototypes and macros at file scope (and inside #if blocks);
    `tree`: `source` parsed already."""
    out = []
    for node in walk((tree or parse(source)).root_node):
        t = node.type
        if t == "function_definition":
            name = _declarator_name(node.child_by_field_name("declarator"), source)
            body = node.child_by_field_name("body")
            head = source[node.start_byte : body.start_byte if body else node.end_byte]
            kind = "inline" if b"inline" in head else "function"
            out.append(Definition(name, kind, node.start_point[0] + 1, _text(source, body) if body else ""))
        elif t == "declaration":
            decl = node.child_by_field_name("declarator")
            while decl is not None and decl.type in ("pointer_declarator", "init_declarator"):
                decl = decl.child_by_field_name("declarator")
            if decl is not None and decl.type == "function_declarator":
                name = _declarator_name(decl, source)
                if name:
                    out.append(Definition(name, "prototype", node.start_point[0] + 1, ""))
        elif t in ("preproc_function_def", "preproc_def"):
            name_node = node.child_by_field_name("name")
            value = node.child_by_field_name("value")
            if name_node is not None:
                out.append(
                    Definition(
                        _text(source, name_node),
                        "macro",
                        node.start_point[0] + 1,
                        _text(source, value) if value is not None else "",
                    )
                )
    return out


def may_name(name: str, data: bytes) -> bool:
    """False when a pattern made of the identifier `name` cannot match `data`: its bytes are
    not there (so the file need not be decoded and searched); True for any other `name`."""
    return name.encode() in data or not re.fullmatch(r"\w+", name)


def identifiers_in(text: str) -> set[str]:
    """Identifiers in a fragment of C (a macro body or function body text)."""
    out, cur = set(), []
    for c in text + " ":
        if c.isalnum() or c == "_":
            cur.append(c)
        else:
            if cur and not cur[0].isdigit():
                out.add("".join(cur))
            cur = []
    return out


def function_node_at(root: tree_sitter.Node, line: int) -> tree_sitter.Node | None:
    """The first function definition (in file order, outermost first) whose lines hold
    `line`.  Only the nodes whose lines hold it are visited: a child lies within its
    parent, so no other subtree can hold such a definition."""
    row = line - 1
    stack = [root] if root.start_point[0] <= row <= root.end_point[0] else []
    while stack:
        node = stack.pop()
        if node.type == "function_definition":
            return node
        stack.extend(reversed([c for c in node.children if c.start_point[0] <= row <= c.end_point[0]]))
    return None


def declared_type(source: bytes, line: int, name: str) -> str:
    """The type a local variable or parameter `name` is declared with, in the function
    containing `line` (pointer stars dropped: `struct foo *p` gives `struct foo`)."""
    func = function_node_at(parse(source).root_node, line)
    if func is None:
        return ""
    for node in walk(func):
        if node.type not in ("declaration", "parameter_declaration"):
            continue
        type_node = node.child_by_field_name("type")
        if type_node is None:
            continue
        for decl in node.children_by_field_name("declarator"):
            if _declarator_name(decl, source) == name:
                return _text(source, type_node)
    return ""


def called_in(source: bytes, function: str) -> set[str] | None:
    """Names called in the body of the function `function` defined in `source` (None when
    the file does not define it)."""
    if function.encode() not in source:
        return None
    for node in walk(parse(source).root_node):
        if (
            node.type == "function_definition"
            and _declarator_name(node.child_by_field_name("declarator"), source) == function
        ):
            names = set()
            for n in walk(node):
                fn = n.child_by_field_name("function") if n.type == "call_expression" else None
                if fn is not None and fn.type == "identifier":
                    names.add(_text(source, fn))
            return names
    return None


def called_by_function(source: bytes, tree: tree_sitter.Tree | None = None) -> dict[str, set[str]]:
    """For every function `source` defines, the names it calls (as `called_in`, for all
    functions in one walk)."""
    out: dict[str, set[str]] = {}
    for node in walk((tree or parse(source)).root_node):
        if node.type != "function_definition":
            continue
        name = _declarator_name(node.child_by_field_name("declarator"), source)
        names = set()
        for n in walk(node):
            fn = n.child_by_field_name("function") if n.type == "call_expression" else None
            if fn is not None and fn.type == "identifier":
                names.add(_text(source, fn))
        out.setdefault(name, names)
    return out


def function_spans(source: bytes, tree: tree_sitter.Tree | None = None) -> list[tuple[int, int, str]]:
    """(first line, last line, name) of every function definition, 1-based: parse a file
    once (or pass its tree), then look up many lines with `function_at`."""
    spans = []
    for n in walk((tree or parse(source)).root_node):
        if n.type == "function_definition":
            name = _declarator_name(n.child_by_field_name("declarator"), source)
            spans.append((n.start_point[0] + 1, n.end_point[0] + 1, name))
    return spans


def top_nodes(root: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    """Top-level items in file order (functions, declarations, initialised tables), looking
    inside #if/#ifdef blocks and extern "C"-like wrappers."""
    nested = ("preproc_else", "preproc_elif", "linkage_specification", "declaration_list")
    stack = list(reversed(root.children))
    while stack:
        node = stack.pop()
        if node.type.startswith("preproc_if") or node.type in nested:
            stack.extend(reversed(node.children))
        else:
            yield node


def toplevel_spans(source: bytes, tree: tree_sitter.Tree | None = None) -> list[tuple[int, int]]:
    """(first line, last line), 1-based, of every top-level item (`tree`: `source` parsed)."""
    root = (tree or parse(source)).root_node
    return sorted((n.start_point[0] + 1, n.end_point[0] + 1) for n in top_nodes(root))


def function_at(spans: list[tuple[int, int, str]], line: int) -> str:
    """The name of the function containing `line`, "" at file scope."""
    return next((name for first, last, name in spans if first <= line <= last), "")
