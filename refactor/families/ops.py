"""The plan of a fix, as the planners write it and the semantic patches read it: one
edit (`Op`, keyed the way a `virtual patch` rule sees the code), one driver's plan for one
fix family (`Plan`), the refusal of a finding that cannot be fixed safely (`Refusal`), the
mode-object init tables both planners use, and the view of the planner that a family's
own planner module uses (`Planning`), so that it does not import the planner that calls it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
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
class Op:
    """One edit a semantic patch makes, keyed as the rule sees the code."""

    kind: str
    file: str
    name: str  # the enclosing function, or the table/function an op is about
    code: str  # the normalised text of the line ("" for ops keyed by name)
    args: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> str:
        return "\0".join([self.kind, self.file, self.name, self.code])


@dataclass(frozen=True)
class Plan:
    driver: str
    family: str
    rules: tuple[str, ...]
    findings: tuple[str, ...]  # ids of the findings the plan fixes
    ops: tuple[Op, ...]
    refused: tuple[tuple[str, str], ...]  # (finding id, why no patch)
    by_finding: tuple[tuple[str, tuple[Op, ...]], ...] = ()  # the ops each finding needs


class Refusal(Exception):
    """Why a finding gets no patch."""


def norm(text: str) -> str:
    return " ".join(text.split())


class Planning(Protocol):
    """What guardplan.py and modeobj.py ask of the Planner (plan.py)."""

    @property
    def c(self) -> Classifier: ...

    def code(self, file: str, line: int) -> str: ...

    def op(self, kind: str, file: str, line: int, **args: str) -> Op: ...

    def function(self, file: str, line: int) -> Function: ...

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

    def _defined_in(self, facts: Facts, name: str) -> str: ...


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
