"""Plan the conversion of mode objects in kzalloc() memory with a hand-written cleanup
(`unmanaged-mode-object`) to drm lifetime, the way upstream converted msm, tidss, vkms:

- a struct holding one CRTC, plane or encoder comes from the drmm_ allocator
  (drmm_crtc_alloc_with_planes(), drmm_universal_plane_alloc(), drmm_encoder_alloc(),
  drmm_simple_encoder_alloc()), which also runs the init: the init and its check go;
- otherwise (connectors, a struct holding several objects) the struct comes from
  drmm_kzalloc() and each object in it gets its drmm_ init;
- the `.destroy` hook that cleaned up and freed goes with its table entry (the drmm_
  helpers require funcs->destroy to be NULL), and so do the driver's own kfree() and
  drm_*_cleanup() of the object in the function that allocates it.

The conversion is refused, with the reason, wherever it would not be the same program:
a hook that does more than clean up and free, memory freed elsewhere, init arguments
only known after the allocation, an init whose result is not checked in a known form.
Whether the manual drm_mode_config_cleanup() can go is decided for the whole driver by
the planner (plan.Planner._mode_config_cleanup), as for devm-mode-object.
"""

from __future__ import annotations

import re

from refactor.classify.drm import MODE_OBJECTS
from refactor.classify.facts import Facts
from refactor.classify.findings import Finding
from refactor.csrc import cindex
from refactor.csrc.cfunc import Function
from refactor.families import mode_config
from refactor.families import modeobj_hooks as hooks
from refactor.families.ops import CLEANUPS, INITS, Args, Op, Planning, Refusal, check_args_set

KIND_OF = {name: kind for kind, inits in INITS.items() for name in inits}
# kind -> the drmm_ allocator that allocates the container and runs the init
ALLOCATORS = {"CRTC": "drmm_crtc_alloc_with_planes", "plane": "drmm_universal_plane_alloc",
              "encoder": "drmm_encoder_alloc"}  # fmt: skip
ALLOCS = ("kzalloc", "kzalloc_obj")  # zeroed, as the drmm_ allocators' memory is
HAND_FREES = ("kfree", "kvfree", "kfree_sensitive")


def plan_unmanaged(p: Planning, facts: Facts, f: Finding) -> list[Op]:
    """The ops that move the object initialised at the finding, and every other mode
    object of its struct, to drm lifetime; Refusal with the reason when that is unsafe.
    The allocator form where it applies, else drmm_kzalloc() and drmm_ inits (which keep
    the init where its arguments are known)."""
    if dict(f.data).get("shape") == "embedded":
        return _embedded_form(p, facts, f)
    if dict(f.data).get("shape") == "torn-down":
        raise Refusal("the object's memory is devm_ and the removal path destroys it by hand: the "
                      "memory, the init and the manual drm_mode_config_cleanup() change together, "
                      "by hand")  # fmt: skip
    first = Refusal("")
    if "writeback" in dict(f.data).get("kind", ""):
        raise Refusal("drmm_writeback_connector_init() takes the encoder and the formats the "
                      "driver sets up elsewhere: convert the writeback connector by hand")  # fmt: skip
    init = p.call_at(f.file, f.line, list(KIND_OF))
    kind = KIND_OF[init.name]
    fn = p.function(f.file, f.line)
    container, member = _object(fn, init)
    alloc = _allocation(p, f.file, fn, container, init.line)
    ctype = p.c.resolver(facts.index, f.file, alloc.line).type_of(container)
    struct = facts.index.canonical(ctype.name)
    if ctype.pointer != 1 or not struct.startswith("struct ") or struct.startswith("struct drm_"):
        raise Refusal(f"{container} is a bare {kind}, not a struct embedding it: give it a container "
                      "struct by hand")  # fmt: skip
    members = p.members(facts, struct)
    if member not in [path for path, _ in members]:
        raise Refusal(f"{member} is not a mode object member of {struct} the tool can follow")
    _freed_only_here(p, facts, fn, container, struct, {k for _, k in members})
    single = len(members) == 1 and kind in ALLOCATORS
    ops: list[Op] = []
    if single:
        try:
            ops = _alloc_form(p, facts, f.file, fn, alloc, init, kind, struct, member, container)
            ops += _alias(p, f.file, fn, init)
        except Refusal as why:
            if kind == "plane":  # no drmm_ init of a plane: only the allocator converts it
                raise
            single, first = False, why
    if not single:
        try:
            ops = _drmm_form(p, facts, f.file, fn, alloc, struct, members, container)
        except Refusal as why:
            if str(why) == str(first) or "after the allocation" not in str(first):
                raise
            raise Refusal(f"{first}, and {why}") from None
    for path, k in members:
        ops += p.cleanup_ops(facts, struct, path, k, (f.file, fn.name), container)
    return ops + _frees(p, f.file, fn, alloc, container, init if single else None)


