"""The decider of `unmanaged-mode-object`: a drm_*_init() with a hand-written `.destroy`
or cleanup where a drmm_ init exists, and where the object's memory lives.
"""

from __future__ import annotations

import re

from refactor.classify import guards
from refactor.classify.classifier import Classifier
from refactor.classify.deciders import _component_bind_memory, _how
from refactor.classify.drm import ALLOC_HELPERS, DRMM_OF
from refactor.classify.facts import Facts, Verdict
from refactor.cocci.results import Match
from refactor.csrc import cindex

# unmanaged init -> (mode object kind, index of its funcs-table argument; -1: none)
_OBJECT_INITS = {
    "drm_crtc_init_with_planes": ("CRTC", 4),
    "drm_universal_plane_init": ("plane", 3),
    "drm_encoder_init": ("encoder", 2),
    "drm_simple_encoder_init": ("encoder", -1),
    "drm_connector_init": ("connector", 2),
    "drm_connector_init_with_ddc": ("connector", 2),
    "drm_writeback_connector_init": ("writeback connector", 2),
}


_OBJECT_CLEANUP = {
    "CRTC": "drm_crtc_cleanup",
    "plane": "drm_plane_cleanup",
    "encoder": "drm_encoder_cleanup",
    "connector": "drm_connector_cleanup",
    "writeback connector": "drm_connector_cleanup",
}


_PLAIN_ALLOCS = ("kzalloc", "kmalloc", "kcalloc", "kmalloc_array", "kmemdup", "kzalloc_obj", "kmalloc_obj")


_HAND_FREES = ("kfree", "kvfree", "kfree_sensitive")


def _object_memory(c: Classifier, m: Match, call: cindex.Call) -> tuple[str, str]:
    """(the allocation call of the object's memory in the init's function, the variable
    holding it); ("", root) when that function does not allocate it."""
    obj = call.args[1] if len(call.args) > 1 else ""
    root = re.match(r"[&(\s]*(\w+)", obj)
    if root is None:
        return "", ""
    names = [root.group(1)]
    src, tree = c.source(m.file)
    fn = cindex.function_node_at(tree.root_node, call.line)
    body = src[fn.start_byte : fn.end_byte].decode(errors="replace") if fn is not None else ""
    alias = re.search(rf"\b{names[0]}\s*=\s*&\s*\(?\s*(\w+)\s*(?:->|\.)", body)
    if alias:  # `encoder = &priv->base;` before the init
        names.append(alias.group(1))
    allocs = [*_PLAIN_ALLOCS, *DRMM_OF, *DRMM_OF.values(), "devm_kmemdup"]
    for a in cindex.calls(src, allocs, tree):
        if a.function == call.function and a.line < call.line:
            target = re.match(r"[(\s]*(\w+)", a.assigned_to)
            if target and target.group(1) in names and "->" not in a.assigned_to and "." not in a.assigned_to:
                return a.name, target.group(1)
    return "", names[-1]


def _funcs_hook(c: Classifier, facts: Facts, funcs: str) -> str:
    """The `.destroy` of the named funcs table(s) (each of `cond ? &a : &b`), "" for none."""
    for table in re.findall(r"&?\s*(\w+)", funcs):
        for _, body in c.tables(facts.driver, table):
            hook = re.search(r"\.destroy\s*=\s*(\w+)", body)
            if hook:
                return hook.group(1)
    return ""


def _object_fix(c: Classifier, kind: str, simple: bool) -> str:
    """The drmm_ allocator or init that replaces the hand-written lifetime ("" when the tree
    declares none)."""
    allocators = {"CRTC": ["drmm_crtc_alloc_with_planes"], "plane": ["drmm_universal_plane_alloc"],
                  "encoder": ["drmm_simple_encoder_alloc", "drmm_encoder_alloc"] if simple
                  else ["drmm_encoder_alloc"]}  # fmt: skip
    for helper in allocators.get(kind, []):
        if c.api(helper):
            return f"allocate with {helper}()"
    inits = {
        "CRTC": "drmm_crtc_init_with_planes",
        "encoder": "drmm_encoder_init",
        "connector": "drmm_connector_init",
        "writeback connector": "drmm_writeback_connector_init",
    }
    init = inits.get(kind)
    if init and c.api(init) and c.api("drmm_kzalloc"):
        return f"allocate with drmm_kzalloc() and initialise with {init}()"
    return ""


