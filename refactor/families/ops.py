"""The plan of a fix, as the planners write it and the semantic patches read it: one
edit (`Op`, keyed the way a `virtual patch` rule sees the code, with the values it needs,
`Args`), one driver's plan for one fix family (`Plan`), the refusal of a finding that
cannot be fixed safely (`Refusal` raised, `Refused` kept), the mode-object init tables the
planners use, and the view of the planner that the family modules use (`Planning`), so
that they do not import the planner that calls them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Protocol

from refactor.classify.classifier import Classifier
from refactor.classify.facts import Facts
from refactor.csrc import cindex
from refactor.csrc.cfunc import Function

# mode object kind -> {unmanaged init: (managed replacement, index of the funcs argument)}
INITS: dict[str, dict[str, tuple[str, int]]] = {
    "CRTC": {"drm_crtc_init_with_planes": ("drmm_crtc_init_with_planes", 4)},
    "encoder": {
        "drm_encoder_init": ("drmm_encoder_init", 2),
        "drm_simple_encoder_init": ("drmm_encoder_init", -1),
    },
    "connector": {
        "drm_connector_init": ("drmm_connector_init", 2),
        "drm_connector_init_with_ddc": ("drmm_connector_init", 2),
    },  # fmt: skip
    "plane": {"drm_universal_plane_init": ("drmm_universal_plane_alloc", 3)},
}


CLEANUPS = {"CRTC": "drm_crtc_cleanup", "encoder": "drm_encoder_cleanup",
            "connector": "drm_connector_cleanup", "plane": "drm_plane_cleanup"}  # fmt: skip


@dataclass(frozen=True)
class Args:
    """The values a patch-mode rule reads of a planned edit (None: not given, and the
    rule's default applies).  In the plan file they are strings, under these names
    (`return_` as "return"), the way the rules' Python reads them."""

    action: str | None = None  # hook-register: the drmm_ release action
    args: str | None = None  # the init arguments that move into a drmm_ allocation
    cleanup: str | None = None  # hook-action: the drm_*_cleanup() of the object
    column: int | None = None  # guard-enter/-span: the column of the first guarded line
    drm: str | None = None  # the drm_device expression in scope
    exit: str | None = None  # the statement that leaves on error
    free: str | None = None  # hook-action: how the hook freed the object
    funcs: str | None = None  # the object's funcs table
    gfp: str | None = None
    helper: str | None = None  # the drmm_ allocation helper
    idx: str | None = None  # the guard's index variable
    last: str | None = None  # guard-span: the normalised text of its last line
    lines: int | None = None  # guard-span: how many lines after the first it covers
    member: str | None = None  # the object's member in its container struct
    name: str | None = None  # hook-action: the action's name
    obj: str | None = None  # hook-register: the object expression
    return_: str | None = None  # guard-enter: the return statement of the guarded hook
    shutdown: str | None = None  # unplug-first: the drm_atomic_helper_shutdown() line
    size: str | None = None  # kalloc-drmm: the allocation's size
    type: str | None = None  # the container struct, or the declared variable's type
    var: str | None = None  # the variable for a result, or the declared variable

    def as_json(self) -> dict[str, str]:
        """The values given, by the names the rules read, as strings."""
        return {f.name.rstrip("_"): str(v) for f in fields(self) if (v := getattr(self, f.name)) is not None}


NO_ARGS = Args()


@dataclass(frozen=True)
class Op:
    """One edit a semantic patch makes, keyed as the rule sees the code."""

    kind: str
    file: str
    name: str  # the enclosing function, or the table/function an op is about
    code: str  # the normalised text of the line ("" for ops keyed by name)
    args: Args = NO_ARGS

    @property
    def key(self) -> str:
        return "\0".join([self.kind, self.file, self.name, self.code])


@dataclass(frozen=True)
class Refused:
    """A finding the planner gives no patch, and why (a sentence for the report)."""

    finding: str
    reason: str


@dataclass(frozen=True)
class Plan:
    driver: str
    family: str
    rules: tuple[str, ...]
    findings: tuple[str, ...]  # ids of the findings the plan fixes
    ops: tuple[Op, ...]
    refused: tuple[Refused, ...]
    by_finding: tuple[tuple[str, tuple[Op, ...]], ...] = ()  # the ops each finding needs
    passed: tuple[str, ...] = ()  # ids of the refused findings that are another family's (`Elsewhere`)


class Refusal(Exception):
    """Why a finding gets no patch."""


class Elsewhere(Refusal):
    """The finding is another family's to fix (a later one in the registry's order that
    fixes the same rule): the reason stands only when no family takes it."""


def norm(text: str) -> str:
    return " ".join(text.split())


class Planning(Protocol):
    """What the family modules ask of the Planner (planner.py): the parsed sources and
    the helpers that find calls, functions, a drm_device in scope and error exits."""

    @property
    def c(self) -> Classifier: ...

    @property
    def managed_mode_config(self) -> bool: ...  # drm_mode_config_init() wraps drmm_mode_config_init()

    def code(self, file: str, line: int) -> str: ...

    def op(self, kind: str, file: str, line: int, args: Args = NO_ARGS) -> Op: ...

    def function(self, file: str, line: int) -> Function: ...

    def drm_at(self, facts: Facts, file: str, line: int, avoid: str = "", device: str = "") -> str: ...

    def error_handling(self, file: str, line: int) -> tuple[str, str, list[Op]]: ...

    def destroy_ops(self, facts: Facts, funcs: str, kind: str) -> list[Op]: ...

    def call_at(self, file: str, line: int, names: Sequence[str]) -> cindex.Call: ...

    def members(self, facts: Facts, struct: str, prefix: str = "", depth: int = 0
                ) -> list[tuple[str, str]]: ...  # fmt: skip

    def init_of(
        self,
        facts: Facts,
        struct: str,
        path: str,
        kind: str,
        near: tuple[str, str] = ("", ""),
        target: str = "",
    ) -> tuple[str, cindex.Call, str]: ...

    def cleanup_ops(
        self,
        facts: Facts,
        struct: str,
        path: str,
        kind: str,
        near: tuple[str, str] = ("", ""),
        target: str = "",
    ) -> list[Op]: ...

    def defined_in(self, facts: Facts, name: str) -> str: ...


def check_args_set(fn: Function, alloc_line: int, init_line: int, args: Sequence[str], container: str,
                   uses: str) -> None:  # fmt: skip
    """An init that moves up to its allocation at `alloc_line`: each of its `args` must
    already hold its value there (a parameter, or set before and not again up to the
    init).  `uses` is the refusal when an argument names the `container` being allocated."""
    between = range(alloc_line + 1, init_line + 1)
    for arg in args:
        names = cindex.identifiers_in(re.sub(r'"(\\.|[^"\\])*"', '""', arg))
        if container in names:
            raise Refusal(uses)
        for n in names & set(fn.variables):
            v = fn.variables[n]
            if any(x in between for x in v.set_at) or not (v.param or any(x < alloc_line for x in v.set_at)):
                raise Refusal(f"{n} is only set after the allocation: the init cannot move there")