def _embedded_form(p: Planning, facts: Facts, f: Finding) -> list[Op]:
    """An object embedded in drm-lifetime memory: its init becomes the drmm_ init of the
    same arguments and `.destroy` (only the cleanup) leaves its table.  Refused when the
    driver cleans the object up by hand, or when the init runs before the mode config is
    set up (the drmm_ release, last in first out, would clean the config up first)."""
    init = p.call_at(f.file, f.line, list(KIND_OF))
    kind = KIND_OF[init.name]
    managed, slot = INITS[kind][init.name]
    if not p.c.api(managed):
        raise Refusal(f"the tree does not declare {managed}()")
    # a .destroy hook cleans up its own object, not this one
    hooks_of = {fn for fn, fields in p.c.lifetime(facts.driver).tables.items() if "destroy" in fields}
    for file in facts.driver.module.files:
        for call in p.c.file_calls(file, (CLEANUPS[kind],)):
            if call.function and call.function not in hooks_of:
                raise Refusal(f"{call.function}() calls {CLEANUPS[kind]}() by hand ({file}:{call.line}), "
                              "which the drmm_ init does at release: convert by hand")  # fmt: skip
    mode_config.managed_first(p, facts.driver, p.c.lifetime(facts.driver), [(f.file, init)])
    table = init.args[slot].lstrip("&").strip() if 0 <= slot < len(init.args) else ""
    if init.name == "drm_encoder_init" and table and _only_destroy(p, facts, table):
        # drmm_encoder_init()'s funcs are optional: the table that held only .destroy goes
        return [p.op("init-null-encoder", f.file, init.line), *_table_ops(p, facts, table, kind)]
    ops = [p.op("init-" + init.name, f.file, init.line, Args(funcs=table))]
    return ops + p.destroy_ops(facts, table, kind)


def _object(fn: Function, init: cindex.Call) -> tuple[str, str]:
    """(the variable holding the struct, the member the init sets up): `&x->m`, or a local
    `obj` set to `&x->m` in the function."""
    arg = init.args[1].replace(" ", "")
    if re.fullmatch(r"\w+", arg):
        text = fn.src[fn.node.start_byte : fn.node.end_byte].decode(errors="replace")
        m = re.search(rf"\b{arg}\s*=\s*(&\s*\w+\s*->\s*\w+)\s*;", text)
        arg = m.group(1).replace(" ", "") if m else arg
    m = re.fullmatch(r"&(\w+)->(\w+)", arg)
    if m is None and re.fullmatch(r"\w+", arg):
        raise Refusal(f"{arg} is a bare struct drm_{KIND_OF[init.name].lower()}, not a member of a driver "
                      "struct: the drmm_ allocators need a container struct, add one by hand")  # fmt: skip
    if m is None:
        raise Refusal(f"the {init.name}() object {init.args[1]} is not a member of a local struct pointer")
    return m.group(1), m.group(2)


