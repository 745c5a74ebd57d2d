"""Where the guards go: the drm-guards plan of a whole driver, the way upstream writes it.

The plan covers every hardware hook of the module (guards.Analysis.needs_guards()) in one
commit, or none: when one hook cannot be guarded safely the whole driver is refused with a
one-line reason naming that hook (a partial guard set is not a fix).  Per hook:

- whole: the hook does no refcounted bookkeeping and no software state outside its
  register statements: `if (!drm_dev_enter(drm, &idx)) return ...;` before its first
  statement and drm_dev_exit() before every return (vc4, bochs).  When the hook sends or
  arms the pending event, the failure path delivers it (vc4_hvs_atomic_flush()).
- span: the hook takes or drops clocks, runtime PM, vblank, regulators or IRQs: only the
  run of top-level statements from its first to its last register access goes into
  `if (drm_dev_enter(drm, &idx)) { ... drm_dev_exit(idx); }`, and the bookkeeping stays
  outside, so the unguarded counterpart never releases what was not taken.  Refused when
  bookkeeping, the event, a return or a label sits inside that run, or a local set there
  is used after it.

drm_dev_unregister() becomes drm_dev_unplug() only when the teardown is drm-lifetime safe
(guards.Analysis.unsafe_teardown()), and in upstream's order: `drm_dev_unplug();
drm_atomic_helper_shutdown();` (an unregister after the shutdown moves before it; a removal
function of an atomic driver without a shutdown gets one after the unplug).
"""

from __future__ import annotations

import re

import tree_sitter

from refactor.classify import guard_scan, guards, hookmodel
from refactor.classify.facts import Facts
from refactor.classify.findings import Finding
from refactor.csrc import cindex
from refactor.csrc.cfunc import Function
from refactor.families.ops import Args, Op, Planning, Refusal

_JUMPS = ("return_statement", "goto_statement", "labeled_statement")


def plan_hw(p: Planning, facts: Facts, f: Finding) -> list[Op]:
    """The guards of every hardware hook of `f`'s driver (the plan dedups them across
    findings), or the driver's refusal."""
    a = guards.analyse(p.c, facts)
    plan = guard_plan(p, facts, a)
    if isinstance(plan, str):
        raise Refusal(plan)
    if f.function not in plan:
        raise Refusal(f"{f.function}() is not a hardware hook of the driver")
    return [op for ops in plan.values() for op in ops]


def guard_plan(p: Planning, facts: Facts, a: guards.Analysis) -> dict[str, list[Op]] | str:
    """The driver's guard plan (hook -> ops), or the reason it has none; once a module."""
    plan = a.plans.get("hw")
    if plan is None:
        try:
            plan = _driver_plan(p, facts, a)
        except Refusal as refusal:
            plan = str(refusal)
        a.plans["hw"] = plan
    assert isinstance(plan, (dict, str))
    return plan


def _driver_plan(p: Planning, facts: Facts, a: guards.Analysis) -> dict[str, list[Op]]:
    if not p.c.api("drm_dev_enter") or not p.c.api("drm_dev_unplug"):
        raise Refusal("the tree does not declare drm_dev_enter() and drm_dev_unplug()")
    removal = [x for x in a.unplug_calls if x[2] in a.removal()]
    if not removal:
        raise Refusal("the module calls neither drm_dev_unregister() nor drm_dev_unplug() on removal: "
                      "a guard would never fail")  # fmt: skip
    if not any(call == "drm_dev_unplug" for *_, call in removal):
        file, line, fn, _ = removal[0]
        why = unplug_refusal(a, file, line, fn)
        if why:
            raise Refusal(f"no guard would ever fail, since removal cannot switch to drm_dev_unplug(): {why}")
    hooks = a.needs_guards()
    plan: dict[str, list[Op]] = {}
    for hook in hooks:
        try:
            plan[hook.function] = _plan_hook(p, facts, a, hook)
        except Refusal as refusal:
            where = f"ioctl {hook.entry.hook}" if hook.entry.table == "ioctl" else f".{hook.entry.hook}"
            others = (
                f"; its {len(hooks) - 1} other hardware hook(s) stay unguarded too" if len(hooks) > 1 else ""
            )
            raise Refusal(f"{hook.function}() ({where}) cannot be guarded safely: {refusal}{others} "
                          "(a partial guard set is not a fix)") from None  # fmt: skip
    return plan


