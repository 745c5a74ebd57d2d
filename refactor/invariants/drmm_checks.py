"""The lifetime invariants of the drmm_ fix families, for the semantic stage.

Each check reads the driver's files (every .c/.h of its module directories) before and
after a patch through the lifetime model (`lifetime.py`) and reports what the patch
breaks: a violation counts only when the patch brings it (it is not there before), except
that a mode-config patch must also leave no manual cleanup behind that calls the missing
`.destroy` hooks of drmm_ objects (the whole point of that patch).
"""

from __future__ import annotations

import contextlib
import difflib
import re
import threading
from collections.abc import Callable, Iterator

from refactor.classify.lifetime import Module, Site
from refactor.csrc import cindex
from refactor.csrc.cfunc import Function
from refactor.invariants.types import Change, Violation

# a call that takes down what its first argument names
_TEARDOWN = re.compile(r"(_cleanup|_fini|_takedown|_destroy|_uninit|_release|_remove|_unregister|_free|_exit|"
                       r"_disable|_disable_unprepare|_put|_del)$")  # fmt: skip
Key = tuple[str, ...]


_held = threading.local()  # the models of the change being checked, per thread (see held())


@contextlib.contextmanager
def held(change: Change) -> Iterator[None]:
    """Build the before/after models of `change` once for every check run inside (each
    model parses every file of the driver's directories), and drop them after."""
    _held.change, _held.models = change, None
    try:
        yield
    finally:
        _held.change = _held.models = None


def modules(change: Change) -> tuple[Module, Module]:
    """The driver's files before and after the patch (once per change inside `held()`)."""
    if getattr(_held, "change", None) is change:
        if _held.models is None:
            _held.models = _modules(change)
        models: tuple[Module, Module] = _held.models
        return models
    return _modules(change)


def _modules(change: Change) -> tuple[Module, Module]:
    after: dict[str, bytes] = {}
    for d in change.paths:
        base = change.root / d
        for p in sorted(base.iterdir()) if base.is_dir() else []:
            if p.suffix in (".c", ".h") and p.is_file():
                after[f"{d}/{p.name}"] = p.read_bytes()
    for rel, text in change.after.items():
        if rel.endswith((".c", ".h")):
            after[rel] = text.encode(errors="surrogateescape")
    before = dict(after)
    for rel, text in change.before.items():
        if rel.endswith((".c", ".h")):
            before[rel] = text.encode(errors="surrogateescape")
    return Module({k: v for k, v in before.items() if v}), Module({k: v for k, v in after.items() if v})


def _introduced(change: Change, find: Callable[[Module], dict[Key, Violation]]) -> list[Violation]:
    before, after = modules(change)
    old = find(before)
    return [v for k, v in find(after).items() if k not in old]


# -- drmm-managed memory freed by hand ---------------------------------------------------
def _freed(m: Module) -> dict[Key, Violation]:
    out: dict[Key, Violation] = {}
    drmm_mem = {s for s, kinds in m.allocations.items() if kinds == frozenset({"drmm"})}
    locked = {x.struct: x for x in m.locks if x.call == "drmm_mutex_init" and x.struct}
    for site, arg, struct in m.frees:
        name = site.code.split("(")[0]
        if struct in locked and struct not in {"struct drm_device"}:
            lock = locked[struct]
            out[("lock", site.file, site.function, site.code)] = Violation(
                "drmm-freed-by-hand", site.file, site.line,
                f"{site.function}() frees {arg} ({struct}) with {name}(), but its {lock.lock} has a "
                f"drmm_mutex_init() release action ({lock.site.file}:{lock.site.line}) that runs on the "
                "freed "
                "memory at the final drm_dev_put()")  # fmt: skip
        elif name != "drmm_kfree" and (struct in drmm_mem or _same_pointer(m, site, arg)):
            what = f"{struct}, drmm_ memory" if struct in drmm_mem else "drmm_ memory"
            out[("mem", site.file, site.function, site.code)] = Violation(
                "drmm-freed-by-hand", site.file, site.line,
                f"{site.function}() frees {arg} ({what}) with {name}(): drmm_ frees it again at the final "
                "drm_dev_put()")  # fmt: skip
    return out


def _same_pointer(m: Module, site: Site, arg: str) -> bool:
    """`arg` is where a drmm_ allocation was stored: the same member expression anywhere in
    the module, or the same local variable in the same function."""
    want = arg.replace(" ", "")
    for rel, call in m.calls(("drmm_kzalloc", "drmm_kmalloc", "drmm_kcalloc", "drmm_kmalloc_array")):
        if call.assigned_to.replace(" ", "") == want and (
            "->" in want or "." in want or (rel, call.function) == (site.file, site.function)
        ):
            return True
    return False


def drmm_freed_by_hand(change: Change) -> list[Violation]:
    """No drmm_ memory freed with kfree()/devm_kfree(), and no memory holding a lock with a
    drmm_mutex_init() release action freed by any means (xe_pxp's error path)."""
    return _introduced(change, _freed)


# -- a new goto to a label that unwinds what is not set up yet -----------------------------
def goto_unwinds_uninitialised(change: Change) -> list[Violation]:
    """A `goto` the patch adds must not reach a teardown of something the function only
    sets up after the goto (armada: `drm_mm_takedown()` of a drm_mm not yet initialised)."""
    out = []
    for rel, text in change.after.items():
        if not rel.endswith(".c"):
            continue
        lines = text.splitlines()
        added = _added_lines(change.before.get(rel, "").splitlines(), lines)
        src = text.encode(errors="surrogateescape")
        tree = cindex.parse(src)
        for n in sorted(added):
            m = re.search(r"\bgoto\s+(\w+)\s*;", lines[n - 1])
            if not m:
                continue
            fn = Function.at(src, tree, n)
            if fn is None:
                continue
            out.extend(_unwinds_later(rel, fn, n, m.group(1)))
    return out