def _alias(p: Planning, file: str, fn: Function, init: cindex.Call) -> list[Op]:
    """Drop the local that only pointed the init at the object (`crtc = &x->base;`), which
    the allocator form leaves set but unused."""
    arg = init.args[1].replace(" ", "")
    v = fn.variables.get(arg)
    if not re.fullmatch(r"\w+", arg) or v is None or v.param or len(v.set_at) != 1 or v.set_at[0] == v.line:
        return []
    text = fn.src[fn.node.start_byte : fn.node.end_byte].decode(errors="replace")
    if len(re.findall(rf"\b{arg}\b", re.sub(r"/\*.*?\*/|//[^\n]*", "", text, flags=re.S))) != 3:
        return []  # declared, set, passed to the init: anything more is a use that stays
    return [p.op("kalloc-alias", file, v.set_at[0])]


def _allocation(p: Planning, file: str, fn: Function, container: str, before: int) -> cindex.Call:
    """The kzalloc() of `container` in `fn` before line `before`, the only value it gets."""
    names = [*ALLOCS, "kmalloc", "kcalloc", "kmalloc_obj"]
    found = [c for c in p.c.file_calls(file, tuple(names)) if c.function == fn.name
             and c.line < before and c.assigned_to.replace(" ", "") == container]  # fmt: skip
    if len(found) != 1:
        raise Refusal(f"{fn.name}() does not allocate {container} once before its init: convert by hand")
    call = found[0]
    if call.name not in ALLOCS:
        raise Refusal(f"{container} comes from {call.name}(), not zeroed memory of one struct: "
                      "convert by hand")  # fmt: skip
    v = fn.variables.get(container)
    decl = fn.statement_at(v.line) if v is not None else None
    # `struct foo *x = NULL;` before the allocation is no other value
    null = decl is not None and bool(re.search(rf"\b{container}\s*=\s*NULL\b", hooks.stmt_text(fn, decl)))
    sets = tuple(x for x in v.set_at if not (null and x == v.line)) if v is not None else ()
    if v is None or v.param or sets != (call.line,):
        raise Refusal(f"{container} is given another value in {fn.name}(): convert by hand")
    gfp = call.args[-1].replace(" ", "") if (call.name == "kzalloc" or len(call.args) > 1) else "GFP_KERNEL"
    if gfp != "GFP_KERNEL":
        raise Refusal(f"the allocation of {container} is not GFP_KERNEL, as the drmm_ helpers' is")
    return call


def _size(alloc: cindex.Call) -> str:
    return alloc.args[0] if alloc.name == "kzalloc" else f"sizeof({alloc.args[0]})"


def _freed_only_here(p: Planning, facts: Facts, fn: Function, container: str, struct: str,
                     kinds: set[str]) -> None:  # fmt: skip
    """Refuse when the module frees memory of `struct` outside `fn` and its .destroy hooks
    (those the conversion removes), or calls by hand the ->destroy() of a mode object of
    one of the `kinds` the conversion moves to drm lifetime (whose hook it removes)."""
    converted = {t for t, k in MODE_OBJECTS.items() if k in kinds}
    for file in facts.driver.module.files:
        data = p.c.data(file)  # a file that does not say destroy is not decoded
        text = data.decode(errors="replace") if b"destroy" in data else ""
        for m in re.finditer(r"([\w>.-]+?)\s*->\s*funcs\s*->\s*destroy\s*\(", text):
            line = text.count("\n", 0, m.start()) + 1
            t = p.c.resolver(facts.index, file, line).type_of(m.group(1))
            # a GPU's or a bridge's ->funcs->destroy() is not a mode object's, and a
            # connector's hook stays when only CRTCs, planes and encoders are converted
            if not t.known or facts.index.canonical(t.name) in converted:
                raise Refusal(f"{file}:{line} calls a mode object's ->funcs->destroy() by hand: "
                              "convert by hand")  # fmt: skip
        for call in p.c.file_calls(file, HAND_FREES):
            if call.function == fn.name or not call.args:
                continue
            t = p.c.resolver(facts.index, file, call.line).type_of(call.args[0])
            mine = t.known and facts.index.canonical(t.name) == struct and t.pointer == 1
            if mine and not _is_hook(p, facts, call.function):
                raise Refusal(f"{struct} is also freed with {call.name}() in {call.function}() "
                              f"({file}:{call.line}): convert by hand")  # fmt: skip