def _statements(fn: Function) -> tuple[list[tuple[tree_sitter.Node, ...]], list[tree_sitter.Node]]:
    """The leading declarations and the other top-level statements of a body."""
    stmts = [s for s in (fn.body.named_children if fn.body else []) if s.type != "comment"]
    decls = []
    for s in stmts:
        if s.type != "declaration":
            break
        decls.append(s)
    return [tuple(decls)], stmts[len(decls) :]


def _lines(node: tree_sitter.Node) -> range:
    return range(node.start_point[0] + 1, node.end_point[0] + 2)


def _software_state(src: bytes, node: tree_sitter.Node) -> bool:
    """Whether a statement stores through a pointer or into a struct (`x->y = ...`,
    `s.f++`): state the rest of the driver reads, which a guard must not skip."""
    for n in cindex.walk(node):
        target = None
        if n.type == "assignment_expression":
            target = n.child_by_field_name("left")
        elif n.type == "update_expression":
            target = n.child_by_field_name("argument")
        if target is not None and target.type in ("field_expression", "pointer_expression",
                                                  "subscript_expression"):  # fmt: skip
            return True
    return False


def _plan_hook(p: Planning, facts: Facts, a: guards.Analysis, hook: guards.Hook) -> list[Op]:
    name = hook.function
    body = a.bodies[name]
    if body.file not in a.driver.module.files:
        raise Refusal(f"{name}() is defined in a header")
    if body.guards:
        raise Refusal(f"{name}() already has a drm_dev_enter() section that does not cover every "
                      "register access: widen it by hand")  # fmt: skip
    fn = Function(body.src, body.node_in(p.c.tree(body.file)))
    (decls,), rest = _statements(fn)
    regs = a.register_lines(name)
    if decls and any(line in regs for d in decls for line in _lines(d)):
        raise Refusal(f"{name}() touches hardware in a declaration, before a guard could go")
    if not rest:
        raise Refusal(f"{name}() has no statement to guard")
    events = a.events(name)
    arming = any(call == "drm_crtc_arm_vblank_event" for _, call, _ in events)
    books = [(line, call) for line, call in a.books(name)
             # drm_crtc_vblank_get() for an armed event: the event's delivery drops it
             if not (arming and call == "drm_crtc_vblank_get")]  # fmt: skip
    kinds = []
    for s in rest:
        span = _lines(s)
        kinds.append((
            any(x in regs for x in span),
            [call for line, call in books if line in span],
            any(line in span for line, _, _ in events),
            _software_state(body.src, s),
        ))  # fmt: skip
    balanced = _balanced(body, rest, books)
    whole = all((balanced or not b) and (r or e or not sw) for r, b, e, sw in kinds)
    if whole:
        return _whole(p, facts, a, hook, fn, rest, events)
    return _span(p, facts, a, hook, fn, rest, kinds)


def _balanced(body: guard_scan.Body, rest: list[tree_sitter.Node], books: list[tuple[int, str]]) -> bool:
    """Whether every acquire and release of a hook is paired inside it, on every path: the
    hook makes them itself (not through a helper), on the same argument, and each release
    is a statement of the body (a cleanup label's included), not an error branch's.  Both
    sides are then skipped together and the count holds."""
    top = set()
    for s in rest:
        for x in [s, *(s.named_children if s.type == "labeled_statement" else [])]:
            if x.type == "expression_statement":
                top.add(x.start_point[0] + 1)
    calls = [(line, call, args) for line in sorted({x for x, _ in books})
             for call, args in body.book_args.get(line, [])]  # fmt: skip
    if len(calls) != len(books):
        return False  # some come from a helper
    for line, call, args in calls:
        other = hookmodel.counterpart(call)
        mates = [(x, c) for x, c, a in calls if a == args and other and hookmodel.same_family(other, c)]
        if not mates:
            return False
        releases = [line] if hookmodel.is_release(call) else [x for x, _ in mates]
        if not any(x in top for x in releases):
            return False
    return True