def _unmanaged_object(c: Classifier, facts: Facts, m: Match, data: dict[str, str]) -> Verdict | None:
    """A mode object whose memory the driver frees by hand: kzalloc() memory freed in the
    funcs table's .destroy hook, or by a kfree() elsewhere in the module, in a tree that
    declares the drmm_ helper.  devm_ memory is devm-mode-object's; drm-lifetime memory
    (drmm_, the private struct) with a hook that only cleans up is right as it is."""
    name = data.get("call", "")
    if name not in _OBJECT_INITS:
        return None
    kind, slot = _OBJECT_INITS[name]
    src, tree = c.source(m.file)
    call = next((x for x in cindex.calls(src, [name], tree) if x.line == m.line), None)
    if call is None or len(call.args) < 2:
        return None
    alloc, var = _object_memory(c, m, call)
    funcs = call.args[slot] if 0 <= slot < len(call.args) else ""
    hook = _funcs_hook(c, facts, funcs) if funcs else ""
    other = _other_shape(c, facts, m, name, kind, alloc, hook)
    if other is not None:
        return other
    if alloc.startswith(("devm_", "drmm_")):
        return None  # devm-mode-object's, or drm-lifetime memory
    # a funcs table with .destroy alone is a simple encoder's (drmm_simple_encoder_alloc())
    simple = name == "drm_simple_encoder_init" or (
        kind == "encoder" and bool(hook) and _only_destroy(c, facts, funcs)
    )
    fix = _object_fix(c, kind, simple)
    if not fix:
        return None  # the tree declares no drmm_ counterpart
    cleanup = _OBJECT_CLEANUP[kind]
    frees = False
    if hook and hook != cleanup:
        called = c.called_in_module(facts.driver, hook) or set()
        deeper = set(called)
        for n in called:
            deeper |= c.called_in_module(facts.driver, n) or set()
        frees = cleanup in deeper and bool(deeper & set(_HAND_FREES))
    memory = f"{alloc}() memory" if alloc else "memory the driver allocates itself"
    what = ("an " if kind[0] in "aeiou" else "a ") + kind
    if frees:
        if not alloc and var and _is_drm_lifetime(c, facts, m, var):
            return None  # the hook frees a part of the drm device: not this rule's shape
        message = f"{what} in {memory}, cleaned up and freed by hand in its .destroy hook {hook}()"
        cleanups = c.lifetime(facts.driver).cleanups
        manual = sorted({x.site.function + "()" for x in cleanups
                         if x.site.function and x.path not in ("release", "unknown")})  # fmt: skip
        if cleanups and not manual:
            return None  # every cleanup runs at release, or no removal root reaches it
        if manual:
            message += (f"; the driver calls drm_mode_config_cleanup() itself (in {', '.join(manual)}), "
                        "and the hook runs then, not at the drm_device's release")  # fmt: skip
        else:
            message += (", which is right only while the mode config is cleaned up at the drm_device's "
                        "release; the drmm_ helper makes it so by construction")  # fmt: skip
    elif alloc:
        where = _freed_elsewhere(c, facts, m, var, call.function, hook)
        if not where:
            return None
        message = (f"{what} in {alloc}() memory freed with kfree() in {where}(), outside its cleanup hook: "
                   "the drm_device links the object until drm_mode_config_cleanup() runs")  # fmt: skip
    else:
        return None
    drop = f"; drop .destroy = {hook} from the funcs table (drmm_ objects must not have one)" if hook else ""
    detail = (("kind", kind), ("hook", hook), ("alloc", alloc))
    return Verdict(message + _how(facts), fix + drop, detail)