def _is_hook(p: Planning, facts: Facts, name: str) -> bool:
    return any(re.search(rf"\.destroy\s*=\s*&?{name}\b", p.c.data(x).decode(errors="replace"))
               for x in facts.driver.module.files if cindex.may_name(name, p.c.data(x)))  # fmt: skip


def _checked_args(fn: Function, alloc: cindex.Call, init: cindex.Call, container: str,
                  args: list[str]) -> None:  # fmt: skip
    """The init moves to the allocation: its arguments must already hold their values there."""
    uses = f"the init's arguments use {container}, which does not exist before the allocation"
    check_args_set(fn, alloc.line, init.line, args, container, uses)


def _alloc_form(p: Planning, facts: Facts, file: str, fn: Function, alloc: cindex.Call, init: cindex.Call,
                kind: str, struct: str, member: str, container: str) -> list[Op]:  # fmt: skip
    """The drmm_ allocator replaces the kzalloc() and the init."""
    helper, rest, drop_table = ALLOCATORS[kind], list(init.args[2:]), False
    funcs = INITS[kind][init.name][1]
    table = init.args[funcs].lstrip("&").strip() if 0 <= funcs < len(init.args) else ""
    if init.name == "drm_simple_encoder_init":
        helper, rest = "drmm_simple_encoder_alloc", [init.args[-1]]
    elif kind == "encoder" and table and _only_destroy(p, facts, table):
        rest[0], drop_table = "NULL", True  # drmm_encoder_alloc()'s funcs are optional: the table goes
    if not p.c.api(helper):
        raise Refusal(f"the tree does not declare {helper}()")
    _checked_args(fn, alloc, init, container, [init.args[0], *rest])
    check = fn.statement_at(alloc.line + _lines(fn, alloc.line))
    if (
        check is None
        or check.type != "if_statement"
        or not re.match(rf"if \( ?!{re.escape(container)} ?\)", hooks.stmt_text(fn, check))
    ):
        raise Refusal(f"the allocation of {container} is not followed by its NULL check")
    stmt = fn.statement_at(init.line)
    text = hooks.stmt_text(fn, stmt) if stmt is not None else ""
    if text.startswith("return "):
        shape = "return"
    elif re.match(rf"{init.name}\(", text):
        shape = "bare"
    elif re.match(rf"(\w+) = {init.name}\(", text):
        shape = "checked"
        var = text.split(" ", 1)[0]
        nxt = stmt.next_named_sibling if stmt is not None else None
        cond = hooks.stmt_text(fn, nxt) if nxt is not None and nxt.type == "if_statement" else ""
        other = nxt is not None and nxt.child_by_field_name("alternative") is not None
        if not re.match(rf"if \( ?{var}( < 0)? ?\)", cond) or other:
            raise Refusal(f"the {init.name}() result is not checked right after it in a form the tool knows")
    else:
        raise Refusal(f"the {init.name}() call is not a statement the tool knows how to replace")
    ops = [p.op("kalloc-alloc", file, alloc.line, Args(drm=init.args[0], helper=helper, type=struct,
                member=member, args=", ".join(rest)))]  # fmt: skip
    if drop_table:
        ops.append(p.op("kalloc-init-" + shape, file, init.line))
        return ops + _table_ops(p, facts, table, kind)
    ops.append(p.op("kalloc-init-" + shape, file, init.line, Args(funcs=table)))
    return ops + hooks.hook_ops(p, facts, table, kind, container)


def _table_ops(p: Planning, facts: Facts, table: str, kind: str) -> list[Op]:
    """Remove a funcs table that held only `.destroy`, and its hook (via _hook_ops)."""
    refs = p.c.mentions(facts.driver, table)
    if refs != 2:
        raise Refusal(f"{table} also serves other objects: convert them together by hand")
    ops = [o for o in hooks.hook_ops(p, facts, table, kind, "") if o.kind != "destroy-entry"]
    return [Op("kalloc-table", _table_file(p, facts, table), table, ""), *ops]


