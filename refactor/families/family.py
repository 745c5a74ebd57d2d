"""What the pipeline knows of a fix family, in one record each family module defines:
the rules it fixes, how it plans a finding (or a driver's findings at once), the headers
its patches may need, and the text of its commits (subjects, the cover letter's subject,
its commit-message template).  `registry.py` lists the families; nothing else keys on a
family's name.

The deciders that confirm a rule's findings stay in `classify/` (the sweep runs them
before any family is asked, and report-only rules have one too); `Family.deciders`
names those of its rules, so that everything about a family is reachable from its module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from refactor.classify import dispatch
from refactor.classify.facts import Facts
from refactor.classify.findings import Finding
from refactor.families.ops import Op, Plan, Planning, Refused
from refactor.model.tree import Driver

# one finding's edits; raises Refusal (with the reason) when it cannot be fixed safely
FindingPlanner = Callable[[Planning, Facts, Finding], list[Op]]
# a driver's findings at once, when they are one change or none (drmm-mode-config)
DriverPlanner = Callable[[Planning, Driver, Sequence[Finding]], Plan]
# after each finding is planned: edits the planned ones need together, and the findings
# that must go without a patch after all (drmm-alloc: shared funcs tables, the manual
# drm_mode_config_cleanup() that the drmm_ inits forbid)
Settler = Callable[[Planning, Driver, Sequence[Finding], dict[str, list[Op]]], tuple[list[Op], list[Refused]]]


@dataclass(frozen=True)
class Family:
    name: str
    rules: tuple[str, ...]  # the rules whose findings it fixes
    subjects: tuple[str, ...]  # the commit subject after the prefix; a shorter one if too long
    cover: str  # the cover letter's subject of a series of this family alone
    template: str  # its commit-message paragraphs (templates/families/NAME.txt.j2; "" when it makes no patch)
    plan: FindingPlanner | None = None
    plan_driver: DriverPlanner | None = None  # instead of `plan`
    settle: Settler | None = None
    # header -> the helpers its patches may add that the header declares (the others come
    # with the unmanaged function they replace: drm_crtc.h, drm_plane.h, ...)
    headers: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    # rule -> the rules whose patch mode its plans use (unmanaged-mode-object's plans use
    # devm-mode-object's hook, table and cleanup edits)
    patch_rules: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    what: Callable[[Sequence[str], int], str] | None = None  # the subject's {what}: (rules, findings)
    # what its patches do, as a clause of the cover letter's "This series, in N drivers:" list
    summary: str = ""

    @property
    def deciders(self) -> dict[str, dispatch.Decider | None]:
        """The deciders (classify/) that confirm its rules' findings (None: spatch's match is the finding)."""
        return {rule: dispatch.decider(rule) for rule in self.rules}