# the drmm_ init that takes the same arguments (drm_simple_encoder_init(): funcs NULL)
_DRMM_INIT = {"drm_crtc_init_with_planes": "drmm_crtc_init_with_planes",
              "drm_encoder_init": "drmm_encoder_init", "drm_simple_encoder_init": "drmm_encoder_init",
              "drm_connector_init": "drmm_connector_init",
              "drm_connector_init_with_ddc": "drmm_connector_init"}  # fmt: skip


def _embedded(c: Classifier, facts: Facts, m: Match, name: str, kind: str, hook: str) -> Verdict | None:
    """A mode object embedded in the struct that embeds the drm_device (drm-lifetime
    memory), set up with drm_*_init() and a `.destroy` that is only drm_*_cleanup() (or
    drm_simple_encoder_init()'s): the mode config calls the hook, at the final put when it
    is managed, at unbind when the driver cleans it up by hand; the drmm_ init of the same
    arguments registers the cleanup with the drm_device itself (what upstream converted
    vkms, hibmc, malidp to).  Low: nothing is freed early while the config is managed."""
    init = _DRMM_INIT.get(name, "")
    cleanup = _OBJECT_CLEANUP[kind]
    implicit = cleanup if name == "drm_simple_encoder_init" else ""  # its funcs' .destroy
    if not init or not c.api(init) or (hook or implicit) != cleanup:
        return None
    life = c.lifetime(facts.driver)
    obj = next((o for o in life.mode_objects if o.site.file == m.file and o.site.line == m.line), None)
    # `&x->y->obj` lives in *x->y, not in x: only objects right inside the struct are this shape
    if obj is None or obj.memory != "drm-device" or not obj.struct or obj.expr.count("->") > 1:
        return None
    what = ("an " if kind[0] in "aeiou" else "a ") + kind
    simple = name == "drm_simple_encoder_init"
    by = "the .destroy of drm_simple_encoder_init()'s funcs," if simple else "its .destroy hook"
    manual = sorted({x.site.function + "()" for x in life.cleanups if x.path not in ("release", "unknown")})
    message = (f"{what} embedded in {obj.struct}, which lives as long as the drm_device, set up with "
               f"{name}() and cleaned up only by {by} {cleanup}()")  # fmt: skip
    if manual:
        message += (f", which the driver's own drm_mode_config_cleanup() (in {', '.join(manual)}) runs "
                    "before the final drm_dev_put()")  # fmt: skip
    else:
        message += (": right while the mode config is cleaned up at the final drm_dev_put(); "
                    f"{init}() registers that cleanup with the drm_device itself")  # fmt: skip
    drop = f"; drop .destroy = {hook} from the funcs table (drmm_ objects must not have one)" if hook else ""
    args = ", with the funcs NULL" if name == "drm_simple_encoder_init" else ""
    detail = (("kind", kind), ("hook", hook), ("alloc", ""), ("shape", "embedded"))
    return Verdict(message + _how(facts), f"initialise with {init}(){args}{drop}", detail)


def _other_shape(c: Classifier, facts: Facts, m: Match, name: str, kind: str, alloc: str,
                 hook: str) -> Verdict | None:  # fmt: skip
    """The object embedded in the drm_device's struct, or in devm_ memory of a driver that
    tears its mode config down by hand at removal."""
    embedded = None if alloc.startswith("devm_") else _embedded(c, facts, m, name, kind, hook)
    return embedded or _torn_down(c, facts, m, name, kind)


_DEVM_ALLOCS = ("devm_kzalloc", "devm_kmalloc", "devm_kcalloc", "devm_kmalloc_array")


