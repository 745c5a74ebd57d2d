"""Struct definitions and expression types, from tree-sitter-c.

The rules need to know what a piece of memory *is*: `devm_kzalloc(dev, sizeof(*c), ...)`
is a bug when `c` points to a struct that embeds a `drm_crtc`, and harmless when it points
to a struct of clock and register pointers.  spatch sees one file at a time and, without
parsing every header, does not know the fields of structs defined elsewhere.  This module
indexes the struct definitions of a module's files and headers and of `include/drm/`, and
resolves the type of expressions such as `*priv->planes` or `to_foo_crtc(crtc)` inside a
function, so the sweep can classify what spatch matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import tree_sitter

from refactor.csrc import cindex

_CONTAINER_OF = re.compile(r"container_of(?:_const)?\s*\(.*?,\s*((?:struct|union)\s+\w+)\s*,")


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # "struct drm_crtc", "u32", "void", ...
    pointer: int = 0  # levels of indirection
    array: bool = False
    iomem: bool = False
    function: bool = False  # a function pointer


@dataclass(frozen=True)
class StructDef:
    name: str  # "struct foo" (or a typedef name for anonymous typedef'd structs)
    file: str
    line: int
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class CType:
    """The type of an expression as far as the index can tell."""

    name: str  # "struct foo", "int", ... ("" when unknown)
    pointer: int = 0

    @property
    def known(self) -> bool:
        return bool(self.name)


UNKNOWN = CType("")


@dataclass(frozen=True)
class FileDecls:
    """What one file declares: structs, typedefs, and what its functions and macros return."""

    structs: tuple[StructDef, ...]
    typedefs: tuple[tuple[str, str], ...]  # (alias, type)
    returns: tuple[tuple[str, CType], ...]  # function or container_of macro -> its type
    globals: tuple[tuple[str, CType], ...]


def _text(src: bytes, node: tree_sitter.Node | None) -> str:
    return (
        ""
        if node is None
        else " ".join(src[node.start_byte : node.end_byte].decode(errors="replace").split())
    )


def type_name(src: bytes, node: tree_sitter.Node | None) -> str:
    """`struct foo`, `u32`, `unsigned int`: the name of a type node, qualifiers dropped."""
    if node is None:
        return ""
    if node.type in ("struct_specifier", "union_specifier", "enum_specifier"):
        name = node.child_by_field_name("name")
        kind = node.type.split("_")[0]
        return f"{kind} {_text(src, name)}" if name is not None else ""
    return _text(src, node)


def _declarator(src: bytes, node: tree_sitter.Node | None) -> tuple[str, int, bool, bool]:
    """(name, pointer depth, is array, is function pointer) of a declarator."""
    pointer, array, function = 0, False, False
    while node is not None:
        t = node.type
        if t in ("identifier", "field_identifier", "type_identifier"):
            return _text(src, node), pointer, array, function
        if t == "pointer_declarator":
            pointer += 1
        elif t == "array_declarator":
            array = True
        elif t == "function_declarator":
            function = True
        inner = node.child_by_field_name("declarator")
        if inner is None:
            inner = next((c for c in node.children if c.is_named and c.type != "parameter_list"), None)
        node = inner
    return "", pointer, array, function


def _fields(src: bytes, body: tree_sitter.Node, file: str, out: list[StructDef], prefix: str) -> list[Field]:
    fields: list[Field] = []
    for decl in body.children:
        if decl.type != "field_declaration":
            continue
        tnode = decl.child_by_field_name("type")
        declarators = decl.children_by_field_name("declarator")
        iomem = b"__iomem" in src[decl.start_byte : decl.end_byte]
        inner = tnode.child_by_field_name("body") if tnode is not None else None
        if inner is not None and tnode is not None and tnode.child_by_field_name("name") is None:
            if not declarators:  # anonymous struct/union member: its fields are the parent's
                fields.extend(_fields(src, inner, file, out, prefix))
                continue
            # `union { ... } u;`: a nested type named after where it is
            # (`prefix` already names its kind: "struct intel_gsc_uc", not "struct struct ...")
            nested = f"{tnode.type.split('_')[0]} {prefix.split(' ', 1)[-1]}.{decl.start_point[0] + 1}"
            out.append(
                StructDef(
                    nested, file, decl.start_point[0] + 1, tuple(_fields(src, inner, file, out, nested))
                )
            )
            tname = nested
        else:
            if inner is not None and tnode is not None:
                _struct(src, tnode, file, out)
            tname = type_name(src, tnode)
        for d in declarators:
            name, pointer, array, function = _declarator(src, d)
            if name:
                fields.append(Field(name, tname, pointer, array, iomem and pointer > 0, function))
    return fields


def _struct(src: bytes, node: tree_sitter.Node, file: str, out: list[StructDef], alias: str = "") -> str:
    body = node.child_by_field_name("body")
    name = type_name(src, node) or alias
    if body is None or not name:
        return name
    out.append(StructDef(name, file, node.start_point[0] + 1, tuple(_fields(src, body, file, out, name))))
    return name


def declarations(source: bytes, file: str, tree: tree_sitter.Tree | None = None) -> FileDecls:
    """The struct definitions, typedefs, function return types and globals of one file
    (`tree`: `source` parsed already)."""
    root = (tree or cindex.parse(source)).root_node
    structs: list[StructDef] = []
    typedefs: list[tuple[str, str]] = []
    returns: list[tuple[str, CType]] = []
    globals_: list[tuple[str, CType]] = []
    for node in cindex.top_nodes(root):
        t = node.type
        tnode = node.child_by_field_name("type")
        if t == "struct_specifier" or t == "union_specifier":
            _struct(source, node, file, structs)
        elif t == "type_definition" and tnode is not None:
            alias, pointer, _, _ = _declarator(source, node.child_by_field_name("declarator"))
            target = tnode
            if target.type in ("struct_specifier", "union_specifier"):
                name = _struct(source, target, file, structs, alias=alias)
            else:
                name = type_name(source, target)
            if alias and name and not pointer:
                typedefs.append((alias, name))
        elif t in ("declaration", "function_definition") and tnode is not None:
            if tnode.type in ("struct_specifier", "union_specifier") and tnode.child_by_field_name("body"):
                _struct(source, tnode, file, structs)
            base = type_name(source, tnode)
            for d in node.children_by_field_name("declarator"):
                name, pointer, array, function = _declarator(source, d)
                if not name:
                    continue
                if function:
                    returns.append((name, CType(base, pointer)))
                else:
                    globals_.append((name, CType(base, pointer + int(array))))
        elif t == "preproc_function_def":
            name = _text(source, node.child_by_field_name("name"))
            m = _CONTAINER_OF.search(_text(source, node.child_by_field_name("value")))
            if name and m:
                returns.append((name, CType(" ".join(m.group(1).split()), 1)))
    return FileDecls(tuple(structs), tuple(typedefs), tuple(returns), tuple(globals_))


@dataclass
class StructIndex:
    """Struct definitions in scope for one module: its own first, then the DRM core's."""

    structs: dict[str, StructDef] = field(default_factory=dict)
    typedefs: dict[str, str] = field(default_factory=dict)
    returns: dict[str, CType] = field(default_factory=dict)
    globals: dict[str, dict[str, CType]] = field(default_factory=dict)  # per file

    def add(self, decls: FileDecls, file: str, override: bool = True) -> None:
        for s in decls.structs:
            if override or s.name not in self.structs:
                self.structs[s.name] = s
        for alias, target in decls.typedefs:
            if override or alias not in self.typedefs:
                self.typedefs[alias] = target
        for name, ctype in decls.returns:
            if override or name not in self.returns:
                self.returns[name] = ctype
        self.globals[file] = dict(decls.globals)

    def canonical(self, name: str) -> str:
        name = " ".join(name.replace("const ", "").replace("volatile ", "").split())
        for _ in range(4):
            if name in self.typedefs:
                name = self.typedefs[name]
        return name

    def get(self, name: str) -> StructDef | None:
        return self.structs.get(self.canonical(name))

    def display(self, name: str) -> str:
        """A struct's name as a message gives it: a nested unnamed type (`union { ... } u;`,
        kept under an internal name with its line) is "the u member of struct parent"."""
        m = _NESTED.match(name)
        parent = next((self.structs[k] for k in (f"struct {m.group(1)}", f"union {m.group(1)}")
                       if k in self.structs), None) if m else None  # fmt: skip
        if m is None or parent is None:
            return name
        member = next((f.name for f in parent.fields if f.type == name), "")
        return f"the {member} member of {self.display(parent.name)}" if member else self.display(parent.name)


