"""What classification knows and says: the facts of one driver's data (its struct index,
private structs, what is reachable from the drm device) and a confirmed finding's verdict
(message, fix, what the planner needs).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from refactor.classify.drm import _SCALARS, HW_TYPES, MODE_OBJECTS
from refactor.csrc.structs import StructDef, StructIndex
from refactor.model.tree import Driver


@dataclass(frozen=True)
class Verdict:
    """A candidate confirmed as a finding: what to say and what to propose."""

    message: str
    fix: str
    detail: tuple[tuple[str, str], ...] = ()  # what the patch planner needs (the struct, ...)
    file: str = ""  # where the finding is, when not at the match (unguarded-hw-access)
    line: int = 0
    confidence: str = ""  # when this finding's evidence differs from the rule's (high/medium/low)

    @property
    def helpers(self) -> tuple[str, ...]:
        """The DRM helpers the fix proposes (none when the fix says "none")."""
        if self.fix.startswith("none"):
            return ()
        return tuple(dict.fromkeys(re.findall(r"\b((?:__)?(?:drmm|devm_drm)_\w+)\(\)", self.fix)))


@dataclass
class Facts:
    """What the sweep knows about one driver's data."""

    driver: Driver
    index: StructIndex
    private: frozenset[str]
    unmanaged: bool
    _holders: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reachable: frozenset[str] = frozenset()

    def holds(self, name: str, depth: int = 0) -> tuple[str, ...]:
        """Kinds of mode objects embedded (by value, at any depth) in the struct `name`."""
        name = self.index.canonical(name)
        if name in MODE_OBJECTS:
            return (MODE_OBJECTS[name],)
        if name in self._holders:
            return self._holders[name]
        self._holders[name] = ()  # cycle guard
        s = self.index.get(name)
        kinds: list[str] = []
        if s is not None and depth < 8:
            for f in s.fields:
                if f.pointer == 0 and not f.function and f.type.startswith(_SCALARS):
                    kinds.extend(k for k in self.holds(f.type, depth + 1) if k not in kinds)
        self._holders[name] = tuple(kinds)
        return self._holders[name]

    def hardware_only(self, s: StructDef, depth: int = 0, devm_units: frozenset[str] = frozenset()) -> bool:
        """Every field is a hardware handle, a plain scalar, or a pointer to another hardware
        unit's struct (one of `devm_units`, the structs the driver allocates only with devm_:
        they die at unbind whatever holds them): nothing userspace reaches."""
        for f in s.fields:
            if f.pointer == 1 and self.index.canonical(f.type) in devm_units:
                continue
            if f.function:
                return False
            if f.pointer and (f.iomem or self.index.canonical(f.type) in HW_TYPES):
                continue
            if f.pointer == 0 and not f.type.startswith(_SCALARS):
                continue
            if f.pointer == 0 and self.index.canonical(f.type) in HW_TYPES:
                continue
            inner = self.index.get(f.type) if f.pointer <= 1 else None
            # embedded, or a pointer to another hardware unit's struct (imx/dc's dc_pe)
            if (
                inner is not None
                and inner is not s
                and depth < 4
                and self.hardware_only(inner, depth + 1, devm_units)
            ):
                continue
            return False
        return True