def _torn_down(c: Classifier, facts: Facts, m: Match, name: str, kind: str) -> Verdict | None:
    """A mode object in devm_ memory of a driver whose removal path destroys every mode
    object by hand (a drm_mode_config_cleanup() in remove/unbind/.unload) before devres
    frees that memory: nothing is freed under the object today, so devm-mode-object stays
    silent, but that manual cleanup (itself unmanaged-mode-config's finding) can only go
    once the object is drm-lifetime.  Memory of a component's bind, which its error path
    frees first, is devm-mode-object's."""
    life = c.lifetime(facts.driver)
    teardown = life.removal_teardown
    obj = next((o for o in life.mode_objects if o.site.file == m.file and o.site.line == m.line), None)
    if teardown is None or obj is None or obj.memory != "devm" or not obj.struct:
        return None
    allocs = [(rel, a) for rel, a in life.calls(_DEVM_ALLOCS)
              if a.assigned_to and life.struct_of(rel, a.line, a.assigned_to) == obj.struct]  # fmt: skip
    if not allocs or any(_component_bind_memory(c, facts, Match(rel, a.line, 0, 0, ""), a.name)
                         for rel, a in allocs):  # fmt: skip
        return None
    # freed by hand outside its allocation's and init's error paths (kirin's devm_kfree() before
    # its cleanup): not "destroyed first"
    setup = {a.function for _, a in allocs} | {obj.site.function}
    if any(struct == obj.struct and site.function not in setup for site, _, struct in life.frees):
        return None
    rel, first = allocs[0]
    what = ("an " if kind[0] in "aeiou" else "a ") + kind
    message = (f"{what} in devm_ memory ({obj.struct}, {first.name}() in {first.function}()), set up with "
               f"{name}(): {teardown.where()} destroys it before devres frees that memory, but this "
               "manual drm_mode_config_cleanup() tears the mode objects down while an open file can "
               "still reach them, and it can only go once the object is drm-lifetime")  # fmt: skip
    alloc_helper, init_helper = ALLOC_HELPERS.get(kind, ("", ""))
    if alloc_helper and obj.struct.startswith("struct drm_") and c.api(alloc_helper):
        fix = f"allocate its container with {alloc_helper}()"
    elif init_helper and c.api(init_helper) and c.api("drmm_kzalloc"):
        fix = f"allocate {obj.struct} with drmm_kzalloc() and initialise with {init_helper}()"
    else:
        return None
    fix += ", then drop the manual drm_mode_config_cleanup()"
    detail = (("kind", kind), ("hook", obj.destroy), ("alloc", first.name), ("shape", "torn-down"))
    return Verdict(message + _how(facts), fix, detail)


def _only_destroy(c: Classifier, facts: Facts, funcs: str) -> bool:
    table = re.fullmatch(r"&?\s*(\w+)", funcs.strip())
    found = c.tables(facts.driver, table.group(1)) if table else ()
    return bool(found) and re.findall(r"\.(\w+)\s*=", found[0][1]) == ["destroy"]


def _is_drm_lifetime(c: Classifier, facts: Facts, m: Match, var: str) -> bool:
    ctype = c.resolver(facts.index, m.file, m.line).type_of(var)
    return ctype.known and (ctype.name == "struct drm_device" or ctype.name in facts.private)


def _freed_elsewhere(c: Classifier, facts: Facts, m: Match, var: str, init_fn: str, hook: str) -> str:
    """A function of the module's removal path (.remove/.unbind and what they call; not the
    init's, whose kfree() unwinds errors, nor the hook) that kfree()s memory of the type
    `var` has at the init.  A kfree() in another init's error path or in a hook's helper
    is not the removal freeing this object."""
    ctype = c.resolver(facts.index, m.file, m.line).type_of(var)
    if not ctype.known or ctype.name == "struct drm_device" or ctype.name in facts.private:
        return ""
    removal = guards.analyse(c, facts).removal()
    for file in facts.driver.module.files:
        for x in c.file_calls(file, ("kfree",)):
            if x.function in (init_fn, hook, "") or x.function not in removal or not x.args:
                continue
            t = c.resolver(facts.index, file, x.line).type_of(x.args[0])
            if t.known and t.name == ctype.name and t.pointer == ctype.pointer:
                return x.function
    return ""
