"""drmm-alloc: driver memory and mode objects in drm-lifetime memory (drmm_k*alloc(),
drmm_ allocations and inits of mode objects, their .destroy hooks and manual cleanups
gone); the unmanaged mode objects' conversions are modeobj.py's."""

from __future__ import annotations

import re
from collections.abc import Sequence

from refactor.classify.drm import DRMM_OF, MODE_OBJECTS
from refactor.classify.facts import Facts
from refactor.classify.findings import Finding
from refactor.csrc import cindex
from refactor.csrc.cfunc import Function
from refactor.families import mode_config, modeobj
from refactor.families.family import Family
from refactor.families.ops import INITS, Args, Op, Planning, Refusal, Refused, check_args_set, norm
from refactor.model.tree import Driver

# the op kinds that convert the init of a mode object (its funcs table is in the args)
OBJECT_INIT_OPS = ("init-", "plane-init-", "kalloc-init-")

MODE_OBJECT_RULES = ("devm-mode-object", "unmanaged-mode-object")

MANAGED_H = {"drm/drm_managed.h": re.compile(r"\bdrmm_(kzalloc|kmalloc|kcalloc|kmalloc_array|kstrdup|kfree|"
                                             r"mutex_init|add_action|add_action_or_reset)\(")}  # fmt: skip


def plan_alloc(p: Planning, facts: Facts, f: Finding) -> list[Op]:
    if f.rule == "unmanaged-mode-object":
        return modeobj.plan_unmanaged(p, facts, f)
    data = dict(f.data)
    alloc = data.get("alloc", "")
    helper = DRMM_OF.get(alloc)
    if helper is None or not p.c.api(helper):
        raise Refusal(f"the tree declares no drmm_ counterpart of {alloc}()")
    call = p.call_at(f.file, f.line, [alloc])
    if f.rule == "devm-drm-memory":
        _no_devm_kfree(p, facts, call.assigned_to)
        drm = p.drm_at(facts, f.file, f.line, avoid=call.assigned_to, device=call.args[0])
        return [p.op("alloc", f.file, f.line, Args(drm=drm, helper=helper))]
    struct = data.get("struct", "")
    bare = MODE_OBJECTS.get(struct, "")
    members = [("", bare)] if bare else p.members(facts, struct)
    if bare and (bare not in INITS or bare == "plane"):
        raise Refusal(f"a bare {bare} in devm_ memory: give it a container struct by hand")
    if not members:
        raise Refusal(f"no mode object member found in {struct}")
    kinds = {kind for _, kind in members}
    if "plane" in kinds:
        return _plane_alloc(p, facts, f, call, struct, members)
    drm = p.drm_at(facts, f.file, f.line, avoid=call.assigned_to, device=call.args[0])
    ops = [p.op("object-alloc", f.file, f.line, Args(drm=drm, helper=helper))]
    for path, kind in members:
        file, init, funcs = p.init_of(facts, struct, path, kind, (f.file, f.function), call.assigned_to)
        ops.append(p.op("init-" + init.name, file, init.line, Args(funcs=funcs)))
        ops.extend(p.destroy_ops(facts, funcs, kind))
        ops.extend(p.cleanup_ops(facts, struct, path, kind, (f.file, f.function), call.assigned_to))
    return ops


def _no_devm_kfree(p: Planning, facts: Facts, lhs: str) -> None:
    target = norm(lhs).replace(" ", "")
    for file in facts.driver.module.files:
        for call in p.c.file_calls(file, ("devm_kfree",)):
            if len(call.args) == 2 and call.args[1].replace(" ", "") == target:
                raise Refusal(
                    f"{lhs} is freed early with devm_kfree() at {file}:{call.line}: convert by hand"
                )


def _plane_alloc(p: Planning, facts: Facts, f: Finding, call: cindex.Call, struct: str,
                 members: list[tuple[str, str]]) -> list[Op]:  # fmt: skip
    if len(members) != 1:
        raise Refusal(f"{struct} holds a plane and other mode objects: drmm_universal_plane_alloc() "
                      "allocates one plane per struct")  # fmt: skip
    if not p.c.api("drmm_universal_plane_alloc"):
        raise Refusal("the tree does not declare drmm_universal_plane_alloc()")
    path, _ = members[0]
    file, init, funcs = p.init_of(facts, struct, path, "plane", (f.file, f.function))
    fn = p.function(f.file, f.line)
    target = call.assigned_to
    if file != f.file or init.function != fn.name or not re.fullmatch(r"\w+", target):
        raise Refusal("the plane is initialised away from its allocation: drmm_universal_plane_alloc() "
                      "must replace both, so convert by hand")  # fmt: skip
    if call.args[-1].replace(" ", "") != "GFP_KERNEL" or len(call.args) != 3:
        raise Refusal("the allocation is not a plain GFP_KERNEL allocation of one struct")
    rest = init.args[2:]
    uses = f"the plane's init arguments use {target}, which does not exist yet"
    check_args_set(fn, f.line, init.line, (init.args[0], *rest), target, uses)
    stmt = fn.statement_at(init.line)
    text = norm(fn.src[stmt.start_byte : stmt.end_byte].decode(errors="replace")) if stmt is not None else ""
    shape = "return" if text.startswith("return ") else "checked"
    if shape == "checked" and not re.match(r"^\w+ = drm_universal_plane_init\(", text):
        raise Refusal("the drm_universal_plane_init() result is not checked in a form the tool knows")
    check = fn.statement_at(f.line + _stmt_lines(fn, f.line))
    if (
        check is None
        or check.type != "if_statement"
        or target
        not in cindex.identifiers_in(
            norm(fn.src[check.start_byte : check.end_byte].decode(errors="replace")).split(")")[0]
        )
    ):
        raise Refusal(f"the allocation of {target} is not followed by its NULL check")
    ops = [p.op("plane-alloc", f.file, f.line, Args(drm=init.args[0], type=struct, member=path,
                   args=", ".join(rest)))]  # fmt: skip
    ops.append(p.op("plane-init-" + shape, f.file, init.line, Args(funcs=funcs)))
    ops.extend(p.destroy_ops(facts, funcs, "plane"))
    ops.extend(p.cleanup_ops(facts, struct, path, "plane"))
    return ops