def _table_file(p: Planning, facts: Facts, table: str) -> str:
    for file in facts.driver.module.files:
        if cindex.may_name(table, p.c.data(file)) and re.search(
            rf"\b{table}\s*=\s*\{{", p.c.data(file).decode(errors="replace")
        ):
            return file
    raise Refusal(f"the tool could not find the table {table}")


def _drmm_form(p: Planning, facts: Facts, file: str, fn: Function, alloc: cindex.Call, struct: str,
               members: list[tuple[str, str]], container: str) -> list[Op]:  # fmt: skip
    """drmm_kzalloc() memory, and a drmm_ init for each mode object of the struct."""
    if not p.c.api("drmm_kzalloc"):
        raise Refusal("the tree does not declare drmm_kzalloc()")
    ops: list[Op] = []
    drm = ""
    for path, kind in members:
        if kind == "plane":
            raise Refusal(f"{struct} holds a plane and other mode objects: drmm_universal_plane_alloc() "
                          "allocates one plane per struct")  # fmt: skip
        where, init, table = p.init_of(facts, struct, path, kind, (file, fn.name), container)
        if where != file or init.function != fn.name:
            raise Refusal(f"the {kind} {path} of {struct} is initialised away from its allocation")
        managed = INITS[kind][init.name][0]
        if not p.c.api(managed):
            raise Refusal(f"the tree does not declare {managed}()")
        drm = drm or init.args[0]
        _checked_args(fn, alloc, init, container, [init.args[0]])
        ops.append(p.op("init-" + init.name, file, init.line, Args(funcs=table)))
        ops += hooks.hook_ops(p, facts, table, kind, container, init, file)
    gfp = alloc.args[-1] if alloc.name == "kzalloc" else "GFP_KERNEL"
    return [p.op("kalloc-drmm", file, alloc.line, Args(drm=drm, size=_size(alloc), gfp=gfp)), *ops]


def _only_destroy(p: Planning, facts: Facts, table: str) -> bool:
    found = p.c.tables(facts.driver, table)
    return bool(found) and re.findall(r"\.(\w+)\s*=", found[0][1]) == ["destroy"]


def _frees(p: Planning, file: str, fn: Function, alloc: cindex.Call, container: str,
           init: cindex.Call | None) -> list[Op]:  # fmt: skip
    """Drop `kfree(container);` in the allocating function (its error paths): the memory
    is drm-managed now.  Those inside the init's check go with it in the allocator form."""
    gone = None
    if init is not None:
        stmt = fn.statement_at(init.line)
        gone = stmt.next_named_sibling if stmt is not None else None
    # the memory is also freed through a member at its start: `kfree(connector)` with
    # `connector = &gconn->connector`
    body = fn.src[fn.node.start_byte : fn.node.end_byte].decode(errors="replace")
    names = {container} | {m.group(1) for m in re.finditer(rf"\b(\w+)\s*=\s*&\s*{container}\s*->", body)}
    names |= {f"&{container}->{m}" for m in re.findall(rf"&\s*{container}\s*->\s*(\w+)", body)}
    ops = []
    for call in p.c.file_calls(file, HAND_FREES):
        if call.function != fn.name or call.line <= alloc.line or not call.args:
            continue
        if call.args[0].replace(" ", "") not in names:
            continue
        if gone is not None and gone.start_point[0] < call.line <= gone.end_point[0] + 1:
            continue
        stmt = fn.statement_at(call.line)
        labeled = stmt is not None and stmt.parent is not None and stmt.parent.type == "labeled_statement"
        if stmt is None or stmt.type != "expression_statement" or call.name != "kfree" or (
                labeled and stmt.parent.next_named_sibling is None):  # type: ignore[union-attr]  # fmt: skip
            raise Refusal(f"the {call.name}({container}) at {file}:{call.line} is not a statement the "
                          "patch can drop: convert by hand")  # fmt: skip
        ops.append(p.op("kalloc-free", file, call.line))
    return ops


def _lines(fn: Function, line: int) -> int:
    stmt = fn.statement_at(line)
    return 1 if stmt is None else stmt.end_point[0] - stmt.start_point[0] + 1