def _added_lines(old: list[str], new: list[str]) -> set[int]:
    """1-based numbers of the lines of `new` that the patch added."""
    out: set[int] = set()
    for tag, _, _, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag in ("replace", "insert"):
            out.update(range(j1 + 1, j2 + 1))
    return out


def _unwinds_later(rel: str, fn: Function, at: int, label: str) -> list[Violation]:
    src = fn.src
    node = next((x for x in cindex.walk(fn.node) if x.type == "labeled_statement"
                 and src[x.child_by_field_name("label").start_byte:x.child_by_field_name("label").end_byte]  # type: ignore[union-attr]
                 .decode() == label), None)  # fmt: skip
    if node is None:
        return []
    first = node.start_point[0] + 1
    calls = [c for c in cindex.calls(src, _names(src, fn)) if c.function == fn.name]
    out = []
    for c in calls:
        if c.line < first or not _TEARDOWN.search(c.name) or not c.args:
            continue
        arg = c.args[0].replace(" ", "")
        sets = [x for x in calls if x is not c and x.args and x.args[0].replace(" ", "") == arg
                and not _TEARDOWN.search(x.name) and x.line < first]  # fmt: skip
        if sets and all(x.line > at for x in sets):
            init = sets[0]
            out.append(
                Violation(
                    "goto-unwinds-uninitialised",
                    rel,
                    at,
                    f"the goto {label} in {fn.name}() runs {c.name}({c.args[0]}) (line {c.line}), but "
                    f"{init.name}({init.args[0]}) only sets it up at line {init.line}, after the goto",
                )
            )
    return out


def _names(src: bytes, fn: Function) -> set[str]:
    body = src[fn.node.start_byte : fn.node.end_byte].decode(errors="replace")
    return set(re.findall(r"\b([a-z_]\w*)\s*\(", body))


# -- the mode config's manual cleanup ----------------------------------------------------
def _mode_config(m: Module) -> dict[Key, Violation]:
    out: dict[Key, Violation] = {}
    manual = [c for c in m.cleanups if c.path != "release"]
    blockers = [(o, m.blocker(o)) for o in m.mode_objects if m.blocker(o)]
    drmm_objects = m.calls(["drmm_crtc_alloc_with_planes", "drmm_universal_plane_alloc", "drmm_encoder_alloc",
                            "drmm_simple_encoder_alloc", "drmm_encoder_init", "drmm_crtc_init_with_planes",
                            "drmm_connector_init"])  # fmt: skip
    if manual and drmm_objects:
        c = manual[0]
        rel, obj = drmm_objects[0]
        out[("left", c.site.file, c.site.function)] = Violation(
            "mode-config-cleanup-left", c.site.file, c.site.line,
            f"drm_mode_config_cleanup() by hand in {c.where()} calls the .destroy hook of "
            f"{obj.name}()'s object ({rel}:{obj.line}), which a drmm_ object does not have")  # fmt: skip
    if not manual and blockers and m.calls(["drm_mode_config_init", "drmm_mode_config_init"]):
        o, why = blockers[0]
        # keyed by the driver, not the object: converting one of several blockers of a
        # driver that never cleaned up by hand does not introduce the violation
        out[("removed",)] = Violation(
            "mode-config-cleanup-removed", o.site.file, o.site.line,
            f"no drm_mode_config_cleanup() is left before the final drm_dev_put(), but {why}")  # fmt: skip
    return out


def mode_config_cleanup(change: Change) -> list[Violation]:
    """A manual drm_mode_config_cleanup() goes only when every mode object is drm-lifetime,
    and must go once the objects are drmm_ (it would call their missing .destroy)."""
    if change.family == "drmm-mode-config":
        _, after = modules(change)
        return list(_mode_config(after).values())
    return _introduced(change, _mode_config)


# -- locks -----------------------------------------------------------------------------------
def _locks(m: Module) -> dict[Key, Violation]:
    out: dict[Key, Violation] = {}
    groups: dict[tuple[str, str], list] = {}
    for x in m.locks:
        if x.struct and x.struct != "struct drm_device":
            groups.setdefault(("struct", x.struct), []).append(x)
    drmm_mem = {s for s, kinds in m.allocations.items() if "drmm" in kinds}
    for (_, name), locks in groups.items():
        managed = [x for x in locks if x.call == "drmm_mutex_init"]
        plain = [x for x in locks if x.call == "mutex_init"]
        if managed and plain:
            a, b = managed[0], plain[0]
            out[("partial", name, b.lock)] = Violation(
                "partial-mutex-conversion", b.site.file, b.site.line,
                f"{a.lock} of {name} uses drmm_mutex_init() ({a.site.file}:{a.site.line}) but {b.lock} "
                "of the "
                "same struct keeps mutex_init(): convert the locks of one object together")  # fmt: skip
        for x in locks:
            if x.call == "devm_mutex_init" and name in drmm_mem:
                out[("devm", name, x.lock)] = Violation(
                    "devm-mutex-in-drmm-memory", x.site.file, x.site.line,
                    f"{x.lock} is a devm_mutex_init() lock in {name}, which is drmm_ memory: the lock is "
                    "destroyed at unbind while the memory lives on")  # fmt: skip
    return out


def mutex_conversion(change: Change) -> list[Violation]:
    """The locks of one struct change lifetime together, and a struct that became drmm_
    memory keeps no devm_ lock."""
    return _introduced(change, _locks)


DRMM_CHECKS = (drmm_freed_by_hand, goto_unwinds_uninitialised, mode_config_cleanup, mutex_conversion)
