"""The deciders of the memory, lock, action and guard rules: whether a candidate spatch
reported is a finding, with its message and the fix the tree supports.
"""

from __future__ import annotations

import re

from refactor.classify import guard_decider, hookmodel
from refactor.classify.classifier import Classifier
from refactor.classify.drm import ALLOC_HELPERS, DRMM_OF
from refactor.classify.facts import Facts, Verdict
from refactor.cocci.results import Match
from refactor.csrc import cindex, structs
from refactor.csrc.structs import CType, member_of


def _needs(c: Classifier, helper: str, fix: str) -> str:
    """`fix` when the tree declares `helper`, else why no fix is proposed."""
    return fix if c.api(helper) else f"none: the tree does not declare {helper}()"


def _tidy(expr: str) -> str:
    """spatch prints `a -> b . c`; show it as the driver writes it."""
    return re.sub(r"\s*(->|\.)\s*", r"\1", expr)


def _how(facts: Facts) -> str:
    return " (the driver allocates its drm_device with drm_dev_alloc())" if facts.unmanaged else ""


def _mode_object(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    elem = c.element(facts, m, data)
    if not elem.known or elem.pointer:
        return None
    kinds = facts.holds(elem.name)
    if not kinds or (facts.unmanaged and _is_private(c, facts, m, elem)):
        return None  # devm-drm-private reports the private struct of a drm_dev_alloc() driver
    named = [("an " if k[0] in "aeiou" else "a ") + k for k in kinds]
    what = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
    life = c.lifetime(facts.driver)
    teardown = life.removal_teardown
    bind_time = teardown is not None and _component_bind_memory(c, facts, m, data["alloc"])
    if teardown is None or (bind_time and life.unbinds_first(teardown)):
        message = (f"{elem.name} embeds {what} but comes from {data['alloc']}(): freed at unbind "
                   f"while the drm_device still uses it{_how(facts)}")  # fmt: skip
    elif bind_time:
        message = (f"{elem.name} embeds {what} but comes from {data['alloc']}() on the component's "
                   f"device in its bind: unbind destroys the objects first ({teardown.where()}), but "
                   "when a later component's bind fails, component_bind_all() releases this devres "
                   "group while the objects are still on the mode config's lists, and the mode config's "
                   f"cleanup then destroys freed memory{_how(facts)}")  # fmt: skip
    else:
        return None  # the removal path destroys the objects before devres frees their memory
    return Verdict(message, _mode_fix(c, elem.name, kinds, data["alloc"]), (("struct", elem.name),))


def _component_bind_memory(c: Classifier, facts: Facts, m: Match, alloc: str) -> bool:
    """Whether the allocation at `m` runs only from a component's .bind and is on that
    component's device (not on the drm_device's, the master's, whose devres group outlives
    the master's bind error path)."""
    life = c.lifetime(facts.driver)
    binds = {fn for fn, fields in life.tables.items() if "bind" in fields}
    if not life.only_from(c.function_at(m.file, m.line), binds):
        return False
    src, tree = c.source(m.file)
    call = next((x for x in cindex.calls(src, [alloc], tree) if x.line == m.line and x.args), None)
    if call is None:
        return False
    dev = re.match(r"^(.*?)\s*(?:->|\.)\s*dev$", " ".join(call.args[0].split()).lstrip("&"))
    if dev is None:
        return True  # a `dev` parameter: the component's device
    t = c.resolver(facts.index, m.file, m.line).type_of(dev.group(1))
    return not (t.known and t.name == "struct drm_device")


def _mode_fix(c: Classifier, struct: str, kinds: tuple[str, ...], alloc: str) -> str:
    """drmm_kzalloc() and the drmm_ inits (the documented pattern); a plane, for which trees
    offer no drmm_ init, with drmm_universal_plane_alloc()."""
    if kinds == ("plane",) and alloc in ("devm_kzalloc", "devm_kmalloc"):
        helper = ALLOC_HELPERS["plane"][0]
        if c.api(helper):
            return f"allocate {struct} with {helper}()"
    counterpart = DRMM_OF.get(alloc, "drmm_kzalloc")
    if not c.api(counterpart):
        return f"none: the tree does not declare {counterpart}()"
    inits = [ALLOC_HELPERS[k][1] for k in kinds if ALLOC_HELPERS[k][1] and c.api(ALLOC_HELPERS[k][1])]
    tail = f" and initialise with {', '.join(dict.fromkeys(i + '()' for i in inits))}" if inits else ""
    return f"allocate with {counterpart}(){tail}"


def _is_private(c: Classifier, facts: Facts, m: Match, elem: CType) -> bool:
    if elem.name in facts.private:
        return True
    s = facts.index.get(elem.name)
    holds_drm = s is not None and any(f.type == "struct drm_device" for f in s.fields)
    function = c.function_at(m.file, m.line)
    return holds_drm and any(not a.managed and a.file == m.file and a.function == function
                             for a in facts.driver.allocations)  # fmt: skip


def _drm_private(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    elem = c.element(facts, m, data)
    if not facts.unmanaged or not elem.known or elem.pointer or not _is_private(c, facts, m, elem):
        return None
    fix = _needs(
        c,
        "devm_drm_dev_alloc",
        f"embed the drm_device in {elem.name} and allocate both with devm_drm_dev_alloc()",
    )
    message = (f"{elem.name} holds the drm_device of a drm_dev_alloc() driver but comes from "
               f"{data['alloc']}(): freed at unbind while the drm_device lives on")  # fmt: skip
    return Verdict(message, fix)


def _mode_config(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    """A manual drm_mode_config_cleanup() on the removal or an error path of a tree where
    the mode config is managed anyway (drm_mode_config_init() wraps drmm_mode_config_init());
    one in a drm_driver.release hook or a drmm_ action runs at the final put and is right."""
    if not c.api("drmm_mode_config_init"):
        return None
    found = next((x for x in c.lifetime(facts.driver).cleanups
                  if x.site.file == m.file and x.site.line == m.line), None)  # fmt: skip
    if found is None or found.path in ("release", "unknown"):
        return None  # unknown: no removal root reaches it, so no path is asserted
    if found.path == "error":
        why = ("the managed mode config already cleans up at the final drm_dev_put(), and this call "
               "runs the .destroy hook of every mode object, which drmm_ objects must not have")  # fmt: skip
    else:
        why = ("the mode objects are torn down at unbind while an open file can still reach them; the "
               "managed mode config already cleans up at the final drm_dev_put()")  # fmt: skip
    fix = ("remove every manual drm_mode_config_cleanup() of the driver, once every mode object lives in "
           "drm-lifetime memory without a .destroy hook")  # fmt: skip
    return Verdict(f"drm_mode_config_cleanup() by hand in {found.where()}: {why}{_how(facts)}", fix,
                   (("path", found.path),))  # fmt: skip


def _mutex(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    lock = " ".join(data.get("lock", "").split())
    container, member = member_of(lock)
    if not container:
        return None
    holder, _ = c.resolver(facts.index, m.file, m.line).struct_of(container)
    if holder is None or holder.name not in facts.reachable:
        return None
    if data.get("call") == "mutex_init":
        for call in c.calls(facts.driver, "mutex_destroy"):
            if call.args and _destroys(c, facts, call, member, holder.name):
                return None  # destroyed by hand somewhere in the module
        why = "no mutex_destroy() in the module"
    else:
        why = "devm_ destroys it at unbind while the drm_device still uses it"
    fix = (
        "use drmm_mutex_init()"
        if c.api("drmm_mutex_init")
        else "none: the tree does not declare drmm_mutex_init()"
    )
    where = f"{_tidy(lock)} in {facts.index.display(holder.name)}"
    model = c.lifetime(facts.driver)
    _, base = model.base(m.file, m.line, lock)
    freed = next((s for s, _, struct in model.frees if struct and struct in (holder.name, base)), None)
    if freed is not None and data.get("call") == "mutex_init":
        return Verdict(f"mutex_init() of {where}, which the driver frees itself "
                       f"({freed.code.split('(')[0]}() in "
                       f"{freed.function}(), {freed.file}:{freed.line}) with no mutex_destroy() before",
                       "destroy it with mutex_destroy() before the struct is freed")  # fmt: skip
    hook = model.drm_release_hook() if data.get("call") == "mutex_init" else ""
    if hook and model.calls(["mutex_destroy"]):
        fix = f"destroy it with mutex_destroy() in {hook}(), the drm release hook, as its other locks"
    return Verdict(f"{data.get('call')}() of {where}, which lives as long as the drm_device: "
                   f"{why}{_how(facts)}", fix)  # fmt: skip


def _destroys(c: Classifier, facts: Facts, call: cindex.Call, member: str, holder: str) -> bool:
    """Whether a mutex_destroy() is of `member` of the struct `holder`: the same member name
    in a struct of the same type (radeon's vm->mutex is not its gem.mutex or pm.mutex), or
    of the same name when the destroyed lock's container does not resolve."""
    container, name = member_of(call.args[0].lstrip("&").strip())
    if name != member:
        return False
    # the files that do not name the function cannot define it: their spans are not needed
    file = next((f for f in facts.driver.module.files if call.function and call.function.encode() in c.data(f)
                 and c.function_at(f, call.line) == call.function), "")  # fmt: skip
    if not file or not container:
        return True
    struct, _ = c.resolver(facts.index, file, call.line).struct_of(container)
    return struct is None or struct.name == holder


_TEARDOWN = re.compile(r"^drm_\w*_(cleanup|fini|takedown|release|put|destroy|unregister|remove|free)$")


_FREES = ("kfree", "kvfree", "vfree", "kfree_sensitive", "mutex_destroy", "idr_destroy", "ida_destroy")


# callers followed up from a user of the memory to a drm_dev_enter() section (gud: the
# compression buffer is used three calls below the guarded flush worker)
_CALLER_DEPTH = 4


def users_stop_at_unbind(c: Classifier, facts: Facts, member: str, skip: set[str]) -> bool:
    """Whether every user of the struct member `member` (a function naming `->member` or
    `.member`, other than those in `skip` and the helpers only they call) is a devm_
    action (device-lifetime teardown), or runs inside drm_dev_enter() (itself, or every
    caller in the module, through ops tables too) in a driver that calls drm_dev_unplug(),
    as drm_drv.c documents, or is a mode object's hook (not a release one) of such a driver
    whose removal then runs drm_atomic_helper_shutdown() (`guard_decider.commit_hooks()`:
    no commit starts after the unplug and the shutdown commit waits for the one in flight);
    a disable hook counts as guarded (after unplug it runs only from the removal's shutdown
    commit, while devres is still alive).  False when nothing uses it."""
    life = c.lifetime(facts.driver)
    use = re.compile(rf"(->|\.)\s*{re.escape(member)}\b".encode())
    actions = life.actions(("devm_add_action", "devm_add_action_or_reset"))
    unplugs = bool(c.calls(facts.driver, "drm_dev_unplug"))
    bodies, callers = c.functions(facts.driver)
    # (a helper called only from a skipped function, the probe's buffer allocator, is set-up
    # too, unless it is also a devm_ action: simpledrm's detach_genpd, called on the probe's
    # error path and registered for unbind, is a user, a device-lifetime one)
    users = [n for n, b in bodies.items() if n not in skip and use.search(b)
             and (n in actions or not life.only_from(n, skip))]  # fmt: skip
    if not users:
        return False

    # the commit hooks of a driver that removes with drm_dev_unplug() and the shutdown commit
    entries = guard_decider.commit_hooks(c, facts) if unplugs else set()

    def guarded(name: str, depth: int = 0) -> bool:
        if b"drm_dev_enter(" in bodies.get(name, b"") or name in entries:
            return True
        fields = life.tables.get(name, set())
        if fields and all(hookmodel.role(f, "") == "disable" for f in fields):
            return True
        up = callers.get(name, set()) - {name}
        for op in fields:  # a driver ops table: called as ->op()
            call = re.compile(rf"(->|\.)\s*{op}\s*\(".encode())
            up |= {n for n, b in bodies.items() if n != name and call.search(b)}
        return depth < _CALLER_DEPTH and bool(up) and all(guarded(x, depth + 1) for x in up)

    return all(u in actions or (unplugs and guarded(u)) for u in users)


def _action_members(c: Classifier, facts: Facts, action: str, calls: set[str]) -> set[str]:
    """The struct members (`->buf` in `vfree(g->buf)`) the action passes to `calls`."""
    bodies, _ = c.functions(facts.driver)
    body = bodies.get(action, b"").decode(errors="replace")
    out = set()
    for name in calls:
        for hit in re.finditer(rf"\b{re.escape(name)}\s*\(([^;]*)\)\s*;", body):
            out |= set(re.findall(r"(?:->|\.)\s*(\w+)\s*(?=[,)&]|$)", hit.group(1)))
    return out


def _devm_action(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    """The action tears down DRM state (a drm_*_cleanup/fini/put/... call, one level of the
    module's own helpers deep), or frees memory while its data is the drm device.  Quiescing
    the hardware (drm_atomic_helper_shutdown()) belongs at unbind and is not reported."""
    action, arg = data.get("action", ""), data.get("arg", "")
    called = c.called_in_module(facts.driver, action)
    if called is None:
        return None
    deeper = set(called)
    for name in called:
        deeper |= c.called_in_module(facts.driver, name) or set()
    teardown = sorted(n for n in deeper if _TEARDOWN.match(n))
    argtype = c.resolver(facts.index, m.file, m.line).type_of(arg) if arg else structs.UNKNOWN
    is_drm = argtype.known and (argtype.name == "struct drm_device" or argtype.name in facts.private)
    frees = sorted(n for n in called if n in _FREES)
    # what the action tears down or frees, when every user of it is guarded in a driver that
    # unplugs (or is another devm_ action), is gone only once nothing can reach it any more
    direct = {n for n in called if _TEARDOWN.match(n) or n in _FREES}
    members = _action_members(c, facts, action, direct)
    if members and set(teardown) <= direct and all(
            users_stop_at_unbind(c, facts, x, {action, c.function_at(m.file, m.line)})
            for x in members):  # fmt: skip
        return None
    if teardown:
        reason = f"{action}() calls {', '.join(teardown[:3])}()"
    elif is_drm and frees:
        reason = f"{action}() frees state of the drm device ({_tidy(arg)}) with {', '.join(frees)}()"
    else:
        return None
    fix = _needs(
        c, "drmm_add_action_or_reset", "register the action with drmm_add_action_or_reset() on the drm_device"
    )
    return Verdict(
        f"{data.get('call')}() runs at unbind, before the drm_device is released, and {reason}", fix
    )


def _unbound(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    source = data.get("source", "")
    if data.get("callee") and not _allocates_on(c, facts, m, data["callee"], data.get("parent", "")):
        return None  # the parent is handed to a call that does not allocate on it
    if source.startswith("platform_device"):
        bound = any(
            c.calls(facts.driver, n)
            for n in (
                "__platform_driver_register",
                "platform_driver_register",
                "platform_register_drivers",
                "module_platform_driver",
            )
        )
        name = _device_name(c, facts, data.get("parent", ""), source)
        if bound and name and not _driver_named(c, facts, name):
            bound = False  # the module's platform drivers bind other devices (rocket's cores)
        if bound:
            return None  # the module's own platform driver binds to it
    callee = data.get("callee", "")
    via = f" (handed to {callee}(), which calls devm_drm_dev_alloc() on it)" if callee else ""
    message = (f"the parent device comes from {source}(){via} and never has a driver bound: its devres "
               "is only released on its final put, which waits for the drm_device, which waits for "
               "devres, so nothing is ever freed")  # fmt: skip
    return Verdict(message, "none (report only): bind a driver to the parent (a platform device and driver), "
                            "or use drm_dev_alloc() with an explicit drm_dev_put()")  # fmt: skip


def _allocates_on(c: Classifier, facts: Facts, m: Match, callee: str, parent: str) -> bool:
    """Whether the module's function `callee`, called at `m` with `parent` as an argument,
    calls devm_drm_dev_alloc() on that parameter (`&pdev->dev`, or a local set to it)."""
    src, tree = c.source(m.file)
    call = next((x for x in cindex.calls(src, [callee], tree) if x.line == m.line), None)
    want = re.sub(r"\s+", "", parent)
    if call is None or want not in [re.sub(r"\s+", "", a) for a in call.args]:
        return False
    index = [re.sub(r"\s+", "", a) for a in call.args].index(want)
    bodies, _ = c.functions(facts.driver)
    body = bodies.get(callee, b"").decode(errors="replace")
    head = re.match(rf"[^(]*\b{re.escape(callee)}\s*\(([^)]*)\)", body, re.S)
    params = [re.findall(r"(\w+)\s*$", x.strip()) for x in head.group(1).split(",")] if head else []
    if index >= len(params) or not params[index]:
        return False
    param = params[index][0]
    devs = {param, f"&{param}->dev"}
    for local in re.findall(rf"\b(\w+)\s*=\s*&\s*{param}\s*->\s*dev\s*;", body):
        devs.add(local)
    for hit in re.finditer(r"\b(?:__)?devm_drm_dev_alloc\s*\(\s*([^,]+),", body):
        if re.sub(r"\s+", "", hit.group(1)) in devs:
            return True
    return False


def _device_name(c: Classifier, facts: Facts, parent: str, source: str) -> str:
    """The name string a platform device is registered with (`"rknn"`), "" when the call
    does not take it first."""
    if source not in ("platform_device_register_simple", "platform_device_register_data",
                      "platform_device_register_resndata", "platform_device_alloc"):  # fmt: skip
        return ""
    first = 1 if source == "platform_device_register_resndata" else 0
    for f in facts.driver.module.files:
        text = c.data(f).decode(errors="replace")
        hit = re.search(rf"\b{re.escape(parent.strip())}\s*=\s*{source}\s*\(((?:[^,()]*,){{{first}}})\s*"
                        r'("[^"]*")', text)  # fmt: skip
        if hit:
            return hit.group(2)
    return ""


def _driver_named(c: Classifier, facts: Facts, name: str) -> bool:
    """Whether a driver or a platform_device_id table of the module carries `name` (how a
    platform device without a firmware node finds its driver)."""
    pattern = re.compile(rf"\.name\s*=\s*{re.escape(name)}|\{{\s*{re.escape(name)}\s*[,}}]")
    for f in facts.driver.module.files:
        text = c.data(f).decode(errors="replace")
        blocks = re.finditer(r"struct\s+(platform_driver|platform_device_id)\s+\w+(\[\])?\s*=\s*"
                             r"\{(.*?)\n\}\s*;", text, re.S)  # fmt: skip
        for block in blocks:
            if pattern.search(block.group(3)):
                return True
    return False


def _hw_access(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    found = guard_decider.hw_verdict(c, facts, data.get("fn", ""))
    if found is None:
        return None
    message, fix, file, line = found
    # in a driver that unplugs, only a call already in flight at drm_dev_unplug() outlasts
    # it (the message says so): a narrower race than hooks that any open file still calls
    low = "low" if guard_decider.analyse(c, facts).unplugs() else ""
    return Verdict(message, fix, (("entry", data.get("fn", "")),), file, line, confidence=low)


def _unplug(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    found = guard_decider.unplug_verdict(c, facts, m.file, m.line, c.function_at(m.file, m.line))
    return None if found is None else Verdict(*found)