def _shared_tables(p: Planning, driver: Driver, planned: dict[str, list[Op]]) -> list[tuple[str, str]]:
    """A funcs table loses `.destroy` only when every user of it is converted: the
    findings whose table another, unconverted, object also uses get no patch."""
    users: dict[str, int] = {}
    for o in {o for ops in planned.values() for o in ops if o.kind.startswith(OBJECT_INIT_OPS)}:
        table = o.args.funcs or ""
        users[table] = users.get(table, 0) + 1
    out = []
    for fid, ops in planned.items():
        for o in ops:
            if o.kind != "destroy-entry":
                continue
            if p.c.mentions(driver, o.name) > 1 + users.get(o.name, 0):
                why = (f"{o.name} also serves objects this patch does not convert, and drmm_ "
                       "inits need a table without .destroy: convert by hand")  # fmt: skip
                out.append((fid, why))
                break
    return out


def _mode_config_cleanup(p: Planning, driver: Driver, findings: Sequence[Finding],
                         planned: dict[str, list[Op]]) -> tuple[list[Op], str]:  # fmt: skip
    """drmm_ inits forbid `.destroy`, which a manual drm_mode_config_cleanup() calls: drop
    those calls too when every mode object of the driver becomes drm-lifetime; otherwise
    say why the mode-object fixes cannot be made."""
    converted = {(o.file, o.code) for ops in planned.values() for o in ops
                 if o.kind.startswith(OBJECT_INIT_OPS)}  # fmt: skip
    if not converted:
        return [], ""
    m = p.c.lifetime(driver)
    if not [x for x in m.cleanups if x.path != "release"]:
        return [], ""
    if any(f.rule in MODE_OBJECT_RULES and f.id not in planned for f in findings):
        return [], (
            "the driver calls drm_mode_config_cleanup() by hand, which needs the .destroy "
            "hooks the drmm_ helpers forbid, and not all its mode objects can be converted"
        )
    try:
        return mode_config.cleanup_removal(p, driver, "cleanup", converted), ""
    except Refusal as refusal:
        return [], ("the driver calls drm_mode_config_cleanup() by hand, which must go with the drmm_ "
                    f"inits, but {refusal}")  # fmt: skip


def _stmt_lines(fn: Function, line: int) -> int:
    stmt = fn.statement_at(line)
    return 1 if stmt is None else stmt.end_point[0] - stmt.start_point[0] + 1


def settle(p: Planning, driver: Driver, findings: Sequence[Finding], planned: dict[str, list[Op]]
           ) -> tuple[list[Op], list[Refused]]:  # fmt: skip
    """A funcs table loses .destroy only when all its users are converted; a driver that
    calls drm_mode_config_cleanup() by hand loses those calls with its mode objects' inits,
    or keeps all its mode objects unconverted."""
    refused = [Refused(fid, why) for fid, why in _shared_tables(p, driver, planned)]
    for r in refused:
        del planned[r.finding]
    extra: list[Op] = []
    if planned:
        extra, why = _mode_config_cleanup(p, driver, findings, planned)
        if why:
            for f in findings:
                if f.rule in MODE_OBJECT_RULES and f.id in planned:
                    del planned[f.id]
                    refused.append(Refused(f.id, why))
    return extra, refused


def _what(rules: Sequence[str], findings: int) -> str:
    return ("mode objects" if set(MODE_OBJECT_RULES) & set(rules) else "driver memory") + (
        " and locks" if "unmanaged-mutex" in rules else ""
    )


FAMILY = Family(
    "drmm-alloc",
    rules=("devm-mode-object", "devm-drm-memory", "unmanaged-mode-object"),
    subjects=("Allocate {what} with drmm_ helpers", "Use drmm_ allocations"),
    cover="drm: Tie driver resources to the drm_device lifetime",
    summary=(
        "moves memory and mode objects that the drm_device still reaches to the drm-managed "
        "helpers (drmm_*()), so that they are released with the drm_device"
    ),
    template="families/drmm-alloc.txt.j2",
    plan=plan_alloc,
    settle=settle,
    headers=MANAGED_H,
    patch_rules={"unmanaged-mode-object": ("devm-mode-object", "unmanaged-mode-object")},
    what=_what,
)
