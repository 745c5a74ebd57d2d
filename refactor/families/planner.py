"""The planner's helpers every fix family uses: the code of a line, the function around
it, a call at a line, a drm_device expression valid there, the error exit of a function,
and the mode objects of a struct with their init, .destroy and cleanup edits.  The family
modules see it as `ops.Planning`; `registry.plan()` runs a family's planner with it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from refactor.classify.classifier import Classifier
from refactor.classify.drm import MODE_OBJECTS
from refactor.classify.facts import Facts
from refactor.csrc import cindex
from refactor.csrc.cfunc import Function
from refactor.families.ops import CLEANUPS, INITS, NO_ARGS, Args, Op, Refusal, norm

_MANAGED_WRAPPER = re.compile(
    r"drm_mode_config_init\(struct drm_device \*dev\)\s*\{\s*return drmm_mode_config_init"
)


class Planner:
    """The `Planning` of one run: the sweep's parsed sources (`c`) and the helpers."""

    def __init__(self, classifier: Classifier) -> None:
        self.c = classifier
        root = classifier.root / "include/drm/drm_mode_config.h"
        text = root.read_text(errors="replace") if root.is_file() else ""
        self.managed_mode_config = bool(_MANAGED_WRAPPER.search(norm(text).replace("( ", "(")))

    # -- helpers ------------------------------------------------------------------------
    def code(self, file: str, line: int) -> str:
        lines = self.c.data(file).decode(errors="replace").splitlines()
        return norm(lines[line - 1]) if 0 < line <= len(lines) else ""

    def op(self, kind: str, file: str, line: int, args: Args = NO_ARGS) -> Op:
        return Op(kind, file, self.c.function_at(file, line), self.code(file, line), args)

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
            declare = [Op("declare", file, fn.name, "", Args(var=var))]
        exit_ = fn.error_exit(line, var)
        if exit_ is None:
            why = (
                "returns void"
                if fn.returns == "void"
                else "unwinds errors in a way the tool cannot follow here"
            )
            raise Refusal(f"{fn.name}() {why}: add the error handling of the drmm_ call by hand")
        return var, exit_, declare

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
            return ops + [Op("remove-function", self.defined_in(facts, hook), hook, "")]
        raise Refusal(f"the tool could not find the table {funcs}")

    def _function_body(self, facts: Facts, name: str) -> str | None:
        for file in facts.driver.module.files:
            for d in self.c.definitions(file) if name.encode() in self.c.data(file) else ():
                if d.name == name and d.kind in ("function", "inline"):
                    return d.body.strip().removeprefix("{").removesuffix("}")
        return None

    def defined_in(self, facts: Facts, name: str) -> str:
        for file in facts.driver.module.files:
            if name.encode() in self.c.data(file) and any(
                d.name == name and d.kind == "function" for d in self.c.definitions(file)
            ):
                return file
        raise Refusal(f"no definition of {name}()")