# the internal name of a nested unnamed struct or union: "struct parent.LINE"
_NESTED = re.compile(r"^(?:struct|union) (\w+(?:\.\d+)*)\.\d+$")


def local_types(source: bytes, tree: tree_sitter.Tree, line: int) -> dict[str, CType]:
    """Parameters and local variables of the function containing `line`."""
    func = cindex.function_node_at(tree.root_node, line)
    out: dict[str, CType] = {}
    if func is None:
        return out
    for node in cindex.walk(func):
        if node.type not in ("declaration", "parameter_declaration"):
            continue
        base = type_name(source, node.child_by_field_name("type"))
        for d in node.children_by_field_name("declarator"):
            target = d.child_by_field_name("declarator") if d.type == "init_declarator" else d
            name, pointer, array, function = _declarator(source, target)
            if name and not function and name not in out:
                out[name] = CType(base, pointer + int(array))
    return out


class Resolver:
    """Types of expressions inside one function of one file."""

    def __init__(self, index: StructIndex, variables: dict[str, CType], file: str) -> None:
        self.index = index
        self.variables = variables
        self.file = file

    def type_of(self, expr: str) -> CType:
        src, node = parse_expression(expr)
        return self._type(src, node)

    def _type(self, src: bytes, node: tree_sitter.Node | None) -> CType:
        if node is None:
            return UNKNOWN
        t = node.type
        if t == "parenthesized_expression":
            inner = next((c for c in node.children if c.is_named), None)
            return self._type(src, inner) if inner is not None else UNKNOWN
        if t == "identifier":
            name = _text(src, node)
            found = self.variables.get(name) or self.index.globals.get(self.file, {}).get(name)
            return found or UNKNOWN
        if t == "field_expression":
            base = self._type(src, node.child_by_field_name("argument"))
            struct = self.index.get(base.name) if base.known else None
            fld = struct.field(_text(src, node.child_by_field_name("field"))) if struct else None
            if fld is None:
                return UNKNOWN
            return CType(fld.type, fld.pointer + int(fld.array))
        if t == "pointer_expression":
            operand = self._type(src, node.child_by_field_name("argument"))
            op = node.children[0].type
            if not operand.known:
                return UNKNOWN
            return CType(operand.name, operand.pointer + (1 if op == "&" else -1))
        if t == "subscript_expression":
            array = self._type(src, node.child_by_field_name("argument"))
            return CType(array.name, array.pointer - 1) if array.known else UNKNOWN
        if t == "cast_expression":
            tdesc = node.child_by_field_name("type")
            if tdesc is None:
                return UNKNOWN
            cast = type_name(src, tdesc.child_by_field_name("type"))
            _, pointer, _, _ = _declarator(src, tdesc.child_by_field_name("declarator"))
            stars = _text(src, tdesc).count("*")
            return CType(cast, max(pointer, stars))
        if t == "call_expression":
            fn = node.child_by_field_name("function")
            if fn is not None and fn.type == "identifier":
                return self.index.returns.get(_text(src, fn), UNKNOWN)
        return UNKNOWN

    def struct_of(self, expr: str) -> tuple[StructDef | None, CType]:
        """The struct an expression points to (or is), with its type."""
        ctype = self.type_of(expr)
        return (self.index.get(ctype.name) if ctype.known else None), ctype