def _idx(fn: Function) -> str:
    text = fn.src[fn.node.start_byte : fn.node.end_byte].decode(errors="replace")
    used = cindex.identifiers_in(text)
    return next((n for n in ("idx", "drm_idx", "dev_idx") if n not in used), "")


_Events = list[tuple[int, str, tuple[str, ...]]]


def _whole(p: Planning, facts: Facts, a: guards.Analysis, hook: guards.Hook, fn: Function,
           rest: list[tree_sitter.Node], events: _Events) -> list[Op]:  # fmt: skip
    """The guard at the top of the hook, the exits before its returns."""
    name, body = hook.function, a.bodies[hook.function]
    value = guard_scan.RETURN_BY_HOOK.get(hook.entry.hook, guard_scan.RETURN_BY_TYPE.get(fn.returns))
    if value is None:
        raise Refusal(f"{name}() returns {fn.returns}: the tool does not know what it should "
                      "return once the device is gone")  # fmt: skip
    first = rest[0]
    if first.type == "labeled_statement":
        raise Refusal(f"{name}() starts with a label")
    text = body.text()
    idx = _idx(fn)
    top = first.start_point[0] + 1
    drm = _drm_expr(facts, fn, top)
    if not idx or not drm:
        raise Refusal(f"no drm_device expression is valid at the top of {name}()"
                      if idx else f"{name}() has no free name for the guard's index")  # fmt: skip
    base = re.match(r"[&(\s]*(\w+)", drm)
    if base and base.group(1) != drm and _null_checked(text, base.group(1)):
        raise Refusal(f"{name}() checks {base.group(1)} for NULL, and the guard at its top would "
                      f"dereference it first ({drm}): place the guard after the check by hand")  # fmt: skip
    for n in cindex.walk(fn.node):
        if n.type == "return_statement" and any(_touches(a, body.src, x) for x in cindex.walk(n)):
            raise Refusal(f"{name}() returns the value of a call (line {n.start_point[0] + 1}), which must "
                          "stay inside the guard: rewrite it with a variable by hand")  # fmt: skip
    last = rest[-1]
    inner = last.named_children[-1] if last.type == "labeled_statement" and last.named_children else last
    # a void function's end counts as a return for spatch: the exits rule covers it
    if fn.returns != "void" and inner.type != "return_statement":
        raise Refusal(f"{name}() does not end with a return statement")
    ret = f"return {value};" if value else "return;"
    if events:
        ret = _deliver(fn, name, drm, top, events, ret)
    file = body.file
    return [
        Op("guard-enter", file, name, p.code(file, top).removesuffix("{").rstrip(),
           Args(column=first.start_point[1], drm=drm, idx=idx, return_=ret)),
        Op("guard-exit", file, name, "", Args(idx=idx)),
        Op("declare", file, name, "", Args(type="int", var=idx)),
    ]  # fmt: skip


