"""The guard family's lifetime invariants for the semantic verification stage.

Each check reads a patch as whole files (invariants.Change) and the rest of the driver's
module from the patched tree, with tree-sitter only (no classifier, no spatch), so that it
judges any patch, the tool's own or one given to `check`:

- guard-skips-acquire: a new guard skips a refcounted acquire or release whose
  counterpart elsewhere in the module still runs unguarded;
- guarded-release-path: a new guard on a release path, a pure computation, a state hook
  or a disable hook (hookmodel roles);
- event-not-delivered: a new guard skips drm_crtc_send_vblank_event() or
  drm_crtc_arm_vblank_event() and its failure path does not send the event;
- unplug-unsafe-teardown: a new drm_dev_unplug() while the removal path still frees what
  open files reach;
- partial-guard-coverage: the patch guards some hooks of the module and leaves another
  hardware hook reaching a register access unguarded.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field

import tree_sitter

from refactor.classify import guard_scan, hookmodel
from refactor.csrc import cindex
from refactor.invariants.types import Change, Check, Violation

DEPTH = 3


@dataclass
class _Fn:
    name: str
    file: str
    src: bytes
    node: tree_sitter.Node
    regions: list[tuple[int, int, tree_sitter.Node | None]] = field(default_factory=list)  # guarded, fail

    def text(self) -> str:
        return self.src[self.node.start_byte : self.node.end_byte].decode(errors="replace")

    def calls(self) -> list[tuple[int, str, str]]:
        """(line, callee, argument text) of every call by name."""
        out = []
        for n in cindex.walk(self.node):
            if n.type == "call_expression":
                f = n.child_by_field_name("function")
                a = n.child_by_field_name("arguments")
                if f is not None and f.type == "identifier":
                    args = "" if a is None else self.src[a.start_byte : a.end_byte].decode(errors="replace")
                    out.append((n.start_point[0] + 1, self.src[f.start_byte : f.end_byte].decode(), args))
        return out

    def guarded(self, line: int) -> bool:
        return any(a <= line <= b for a, b, _ in self.regions)


def _regions(fn: _Fn) -> None:
    """The lines a drm_dev_enter() check covers: after `if (!drm_dev_enter()) ...;` down to
    the last drm_dev_exit(), or the then-block of `if (drm_dev_enter()) { }` (the failure
    path is the check's return arm, or the else arm)."""
    exits = [line for line, name, _ in fn.calls() if name == "drm_dev_exit"]
    for n in cindex.walk(fn.node):
        if n.type != "if_statement":
            continue
        cond = n.child_by_field_name("condition")
        text = "" if cond is None else fn.src[cond.start_byte : cond.end_byte].decode(errors="replace")
        if "drm_dev_enter" not in text:
            continue
        then, other = n.child_by_field_name("consequence"), n.child_by_field_name("alternative")
        if re.search(r"!\s*drm_dev_enter", text):
            end = max([x for x in exits if x > n.end_point[0] + 1], default=fn.node.end_point[0] + 1)
            fn.regions.append((n.end_point[0] + 2, end, then))
        elif then is not None:
            fn.regions.append((then.start_point[0] + 1, then.end_point[0] + 1, other))


_COMPOSITE = re.compile(r"^\s*([\w-]+?)-(?:y|objs|\$\(CONFIG_\w+\))\s*[:+]?=\s*(.*)$")


def _module_files(change: Change, d: str) -> set[str] | None:
    """The .c files of `d` in the same Kbuild module as a touched file (a directory such as
    tiny/ holds many modules); None when the Makefile does not say."""
    text = ""
    for name in ("Kbuild", "Makefile"):
        with contextlib.suppress(OSError):
            text = (change.root / d / name).read_text(errors="replace").replace("\\\n", " ")
            break
    composites: dict[str, set[str]] = {}
    for line in text.splitlines():
        m = _COMPOSITE.match(line)
        if m and not m.group(1).startswith("obj"):
            composites.setdefault(m.group(1), set()).update(re.findall(r"([\w/-]+)\.o\b", m.group(2)))
    touched = {f.rsplit("/", 1)[-1].removesuffix(".c") for f in change.files if f.startswith(d)}
    out = set(touched)
    for objs in composites.values():
        if objs & touched:
            out |= objs
    return {f"{o}.c" for o in out} if text else None


def _module(change: Change, after: bool) -> tuple[dict[str, _Fn], dict[str, list[guard_scan.Entry]]]:
    """The functions and table entries of the module, patched (`after`) or not."""
    texts: dict[str, str] = {}
    for d in change.paths:
        mine = _module_files(change, d)
        with contextlib.suppress(OSError):
            for path in sorted((change.root / d).iterdir()):
                if path.suffix == ".c" and mine is not None and path.name not in mine:
                    continue
                if path.suffix in (".c", ".h") and path.is_file():
                    texts[f"{d.rstrip('/')}/{path.name}"] = path.read_text(errors="replace")
    for f in change.files:
        texts[f] = (change.after if after else change.before).get(f, "")
    fns: dict[str, _Fn] = {}
    entries: dict[str, list[guard_scan.Entry]] = {}
    for rel, text in texts.items():
        src = text.encode(errors="surrogateescape")
        for node in cindex.walk(cindex.parse(src).root_node):
            if node.type == "function_definition":
                name = cindex._declarator_name(node.child_by_field_name("declarator"), src)
                if name and name not in fns:
                    fns[name] = _Fn(name, rel, src, node)
                    _regions(fns[name])
            elif node.type == "declaration" and rel.endswith(".c"):
                guard_scan.tables(src, node, entries)
    return fns, entries


def _new_guards(change: Change) -> tuple[dict[str, _Fn], dict[str, list[guard_scan.Entry]], list[_Fn]]:
    fns, entries = _module(change, after=True)
    old, _ = _module(change, after=False)

    def enters(f: _Fn | None) -> int:
        return 0 if f is None else f.text().count("drm_dev_enter(")

    added = [f for f in fns.values() if f.file in change.files and enters(f) > enters(old.get(f.name))]
    return fns, entries, added


def _reached(fns: dict[str, _Fn], fn: _Fn, lines: range | None, depth: int = DEPTH,
             seen: frozenset[str] = frozenset()) -> list[tuple[int, str, str]]:  # fmt: skip
    """The calls `fn` makes on `lines` (all lines when None), itself or through the
    module's functions: (line in `fn`, call, arguments)."""
    out = []
    for line, name, args in fn.calls():
        if lines is not None and line not in lines:
            continue
        out.append((line, name, args))
        callee = fns.get(name)
        if callee is not None and depth > 0 and name not in seen and name != fn.name:
            out += [(line, n, a) for _, n, a in _reached(fns, callee, None, depth - 1, seen | {fn.name})]
    return out


def guard_skips_acquire(change: Change) -> list[Violation]:
    """A new guard skips an acquire (or release) whose counterpart runs unguarded."""
    if change.family != "drm-guards":
        return []
    fns, _, added = _new_guards(change)
    out = []
    for fn in added:
        for start, end, _ in fn.regions:
            inside = _reached(fns, fn, range(start, end + 1))
            names = {n for _, n, _ in inside}
            arming = "drm_crtc_arm_vblank_event" in names
            for line, call, _ in inside:
                other = hookmodel.counterpart(call) if hookmodel.BOOKKEEPING.match(call) else ""
                if not other or (arming and call == "drm_crtc_vblank_get"):
                    continue
                if any(hookmodel.same_family(other, n) for n in names):
                    continue  # both sides inside: skipped together
                open_ = next((g.name for g in fns.values() for ln, n, _ in g.calls()
                              if hookmodel.same_family(other, n) and not g.guarded(ln)), "")  # fmt: skip
                if open_:
                    out.append(Violation("guard-skips-acquire", fn.file, line,
                                         f"{fn.name}() skips {call}() when drm_dev_enter() fails, but "
                                         f"{other}() in {open_}() still runs unguarded"))  # fmt: skip
    return out


def guarded_release_path(change: Change) -> list[Violation]:
    """A new guard on a hook that must run after unplug: release, pure, state, disable."""
    if change.family != "drm-guards":
        return []
    _, entries, added = _new_guards(change)
    out = []
    for fn in added:
        for e in entries.get(fn.name, []):
            role = e.role
            if role != "hardware":
                what = {"release": "a release path, which must free unconditionally",
                        "pure": "pure computation, which touches no device",
                        "state": "state handling, which touches no device",
                        "disable": "a disable hook, which drm_atomic_helper_shutdown() runs after "
                                   "drm_dev_unplug()"}[role]  # fmt: skip
                why = f"{fn.name}() (.{e.hook}) is {what}: it must not be guarded"
                out.append(Violation("guarded-release-path", fn.file, fn.node.start_point[0] + 1, why))
                break
    return out


def event_not_delivered(change: Change) -> list[Violation]:
    """A new guard skips the pending event and its failure path does not send it."""
    if change.family != "drm-guards":
        return []
    fns, _, added = _new_guards(change)
    out = []
    for fn in added:
        for start, end, fail in fn.regions:
            inside = _reached(fns, fn, range(start, end + 1))
            events = [(ln, n) for ln, n, _ in inside if n in hookmodel.EVENT]
            if not events:
                continue
            failure = "" if fail is None else fn.src[fail.start_byte : fail.end_byte].decode(errors="replace")
            if "drm_crtc_send_vblank_event" not in failure:
                why = (
                    f"{fn.name}() skips {events[0][1]}() when drm_dev_enter() fails and never sends "
                    "the pending event: the commit waits for it forever"
                )
                out.append(Violation("event-not-delivered", fn.file, events[0][0], why))
    return out


def unplug_unsafe_teardown(change: Change) -> list[Violation]:
    """A new drm_dev_unplug() while the removal path frees what open files reach."""
    fns, _ = _module(change, after=True)
    out = []
    for f in change.files:
        before, after = change.before.get(f, ""), change.after.get(f, "")
        if after.count("drm_dev_unplug(") <= before.count("drm_dev_unplug("):
            continue
        for fn in [g for g in fns.values() if g.file == f and "drm_dev_unplug(" in g.text()]:
            line = next(ln for ln, n, _ in fn.calls() if n == "drm_dev_unplug")
            reach = [fn] + [fns[n] for _, n, _ in fn.calls() if n in fns and n != fn.name]
            for g in reach:
                text = g.text()
                m = hookmodel.UNSAFE_TEARDOWN.search(text)
                private = set(
                    re.findall(r"\b(\w+)\s*=\s*[^;]*(?:_get_drvdata\s*\(|->\s*dev_private\b)", text)
                )
                freed = [a for a in re.findall(r"\bkfree\s*\(\s*([^;]*?)\s*\)\s*;", text)
                         if a in private or re.search(r"->\s*dev_private$", a)]  # fmt: skip
                what = f"kfree({freed[0]})" if freed else ""
                if m:
                    what = "drm_mode_config_cleanup()" if "cleanup" in m.group(0) else "dev_private = NULL"
                if what:
                    out.append(Violation("unplug-unsafe-teardown", f, line,
                                         f"drm_dev_unplug() in {fn.name}() while {g.name}() still does "
                                         f"{what}: open files reach what the teardown frees"))  # fmt: skip
                    break
    return out


def partial_guard_coverage(change: Change) -> list[Violation]:
    """The patch guards hooks of the module but leaves a hardware hook unguarded."""
    if change.family != "drm-guards":
        return []
    fns, entries, added = _new_guards(change)
    if not added:
        return []
    register = re.compile(f"(?:{guard_scan.ACCESS.pattern})|(?:{guard_scan.BUS_ACCESS.pattern})")
    out = []
    for name, es in sorted(entries.items()):
        fn = fns.get(name)
        if fn is None or any(e.role != "hardware" for e in es):
            continue
        for line, call, args in _open_accesses(fns, fn):
            if register.match(call) and not hookmodel.BOOKKEEPING.match(call) and "->" in args:
                why = (
                    f"{name}() (.{es[0].hook}) reaches {call}() unguarded while the patch guards "
                    f"{added[0].name}(): a partial guard set is not a fix"
                )
                out.append(Violation("partial-guard-coverage", fn.file, line, why))
                break
    return out


def _open_accesses(fns: dict[str, _Fn], fn: _Fn, depth: int = DEPTH,
                   seen: frozenset[str] = frozenset()) -> list[tuple[int, str, str]]:  # fmt: skip
    """The calls `fn` makes outside its guards, itself or through unguarded calls."""
    out = []
    for line, name, args in fn.calls():
        if fn.guarded(line):
            continue
        out.append((line, name, args))
        callee = fns.get(name)
        if callee is not None and depth > 0 and name not in seen and name != fn.name:
            out += [(line, n, a) for _, n, a in _open_accesses(fns, callee, depth - 1, seen | {fn.name})]
    return out


GUARD_CHECKS: tuple[Check, ...] = (guard_skips_acquire, guarded_release_path, event_not_delivered,
                                   unplug_unsafe_teardown, partial_guard_coverage)  # fmt: skip