def parse_expression(expr: str) -> tuple[bytes, tree_sitter.Node | None]:
    """Parse one C expression (as spatch prints it); the source parsed and the expression's
    node, None when it does not parse as one."""
    src = f"void __drmm_probe(void) {{ ({expr}); }}".encode()
    paren = next(
        (n for n in cindex.walk(cindex.parse(src).root_node) if n.type == "parenthesized_expression"), None
    )
    return src, next((c for c in paren.children if c.is_named), None) if paren is not None else None


def member_of(expr: str) -> tuple[str, str]:
    """(`container`, `member`) of a member access `container->member` or `container.member`;
    ("", "") for anything else (a local variable, an array element, ...)."""
    src, node = parse_expression(expr)
    if node is None or node.type != "field_expression":
        return "", ""
    arg, fld = node.child_by_field_name("argument"), node.child_by_field_name("field")
    if arg is None or fld is None:
        return "", ""
    return _text(src, arg), _text(src, fld)


def sizeof_type(index: StructIndex, resolver: Resolver, size: str) -> CType:
    """The type a `sizeof` operand names, `struct foo`, `*p` or `p[0]`: the allocated element."""
    src, node = parse_expression(f"sizeof({size})")
    if node is None or node.type != "sizeof_expression":
        return UNKNOWN
    tdesc = node.child_by_field_name("type")
    if tdesc is not None:
        base = type_name(src, tdesc.child_by_field_name("type"))
        return CType(index.canonical(base), _text(src, tdesc).count("*"))
    value = node.child_by_field_name("value")
    if value is not None and value.type == "parenthesized_expression":
        inner = next((c for c in value.children if c.is_named), None)
        if inner is not None and inner.type == "identifier" and _text(src, inner) not in resolver.variables:
            name = index.canonical(_text(src, inner))
            if name in index.structs:  # sizeof(foo_t): a typedef name, not a variable
                return CType(name, 0)
    return resolver.type_of(size) if value is not None else UNKNOWN
