"""Plan the fix of each driver's findings: which edits the semantic patches make, where.

A plan is one driver and one fix family (a future commit).  It lists operations, each
keyed the way the `virtual patch` rules see the code (file, function, the normalised
text of the line, or the name of a table or function), with the values the rule needs
(the drm_device expression in scope, the error exit).  A finding the planner cannot fix
safely gets a refusal with the reason instead; a plan never holds a partial fix of a
finding.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from refactor.classify import lifetime
from refactor.classify.classifier import Classifier
from refactor.classify.drm import DRMM_OF, MODE_OBJECTS
from refactor.classify.facts import Facts
from refactor.classify.findings import Finding
from refactor.csrc import cindex
from refactor.csrc.cfunc import Function
from refactor.csrc.structs import member_of
from refactor.families import guardplan, modeobj
from refactor.families.ops import CLEANUPS, INITS, Op, Plan, Refusal, check_args_set, norm
from refactor.model.tree import Driver

# family -> the rules it fixes; the order is the order of the commits of a driver
FAMILIES: dict[str, tuple[str, ...]] = {
    "double-put": ("double-put",),
    "drmm-alloc": ("devm-mode-object", "devm-drm-memory", "unmanaged-mode-object"),
    "drmm-mode-config": ("unmanaged-mode-config",),
    "drmm-mutex": ("unmanaged-mutex",),
    "drmm-action": ("devm-action-on-drm",),
    "drm-guards": ("unguarded-hw-access", "unregister-without-unplug"),
}


# rule -> the rules whose `virtual patch` edits its plans use (unmanaged-mode-object's use
# devm-mode-object's hook, table and cleanup edits)
PATCH_RULES = {"unmanaged-mode-object": ("devm-mode-object", "unmanaged-mode-object")}


# the op kinds that convert the init of a mode object (its funcs table is in the args)
OBJECT_INIT_OPS = ("init-", "plane-init-", "kalloc-init-")


FAMILY_OF = {rule: family for family, rules in FAMILIES.items() for rule in rules}


MODE_OBJECT_RULES = ("devm-mode-object", "unmanaged-mode-object")


NO_PATCH = {
    "devm-drm-private": "embedding the drm_device in the private struct changes every use of "
    "its pointer and the driver's put: convert to devm_drm_dev_alloc() by hand",
    "unbound-parent": "report only: the parent device needs a bound driver",
}


# drmm_ inits of mode objects: their cleanup is registered when they run
DRMM_OBJECT_INITS = (
    "drmm_crtc_alloc_with_planes",
    "drmm_crtc_init_with_planes",
    "drmm_universal_plane_alloc",
    "drmm_encoder_alloc",
    "drmm_simple_encoder_alloc",
    "drmm_encoder_init",
    "drmm_connector_init",
    "drmm_writeback_connector_init",
    "drmm_connector_hdmi_init",
)


_MANAGED_WRAPPER = re.compile(
    r"drm_mode_config_init\(struct drm_device \*dev\)\s*\{\s*return drmm_mode_config_init"
)


class Planner:
    def __init__(self, classifier: Classifier) -> None:
        self.c = classifier
        root = classifier.root / "include/drm/drm_mode_config.h"
        text = root.read_text(errors="replace") if root.is_file() else ""
        self.managed_mode_config = bool(_MANAGED_WRAPPER.search(norm(text).replace("( ", "(")))

    # -- helpers ------------------------------------------------------------------------
    def code(self, file: str, line: int) -> str:
        lines = self.c.data(file).decode(errors="replace").splitlines()
        return norm(lines[line - 1]) if 0 < line <= len(lines) else ""

    def op(self, kind: str, file: str, line: int, **args: str) -> Op:
        return Op(
            kind, file, self.c.function_at(file, line), self.code(file, line), tuple(sorted(args.items()))
        )

    def function(self, file: str, line: int) -> Function:
        data, tree = self.c.source(file)
        fn = Function.at(data, tree, line)
        if fn is None:
            raise Refusal(f"no function around {file}:{line}")
        return fn

    def call_at(self, file: str, line: int, names: Sequence[str]) -> cindex.Call:
        for call in self.c.file_calls(file, tuple(names)):
            if call.line == line:
                return call
        raise Refusal(f"no call of {'/'.join(names)}() at {file}:{line}")

    def drm_at(self, facts: Facts, file: str, line: int, avoid: str = "", device: str = "") -> str:
        """A drm_device expression valid at `line`.  `device` is the struct device the devm_
        call used: `drm->dev` or `priv->drm->dev` proves its drm_device is valid there."""
        fn = self.function(file, line)
        m = re.fullmatch(r"(.+?)\s*(->|\.)\s*dev", device.strip())
        if m:
            t = self.c.resolver(facts.index, file, line).type_of(m.group(1))
            if facts.index.canonical(t.name) == "struct drm_device" and t.pointer == (
                1 if m.group(2) == "->" else 0
            ):
                return m.group(1).replace(" ", "") if t.pointer else "&" + m.group(1).replace(" ", "")
        drm = fn.drm_at(line, facts.index, avoid=avoid)
        if drm:
            return drm
        if fn.creates_drm_after(line):
            raise Refusal(f"{fn.name}() allocates this before it creates the drm_device: "
                          "move the allocation after it by hand")  # fmt: skip
        buses = ("platform_device", "pci_dev", "mipi_dsi_device", "i2c_client")
        params = [v for v in fn.variables.values() if v.param]
        if fn.name.endswith("probe") or any(v.type.name.endswith(buses) for v in params):
            raise Refusal(f"{fn.name}() runs at probe, before the drm_device exists: the memory must move "
                          "to the component's bind() (or after the drm_device exists) by hand")  # fmt: skip
        raise Refusal(f"no drm_device is in scope in {fn.name}() at line {line}")

    def error_handling(self, file: str, line: int) -> tuple[str, str, list[Op]]:
        """The variable for the result of a drmm_ call added at `line`, the statement that
        leaves on error, and the declaration of the variable when the function has none."""
        fn = self.function(file, line)
        if fn.returns == "void":
            raise Refusal(
                f"{fn.name}() returns void, and the drmm_ call can fail: add error handling by hand"
            )
        var, declare = fn.error_var(), []
        if not var:
            used = cindex.identifiers_in(
                fn.src[fn.node.start_byte : fn.node.end_byte].decode(errors="replace")
            )
            var = next((n for n in ("ret", "err") if n not in used), "")
            if not var:
                raise Refusal(f"{fn.name}() has no free name for the drmm_ call's result")
            declare = [Op("declare", file, fn.name, "", (("var", var),))]
        exit_ = fn.error_exit(line, var)
        if exit_ is None:
            why = (
                "returns void"
                if fn.returns == "void"
                else "unwinds errors in a way the tool cannot follow here"
            )
            raise Refusal(f"{fn.name}() {why}: add the error handling of the drmm_ call by hand")
        return var, exit_, declare

    # -- families -----------------------------------------------------------------------
    def plan(self, driver: Driver, family: str, findings: Sequence[Finding]) -> Plan:
        facts = self.c.facts(driver)
        if family == "drmm-mode-config":
            return self._mode_config_plan(driver, findings)
        planned: dict[str, list[Op]] = {}
        refused: list[tuple[str, str]] = []
        planner = getattr(self, "_" + family.replace("-", "_"))
        for f in findings:
            try:
                planned[f.id] = planner(facts, f)
            except Refusal as refusal:
                refused.append((f.id, str(refusal)))
        extra: list[Op] = []
        for fid, why in self._shared_tables(facts.driver, planned):
            del planned[fid]
            refused.append((fid, why))
        if family == "drmm-alloc" and planned:
            extra, why = self._mode_config_cleanup(driver, findings, planned)
            if why:
                for f in findings:
                    if f.rule in MODE_OBJECT_RULES and f.id in planned:
                        del planned[f.id]
                        refused.append((f.id, why))
        ops: list[Op] = []
        for new in [*planned.values(), extra]:
            ops.extend(o for o in new if o not in ops)
        rules = tuple(sorted({f.rule for f in findings if f.id in planned}))
        return Plan(driver.name, family, rules, tuple(planned), tuple(ops), tuple(refused),
                    tuple((fid, tuple(o)) for fid, o in planned.items()))  # fmt: skip

    # -- commits ------------------------------------------------------------------------
    def commits(self, driver: Driver, plans: Sequence[Plan], findings: Sequence[Finding]) -> list[Plan]:
        """One commit per logical change: the drmm-alloc plan takes the manual mode-config
        cleanups it drops (their findings with them) and the locks of the structs it moves
        to drm-managed memory (a struct and its locks change lifetime together)."""
        by_id = {f.id: f for f in findings}
        plans = [self._devm_locks(driver, p, by_id) if p.family == "drmm-mutex" else p for p in plans]
        alloc = next((p for p in plans if p.family == "drmm-alloc" and p.ops), None)
        if alloc is None:
            return list(plans)
        dropped = {(o.file, o.code) for o in alloc.ops if o.kind == "cleanup"}
        structs = self._converted_structs(driver, [by_id[i] for i in alloc.findings if i in by_id])
        m = self.c.lifetime(driver)
        locks = {(x.site.file, x.site.line): x.struct for x in m.locks}
        taken: dict[str, tuple[Op, ...]] = {}
        rules = set(alloc.rules)
        out: list[Plan] = []
        for p in plans:
            if p is alloc:
                continue
            if p.family == "drmm-mode-config":
                moved = [f.id for f in map(by_id.get, (*p.findings, *dict(p.refused))) if f is not None
                         and (f.file, self.code(f.file, f.line)) in dropped]  # fmt: skip
            elif p.family == "drmm-mutex":
                moved = [i for i in p.findings if locks.get((by_id[i].file, by_id[i].line)) in structs]
            else:
                moved = []
            if not moved:
                out.append(p)
                continue
            ops = dict(p.by_finding)
            taken.update({i: ops.get(i, ()) for i in moved})
            rules |= {by_id[i].rule for i in moved}
            rest = tuple(i for i in p.findings if i not in moved)
            keep = [o for i in rest for o in ops.get(i, ())] if p.family != "drmm-mode-config" else []
            if rest or any(i not in moved for i, _ in p.refused):
                out.append(Plan(p.driver, p.family, p.rules if rest else (), rest,
                                tuple(dict.fromkeys(keep)) if p.family != "drmm-mode-config" else
                                (p.ops if rest else ()), tuple(r for r in p.refused if r[0] not in moved),
                                tuple(x for x in p.by_finding if x[0] in rest)))  # fmt: skip
        extra = [o for ops in taken.values() for o in ops if o not in alloc.ops]
        merged = Plan(alloc.driver, alloc.family, tuple(sorted(rules)), (*alloc.findings, *taken),
                      alloc.ops + tuple(dict.fromkeys(extra)), alloc.refused,
                      alloc.by_finding + tuple(taken.items()))  # fmt: skip
        return [merged, *out]

    def _devm_locks(self, driver: Driver, p: Plan, by_id: dict[str, Finding]) -> Plan:
        """The locks in devm_ memory that no drmm-alloc patch of this driver moves: no
        drmm_mutex_init() on memory freed at unbind."""
        alloc = {s for f in by_id.values() if f.rule in FAMILIES["drmm-alloc"]
                 for s in self._converted_structs(driver, [f])}  # fmt: skip
        m = self.c.lifetime(driver)
        blocked = []
        for i in p.findings:
            f = by_id[i]
            lock = next((x for x in m.locks if (x.site.file, x.site.line) == (f.file, f.line)), None)
            if lock is None:
                continue
            _, base = m.base(f.file, f.line, lock.lock)
            if base and m.memory_of(base) == "devm" and base not in alloc and lock.struct not in alloc:
                blocked.append((i, f"{lock.lock} lives in {base}, devm_ memory freed at unbind: a "
                                   f"drmm_mutex_init() "
                                   "release action would run on freed memory; move the memory to "
                                   "drmm_ first"))  # fmt: skip
        if not blocked:
            return p
        gone = dict(blocked)
        rest = tuple(i for i in p.findings if i not in gone)
        ops = [o for i, os_ in p.by_finding if i in rest for o in os_]
        return Plan(p.driver, p.family, p.rules if rest else (), rest, tuple(dict.fromkeys(ops)),
                    p.refused + tuple(blocked), tuple(x for x in p.by_finding if x[0] in rest))  # fmt: skip

    def _converted_structs(self, driver: Driver, findings: Sequence[Finding]) -> set[str]:
        """The structs whose memory the drmm-alloc findings move to drm-managed memory."""
        m = self.c.lifetime(driver)
        out = set()
        for f in findings:
            if f.rule == "devm-mode-object" and dict(f.data).get("struct"):
                out.add(dict(f.data)["struct"])
                continue
            for call in self.c.file_calls(f.file, tuple(DRMM_OF)):
                if call.line == f.line and call.assigned_to:
                    struct = m.struct_of(f.file, f.line, call.assigned_to)
                    if struct:
                        out.add(struct)
        return out

    def _double_put(self, facts: Facts, f: Finding) -> list[Op]:
        self.call_at(f.file, f.line, ["drm_dev_put"])
        fn = self.function(f.file, f.line)
        stmt = fn.statement_at(f.line)
        if stmt is None or stmt.type != "expression_statement":
            raise Refusal("the drm_dev_put() is not a statement of its own")
        return [self.op("put", f.file, f.line)]

    def _drmm_mutex(self, facts: Facts, f: Finding) -> list[Op]:
        """drmm_mutex_init() for the lock and, in the same patch, every other mutex_init()
        lock of the same struct, whose mutex_destroy() calls go: the locks of one object
        change lifetime together.  Refused where drm lifetime is wrong for the lock."""
        if not self.c.api("drmm_mutex_init"):
            raise Refusal("the tree does not declare drmm_mutex_init()")
        m = self.c.lifetime(facts.driver)
        lock = next((x for x in m.locks if (x.site.file, x.site.line) == (f.file, f.line)), None)
        if lock is None:
            raise Refusal(f"no mutex_init() at {f.file}:{f.line}")
        self._mutex_lifetime(facts.driver, m, lock)
        ops = self._mutex_ops(facts, f.file, f.line)
        mine = set(facts.driver.module.files)
        for other in m.locks:
            if other is lock or not lock.struct or other.struct != lock.struct or other.call != "mutex_init":
                continue
            if other.site.file not in mine:
                raise Refusal(f"{other.lock} of the same {lock.struct} is set up in another module "
                              f"({other.site.file}:{other.site.line}): convert the locks together "
                              f"by hand")  # fmt: skip
            try:
                ops += [o for o in self._mutex_ops(facts, other.site.file, other.site.line) if o not in ops]
                ops += self._destroy_ops(m, other)
            except Refusal as refusal:
                raise Refusal(f"{other.lock} of the same {lock.struct} "
                              f"({other.site.file}:{other.site.line}) must "
                              f"change with it, but {refusal}") from None  # fmt: skip
        return ops

    def _mutex_lifetime(self, driver: Driver, m: lifetime.Module, lock: lifetime.Lock) -> None:
        """Refuse drmm_mutex_init() where the lock's memory does not live as long as the
        drm_device, or where the driver's own convention is to destroy locks at release."""
        root, base = m.base(lock.site.file, lock.site.line, lock.lock)
        for site, arg, struct in m.frees:
            if struct and struct in (lock.struct, base):
                name = site.code.split("(")[0]
                raise Refusal(f"{struct} is freed by hand ({name}({arg}) in {site.function}(), {site.file}:"
                              f"{site.line}): a drmm_mutex_init() release action would run on freed "
                              f"memory at "
                              "the final drm_dev_put(); destroy the lock with mutex_destroy() before that "
                              "free instead")  # fmt: skip
        memory = m.memory_of(base) if base else "unknown"
        if memory == "kmalloc":
            raise Refusal(f"{base} is kmalloc'd memory the driver frees itself, not drm-lifetime memory: "
                          "destroy the lock with mutex_destroy() where it is freed")  # fmt: skip
        hook = self._release_hook(m)
        if hook and m.calls(["mutex_destroy"]):
            raise Refusal(f"the driver tears its software state down at drm release itself ({hook}(), its "
                          "drm_driver.release hook) and destroys its locks with mutex_destroy(): destroy "
                          f"{lock.lock} there too, as the driver does, rather than with "
                          f"drmm_mutex_init()")  # fmt: skip

    def _release_hook(self, m: lifetime.Module) -> str:
        """The `.release` hook of the driver's struct drm_driver, "" when it has none."""
        for rel in sorted(m.files):
            for table in re.finditer(r"struct drm_driver\s+\w+\s*=\s*\{(.*?)\n\};", m.text(rel), re.S):
                hook = re.search(r"\.release\s*=\s*&?(\w+)", table.group(1))
                if hook:
                    return hook.group(1)
        return ""

    def _destroy_ops(self, m: lifetime.Module, lock: lifetime.Lock) -> list[Op]:
        """Drop the mutex_destroy() calls of a lock that becomes drm-managed."""
        _, member = member_of(lock.lock)
        ops = []
        for rel, call in m.calls(["mutex_destroy"]):
            arg = call.args[0].lstrip("&").strip() if call.args else ""
            container, mem = member_of(arg)
            if mem != member or (container and m.struct_of(rel, call.line, container) != lock.struct):
                continue
            fn = self.function(rel, call.line)
            stmt = fn.statement_at(call.line)
            if stmt is None or stmt.type != "expression_statement":
                raise Refusal(f"its mutex_destroy() at {rel}:{call.line} is not a statement the "
                              f"patch can drop")
            ops.append(self.op("mutex-destroy", rel, call.line))
        return ops

    def _mutex_ops(self, facts: Facts, file: str, line: int) -> list[Op]:
        call = self.call_at(file, line, ["mutex_init", "devm_mutex_init"])
        fn = self.function(file, line)
        drm = self.drm_at(facts, file, line, device=call.args[0] if call.name == "devm_mutex_init" else "")
        stmt = fn.statement_at(line)
        text = "" if stmt is None else norm(fn.src[stmt.start_byte : stmt.end_byte].decode(errors="replace"))
        bare = stmt is not None and stmt.type == "expression_statement" and text.startswith(call.name + "(")
        if call.name == "devm_mutex_init" and not bare:
            return [self.op("devm-mutex", file, line, drm=drm)]
        if not bare:
            raise Refusal("the mutex_init() is not a statement of its own")
        var, exit_, declare = self.error_handling(file, line)
        kind = "mutex" if call.name == "mutex_init" else "devm-mutex-checked"
        return [self.op(kind, file, line, drm=drm, var=var, exit=exit_), *declare]

    def _drm_guards(self, facts: Facts, f: Finding) -> list[Op]:
        plan = guardplan.plan_hw if f.rule == "unguarded-hw-access" else guardplan.plan_unplug
        return plan(self, facts, f)

    def _drmm_action(self, facts: Facts, f: Finding) -> list[Op]:
        raise Refusal("moving the action to the final drm_dev_put() changes when its teardown runs, "
                      "which may touch hardware after unbind: the rule is low confidence and its "
                      "fix is left to a person")  # fmt: skip

    # -- drmm-alloc ---------------------------------------------------------------------
    def _drmm_alloc(self, facts: Facts, f: Finding) -> list[Op]:
        if f.rule == "unmanaged-mode-object":
            return modeobj.plan_unmanaged(self, facts, f)
        data = dict(f.data)
        alloc = data.get("alloc", "")
        helper = DRMM_OF.get(alloc)
        if helper is None or not self.c.api(helper):
            raise Refusal(f"the tree declares no drmm_ counterpart of {alloc}()")
        call = self.call_at(f.file, f.line, [alloc])
        if f.rule == "devm-drm-memory":
            self._no_devm_kfree(facts, call.assigned_to)
            drm = self.drm_at(facts, f.file, f.line, avoid=call.assigned_to, device=call.args[0])
            return [self.op("alloc", f.file, f.line, drm=drm, helper=helper)]
        struct = data.get("struct", "")
        bare = MODE_OBJECTS.get(struct, "")
        members = [("", bare)] if bare else self.members(facts, struct)
        if bare and (bare not in INITS or bare == "plane"):
            raise Refusal(f"a bare {bare} in devm_ memory: give it a container struct by hand")
        if not members:
            raise Refusal(f"no mode object member found in {struct}")
        kinds = {kind for _, kind in members}
        if "plane" in kinds:
            return self._plane_alloc(facts, f, call, struct, members)
        drm = self.drm_at(facts, f.file, f.line, avoid=call.assigned_to, device=call.args[0])
        ops = [self.op("object-alloc", f.file, f.line, drm=drm, helper=helper)]
        for path, kind in members:
            file, init, funcs = self.init_of(
                facts, struct, path, kind, (f.file, f.function), call.assigned_to
            )
            ops.append(self.op("init-" + init.name, file, init.line, funcs=funcs))
            ops.extend(self.destroy_ops(facts, funcs, kind))
            ops.extend(self.cleanup_ops(facts, struct, path, kind, (f.file, f.function), call.assigned_to))
        return ops

    def members(self, facts: Facts, struct: str, prefix: str = "", depth: int = 0) -> list[tuple[str, str]]:
        """(member path, kind) of every mode object embedded in `struct`."""
        s = facts.index.get(struct)
        out: list[tuple[str, str]] = []
        for fld in s.fields if s and depth < 6 else ():
            if fld.pointer or fld.function:
                continue
            t = facts.index.canonical(fld.type)
            if t in MODE_OBJECTS or facts.holds(t):
                if fld.array:
                    raise Refusal(f"{struct} holds an array of mode objects ({prefix}{fld.name}[])")
                if t == "struct drm_simple_display_pipe":
                    raise Refusal(f"{struct} embeds a drm_simple_display_pipe, which has no drmm_ init")
            if t in MODE_OBJECTS:
                kind = MODE_OBJECTS[t]
                if kind not in INITS:
                    raise Refusal(f"{struct} embeds a {kind}, which has no drmm_ init in this tool's reach")
                out.append((prefix + fld.name, kind))
            elif facts.holds(t):
                out.extend(self.members(facts, t, f"{prefix}{fld.name}.", depth + 1))
        return out

    def init_of(
        self,
        facts: Facts,
        struct: str,
        path: str,
        kind: str,
        near: tuple[str, str] = ("", ""),
        target: str = "",
    ) -> tuple[str, cindex.Call, str]:
        """The file and the unmanaged init call of the member `path` of `struct`, and the
        name of its funcs table.  With several, the one in the function `near` (file,
        function) that allocates the struct."""
        found: list[tuple[str, cindex.Call]] = []
        for file in facts.driver.module.files:
            for call in self.c.file_calls(file, tuple(INITS[kind])):
                if len(call.args) > 1 and self._names_member(facts, file, call, struct, path, near, target):
                    found.append((file, call))
        if not found:
            raise Refusal(f"the tool could not find where the {kind} {path} of {struct} is initialised")
        if len(found) > 1:
            local = [(file, call) for file, call in found if (file, call.function) == near]
            if len(local) != 1:
                raise Refusal(f"the {kind} {path} of {struct} is initialised in {len(found)} places")
            found = local
        file, call = found[0]
        index = INITS[kind][call.name][1]
        funcs = call.args[index].lstrip("&").strip() if 0 <= index < len(call.args) else ""
        return file, call, funcs

    def _names_member(
        self,
        facts: Facts,
        file: str,
        call: cindex.Call,
        struct: str,
        path: str,
        near: tuple[str, str] = ("", ""),
        target: str = "",
        index: int = 1,
    ) -> bool:
        """Whether argument `index` of `call` names the object: `&x->path` with x a
        `struct *` (directly or through a local alias set in the same function), or, for a
        bare object (`path` ""), the allocated pointer `target` itself in the allocating
        function `near`."""
        arg = call.args[index].replace(" ", "")
        if path == "":
            return (file, call.function) == near and arg == target
        if re.fullmatch(r"\w+", arg):  # an alias: `crtc = &priv->crtc; ...init(drm, crtc, ...)`
            fn = self.function(file, call.line)
            text = fn.src[fn.node.start_byte : fn.node.end_byte].decode(errors="replace")
            m = re.search(rf"\b{arg}\s*=\s*(&\s*\w+\s*->\s*[\w.\s]+?)\s*;", text)
            arg = m.group(1).replace(" ", "") if m else arg
        m = re.fullmatch(r"&(\w+)->([\w.]+)", arg)
        if not m or m.group(2) != path:
            return False
        root = self.c.resolver(facts.index, file, call.line).type_of(m.group(1))
        return root.pointer == 1 and facts.index.canonical(root.name) == struct

    def cleanup_ops(
        self,
        facts: Facts,
        struct: str,
        path: str,
        kind: str,
        near: tuple[str, str] = ("", ""),
        target: str = "",
    ) -> list[Op]:
        """The driver's own drm_*_cleanup() of the object (error paths, remove): the drmm_
        helper now does it at release, and a second cleanup would corrupt the lists."""
        ops = []
        for file in facts.driver.module.files:
            for call in self.c.file_calls(file, (CLEANUPS[kind],)):
                if call.args and self._names_member(facts, file, call, struct, path, near, target, index=0):
                    fn = self.function(file, call.line)
                    stmt = fn.statement_at(call.line)
                    labeled = (
                        stmt is not None
                        and stmt.parent is not None
                        and stmt.parent.type == "labeled_statement"
                    )
                    if (
                        stmt is None
                        or stmt.type != "expression_statement"
                        or (
                            labeled and stmt.parent.next_named_sibling is None  # type: ignore[union-attr]
                        )
                    ):
                        raise Refusal(f"{CLEANUPS[kind]}() of {path} at {file}:{call.line} is not a "
                                      "statement the patch can drop: remove it by hand")  # fmt: skip
                    ops.append(self.op("object-cleanup", file, call.line))
        return ops

    def destroy_ops(self, facts: Facts, funcs: str, kind: str) -> list[Op]:
        """Drop `.destroy` from the funcs table (drmm_ inits forbid it) when it only cleans up."""
        if not funcs:
            return []
        if not re.fullmatch(r"\w+", funcs):
            raise Refusal(f"the funcs argument {funcs} is not a named table")
        for file, entries in self.c.tables(facts.driver, funcs)[:1]:
            d = re.search(r"\.destroy\s*=\s*(\w+)\s*,?", entries)
            if not d:
                return []
            hook = d.group(1)
            ops = [Op("destroy-entry", file, funcs, "")]
            if hook == CLEANUPS[kind]:
                return ops
            body = self._function_body(facts, hook)
            if body is None or norm(body) not in (
                f"{CLEANUPS[kind]}({p});" for p in re.findall(r"\w+", body)
            ):
                raise Refusal(f"the .destroy hook {hook}() does more than {CLEANUPS[kind]}(): "
                              "drmm_ helpers forbid a destroy hook: convert by hand")  # fmt: skip
            if self.c.mentions(facts.driver, hook) > 2:
                raise Refusal(f"{hook}() is used outside the {funcs} table")
            return ops + [Op("remove-function", self._defined_in(facts, hook), hook, "")]
        raise Refusal(f"the tool could not find the table {funcs}")

    def _function_body(self, facts: Facts, name: str) -> str | None:
        for file in facts.driver.module.files:
            for d in self.c.definitions(file) if name.encode() in self.c.data(file) else ():
                if d.name == name and d.kind in ("function", "inline"):
                    return d.body.strip().removeprefix("{").removesuffix("}")
        return None

    def _defined_in(self, facts: Facts, name: str) -> str:
        for file in facts.driver.module.files:
            if name.encode() in self.c.data(file) and any(d.name == name and d.kind == "function"
                                                          for d in self.c.definitions(file)):
                return file
        raise Refusal(f"no definition of {name}()")

    def _no_devm_kfree(self, facts: Facts, lhs: str) -> None:
        target = norm(lhs).replace(" ", "")
        for file in facts.driver.module.files:
            for call in self.c.file_calls(file, ("devm_kfree",)):
                if len(call.args) == 2 and call.args[1].replace(" ", "") == target:
                    raise Refusal(
                        f"{lhs} is freed early with devm_kfree() at {file}:{call.line}: convert by hand"
                    )

    def _plane_alloc(self, facts: Facts, f: Finding, call: cindex.Call, struct: str,
                     members: list[tuple[str, str]]) -> list[Op]:  # fmt: skip
        if len(members) != 1:
            raise Refusal(f"{struct} holds a plane and other mode objects: drmm_universal_plane_alloc() "
                          "allocates one plane per struct")  # fmt: skip
        if not self.c.api("drmm_universal_plane_alloc"):
            raise Refusal("the tree does not declare drmm_universal_plane_alloc()")
        path, _ = members[0]
        file, init, funcs = self.init_of(facts, struct, path, "plane", (f.file, f.function))
        fn = self.function(f.file, f.line)
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
        text = (
            norm(fn.src[stmt.start_byte : stmt.end_byte].decode(errors="replace")) if stmt is not None else ""
        )
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
        ops = [self.op("plane-alloc", f.file, f.line, drm=init.args[0], type=struct, member=path,
                       args=", ".join(rest))]  # fmt: skip
        ops.append(self.op("plane-init-" + shape, f.file, init.line, funcs=funcs))
        ops.extend(self.destroy_ops(facts, funcs, "plane"))
        ops.extend(self.cleanup_ops(facts, struct, path, "plane"))
        return ops

    def _shared_tables(self, driver: Driver, planned: dict[str, list[Op]]) -> list[tuple[str, str]]:
        """A funcs table loses `.destroy` only when every user of it is converted: the
        findings whose table another, unconverted, object also uses get no patch."""
        users: dict[str, int] = {}
        for o in {o for ops in planned.values() for o in ops if o.kind.startswith(OBJECT_INIT_OPS)}:
            table = dict(o.args).get("funcs", "")
            users[table] = users.get(table, 0) + 1
        out = []
        for fid, ops in planned.items():
            for o in ops:
                if o.kind != "destroy-entry":
                    continue
                if self.c.mentions(driver, o.name) > 1 + users.get(o.name, 0):
                    why = (f"{o.name} also serves objects this patch does not convert, and drmm_ "
                           "inits need a table without .destroy: convert by hand")  # fmt: skip
                    out.append((fid, why))
                    break
        return out

    def _mode_config_cleanup(self, driver: Driver, findings: Sequence[Finding],
                             planned: dict[str, list[Op]]) -> tuple[list[Op], str]:  # fmt: skip
        """drmm_ inits forbid `.destroy`, which a manual drm_mode_config_cleanup() calls: drop
        those calls too when every mode object of the driver becomes drm-lifetime; otherwise
        say why the mode-object fixes cannot be made."""
        converted = {(o.file, o.code) for ops in planned.values() for o in ops
                     if o.kind.startswith(OBJECT_INIT_OPS)}  # fmt: skip
        if not converted:
            return [], ""
        m = self.c.lifetime(driver)
        if not [x for x in m.cleanups if x.path != "release"]:
            return [], ""
        if any(f.rule in MODE_OBJECT_RULES and f.id not in planned for f in findings):
            return [], (
                "the driver calls drm_mode_config_cleanup() by hand, which needs the .destroy "
                "hooks the drmm_ helpers forbid, and not all its mode objects can be converted"
            )
        try:
            return self.cleanup_removal(driver, "cleanup", converted), ""
        except Refusal as refusal:
            return [], ("the driver calls drm_mode_config_cleanup() by hand, which must go with the drmm_ "
                        f"inits, but {refusal}")  # fmt: skip

    def cleanup_removal(self, driver: Driver, kind: str, converted: set[tuple[str, str]]) -> list[Op]:
        """The ops that drop every manual drm_mode_config_cleanup() of the driver (error and
        removal paths), after proving that it is safe: the mode config is managed, every
        mode object of the driver's directories lives in drm-lifetime memory without a
        `.destroy` that does more than clean up (or is among `converted`, (file, code) of
        the init calls the same commit converts), and the managed mode config is set up
        before the drmm_ object inits (so that the release, last in first out, finds the
        objects already gone)."""
        if not self.c.api("drmm_mode_config_init"):
            raise Refusal("the tree does not declare drmm_mode_config_init()")
        if not self.managed_mode_config and self.c.calls(driver, "drm_mode_config_init"):
            raise Refusal("drm_mode_config_init() does not wrap drmm_mode_config_init() in this tree, "
                          "so the cleanup belongs to the driver")  # fmt: skip
        m = self.c.lifetime(driver)
        for obj in m.mode_objects:
            if (obj.site.file, self.code(obj.site.file, obj.site.line)) in converted:
                continue
            why = m.blocker(obj)
            if why:
                raise Refusal(f"{why}: make it drm-lifetime (drmm_*_alloc(), or drmm_kzalloc() and a "
                              "drmm_ init) first")  # fmt: skip
        self._managed_first(driver, m)
        ops = []
        mine = set(driver.module.files)
        for c in m.cleanups:
            if c.path == "release":
                continue
            if c.site.file not in mine:
                raise Refusal(f"{c.site.file} (another module of this driver) also calls "
                              "drm_mode_config_cleanup() by hand: convert both together by hand")  # fmt: skip
            fn = self.function(c.site.file, c.site.line)
            stmt = fn.statement_at(c.site.line)
            labeled = stmt is not None and stmt.parent is not None and stmt.parent.type == "labeled_statement"
            if stmt is None or stmt.type != "expression_statement" or (
                    labeled and stmt.parent.next_named_sibling is None):  # type: ignore[union-attr]  # fmt: skip
                raise Refusal(f"the drm_mode_config_cleanup() at {c.site.file}:{c.site.line} is not a "
                              "statement the patch can drop: remove it by hand")  # fmt: skip
            ops.append(self.op(kind, c.site.file, c.site.line))
        return ops

    def _managed_first(self, driver: Driver, m: lifetime.Module) -> None:
        """Refuse when a drmm_ mode-object init runs before the mode config is set up in the
        same function (or in a function it calls before that)."""
        inits = m.calls(["drm_mode_config_init", "drmm_mode_config_init"])
        managed = m.calls(DRMM_OBJECT_INITS)
        for rel, init in inits:
            called = self.c.called_in_module(driver, init.function) or set()
            for orel, obj in managed:
                early = orel == rel and obj.function == init.function and obj.line < init.line
                if not early and obj.function in called and obj.function != init.function:
                    early = any(c.line < init.line for c in self.c.file_calls(rel, (obj.function,))
                                if c.function == init.function)  # fmt: skip
                if early:
                    raise Refusal(f"{obj.name}() at {orel}:{obj.line} runs before {init.name}() at "
                                  f"{rel}:{init.line}: the release would clean the mode config up "
                                  "first")  # fmt: skip

    def _mode_config_plan(self, driver: Driver, findings: Sequence[Finding]) -> Plan:
        """Every manual drm_mode_config_cleanup() of the driver goes in one patch, or none."""
        ids = tuple(f.id for f in findings)
        try:
            ops = self.cleanup_removal(driver, "mode-config-cleanup", set())
        except Refusal as refusal:
            return Plan(driver.name, "drmm-mode-config", (), (), (), tuple((i, str(refusal)) for i in ids))
        wanted = {(o.file, o.code) for o in ops}
        stray = [f for f in findings if (f.file, self.code(f.file, f.line)) not in wanted]
        refused = tuple((f.id, "the tool found no manual cleanup to drop at this line") for f in stray)
        fixed = tuple(i for i in ids if i not in dict(refused))
        return Plan(driver.name, "drmm-mode-config", ("unmanaged-mode-config",) if fixed else (), fixed,
                    tuple(ops) if fixed else (), refused)  # fmt: skip


def _stmt_lines(fn: Function, line: int) -> int:
    stmt = fn.statement_at(line)
    return 1 if stmt is None else stmt.end_point[0] - stmt.start_point[0] + 1