def _deliver(fn: Function, name: str, drm: str, top: int, events: list[tuple[int, str, tuple[str, ...]]],
             ret: str) -> str:  # fmt: skip
    """The failure path of a hook that sends or arms the pending event: send it now, under
    the event lock, and clear it (vc4_hvs_atomic_flush())."""
    direct = [e for e in events if e[2]]
    if fn.returns != "void":
        raise Refusal(f"{name}() delivers the pending event and returns {fn.returns}")
    if len(direct) != len(events) or len({e[2] for e in direct}) != 1 or len(direct[0][2]) != 2:
        via = next((e[1] for e in events if not e[2]), "")
        raise Refusal(f"{name}() delivers the pending event through {via or 'several calls'}(): "
                      "send it when drm_dev_enter() fails by hand")  # fmt: skip
    crtc, event = direct[0][2]
    text = fn.src[fn.node.start_byte : fn.node.end_byte].decode(errors="replace")
    clear = event if re.search(r"(->|\.)\s*event$", event) else ""
    if not clear:
        m = re.search(r"([\w>.\-]+(?:->|\.)event)\s*=\s*NULL\s*;", text)
        clear = m.group(1) if m else ""
    for expr in (crtc, event, clear):
        root = re.match(r"[&(\s]*(\w+)", expr)
        v = fn.variables.get(root.group(1)) if root else None
        if not expr or v is None or not (v.param or any(x < top for x in v.set_at)):
            raise Refusal(f"{name}() delivers the pending event ({event}) with names not valid at its top: "
                          "send it when drm_dev_enter() fails by hand")  # fmt: skip
    lock = f"&{drm[1:]}.event_lock" if drm.startswith("&") else f"&{drm}->event_lock"
    return (
        f"{{ if ({event}) {{ spin_lock_irq({lock}); drm_crtc_send_vblank_event({crtc}, {event}); "
        f"{clear} = NULL; spin_unlock_irq({lock}); }} {ret} }}"
    )


def _span(p: Planning, facts: Facts, a: guards.Analysis, hook: guards.Hook, fn: Function,
          rest: list[tree_sitter.Node], kinds: list[tuple[bool, list[str], bool, bool]],
          ) -> list[Op]:  # fmt: skip
    """The register statements between the bookkeeping in `if (drm_dev_enter()) { }`."""
    name, body = hook.function, a.bodies[hook.function]
    at = [i for i, k in enumerate(kinds) if k[0]]
    if not at:
        raise Refusal(f"{name}() reaches hardware only inside a statement the tool cannot split")
    i, j = at[0], at[-1]
    for s, (r, b, e, sw) in zip(rest[i : j + 1], kinds[i : j + 1], strict=True):
        line = s.start_point[0] + 1
        if b:
            what = "both touches registers and calls" if r else "calls"
            raise Refusal(f"line {line} {what} {b[0]}() (refcounted) between its register accesses: "
                          "the guard would skip one side of the count")  # fmt: skip
        if e:
            raise Refusal(f"line {line} delivers the pending event between its register accesses")
        if s.type == "declaration":
            raise Refusal(f"line {line} declares a variable between its register accesses")
        if s.type == "compound_statement":
            raise Refusal(f"line {line} is a bare block (a loop macro's body?) between its register accesses")
        if any(n.type in _JUMPS for n in cindex.walk(s)):
            raise Refusal(f"line {line} leaves the function or jumps between its register accesses")
        if sw and not r:
            raise Refusal(f"line {line} updates software state between its register accesses, which the "
                          "guard would skip")  # fmt: skip
    set_inside = _assigned(body.src, rest[i : j + 1])
    after = set()
    for s in rest[j + 1 :]:
        after |= cindex.identifiers_in(body.src[s.start_byte : s.end_byte].decode(errors="replace"))
    locals_ = {v.name for v in fn.variables.values() if not v.param}
    leak = sorted((set_inside & after) & locals_)
    if leak:
        raise Refusal(f"{leak[0]} is set by its register accesses and used after them: "
                      "skipped, it would be used uninitialised")  # fmt: skip
    idx = _idx(fn)
    start = rest[i].start_point[0] + 1
    drm = _drm_expr(facts, fn, start)
    if not idx or not drm:
        raise Refusal(f"no drm_device expression is valid at line {start} of {name}()"
                      if idx else f"{name}() has no free name for the guard's index")  # fmt: skip
    end = rest[j].start_point[0] + 1
    file = body.file
    return [
        Op("guard-span", file, name, p.code(file, start).removesuffix("{").rstrip(),
           Args(column=rest[i].start_point[1], drm=drm, idx=idx,
                last=p.code(file, end).removesuffix("{").rstrip(), lines=end - start)),
        Op("declare", file, name, "", Args(type="int", var=idx)),
    ]  # fmt: skip


def _assigned(src: bytes, stmts: list[tree_sitter.Node]) -> set[str]:
    """The plain identifiers the statements assign, increment or pass by address."""
    out = set()
    for s in stmts:
        for n in cindex.walk(s):
            target = None
            if n.type == "assignment_expression":
                target = n.child_by_field_name("left")
            elif n.type == "update_expression" or (
                n.type == "pointer_expression" and src[n.start_byte : n.start_byte + 1] == b"&"
            ):
                target = n.child_by_field_name("argument")
            if target is not None and target.type == "identifier":
                out.add(src[target.start_byte : target.end_byte].decode())
    return out


def _null_checked(text: str, var: str) -> bool:
    """Whether a function's text tests `var` against NULL (`!var`, `var == NULL`, `if (var)`,
    IS_ERR_OR_NULL(var), ...)."""
    v = re.escape(var)
    return bool(
        re.search(
            rf"!\s*{v}\b(?!\s*(->|\.|\[))|\b{v}\s*[!=]=\s*NULL\b|\bNULL\s*[!=]=\s*{v}\b"
            rf"|IS_ERR_OR_NULL\(\s*{v}\s*\)|\bif\s*\(\s*{v}\s*\)",
            text,
        )
    )


def _touches(a: guards.Analysis, src: bytes, node: tree_sitter.Node) -> bool:
    """Whether `node` is a call that touches hardware or reaches a module function that may."""
    fn = node.child_by_field_name("function") if node.type == "call_expression" else None
    if fn is None:
        return False
    name = src[fn.start_byte : fn.end_byte].decode(errors="replace")
    if guard_scan.ACCESS.match(name) or guard_scan.BUS_ACCESS.match(name):
        return True
    return name in a.bodies and a.reach(name) is not None


def _drm_expr(facts: Facts, fn: Function, line: int) -> str:
    """The drm_device at `line` of a callback: what cfunc finds (a drm_device parameter,
    `crtc->dev`, the private struct's), else a pipe's, an atomic state's or a bridge's."""
    found = fn.drm_at(line, facts.index)
    if found and found != "data":
        return found
    for v in fn.variables.values():
        pattern = guard_scan.DRM_OF_PARAM.get(facts.index.canonical(v.type.name))
        if v.param and v.type.pointer == 1 and pattern:
            return pattern.format(v.name)
    return ""


def unplug_refusal(a: guards.Analysis, file: str, line: int, function: str) -> str:
    """Why the drm_dev_unregister() at `file:line` must not become drm_dev_unplug() ("" when
    it may): a teardown that frees what open files reach, clocks gated or IRQs freed before
    the shutdown commit, or a disable hook that a guard would skip at shutdown."""
    unsafe = a.unsafe_teardown()
    if unsafe:
        more = f" (and {len(unsafe) - 1} more)" if len(unsafe) > 1 else ""
        return (f"the teardown still frees what open files reach: {unsafe[0]}{more}; make it drm-lifetime "
                "safe first")  # fmt: skip
    early = a.early_teardown(file, function)
    if early:
        at, call = early[0]
        shut = a.shutdown[(file, function)][0]
        return (f"{function}() calls {call}() (line {at}) before drm_atomic_helper_shutdown() (line {shut}): "
                "the shutdown commit would touch gated or unpowered hardware; move the shutdown first "
                "by hand")  # fmt: skip
    for h in a.hooks():
        body = a.bodies.get(h.function)
        if h.role == "disable" and body is not None and body.guards:
            return (f"{h.function}() (.{h.entry.hook}) is guarded: after drm_dev_unplug() the "
                    "drm_atomic_helper_shutdown() would skip it and leave the hardware running")  # fmt: skip
    return ""
