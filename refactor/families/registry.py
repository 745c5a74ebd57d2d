"""The fix families, in the order of a driver's commits, and planning with them.

Each family is one module with a `FAMILY` record (`family.Family`): its rules, its
planner, the headers its patches may need and the text of its commits.  Adding a family
is a module here, a line in `FAMILIES`, its template under templates/families/, its rules'
patch mode and its corpus cases.  The rules with no family are `REPORT_ONLY`, with the
reason the reports give.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from refactor.classify.findings import Finding
from refactor.families import (
    action,
    alloc,
    commits,
    devm_irq,
    double_put,
    drm_guards,
    mode_config,
    mutex,
    mutex_destroy,
)
from refactor.families.family import Family
from refactor.families.ops import Elsewhere, Op, Plan, Planning, Refusal, Refused
from refactor.model.tree import Driver

# the order is the order of the commits of a driver
FAMILIES: dict[str, Family] = {f.name: f for f in (
    double_put.FAMILY, alloc.FAMILY, mode_config.FAMILY, mutex.FAMILY, mutex_destroy.FAMILY, action.FAMILY,
    devm_irq.FAMILY,
    drm_guards.FAMILY,
)}  # fmt: skip

# rule -> the families that fix it, in order: a finding goes to the first that does not
# pass it on (`Elsewhere`: unmanaged-mutex is drmm-mutex's or mutex-destroy's by the lock's lifetime)
FAMILIES_OF: dict[str, tuple[str, ...]] = {}
for _f in FAMILIES.values():
    for _rule in _f.rules:
        FAMILIES_OF[_rule] = (*FAMILIES_OF.get(_rule, ()), _f.name)

# the rules a family's patches run in patch mode: each rule, or the rules its plans use
PATCH_RULES = {rule: uses for f in FAMILIES.values() for rule, uses in f.patch_rules.items()}

# every header a patch may need, by the helpers it declares (sorted: the order they go in)
HEADERS: dict[str, re.Pattern[str]] = dict(sorted(
    (h, uses) for f in FAMILIES.values() for h, uses in f.headers.items()))  # fmt: skip

REPORT_ONLY = {
    "devm-drm-private": "embedding the drm_device in the private struct changes every use of "
    "its pointer and the driver's put: convert to devm_drm_dev_alloc() by hand",
    "unbound-parent": "report only: the parent device needs a bound driver",
}


def plan(p: Planning, driver: Driver, family: str, findings: Sequence[Finding]) -> Plan:
    """One family's plan for a driver's findings: each finding's edits, or its refusal
    (an `Elsewhere` refusal too: `plans()` drops it when a later family takes the finding)."""
    fam = FAMILIES[family]
    facts = p.c.facts(driver)
    if fam.plan_driver is not None:
        return fam.plan_driver(p, driver, findings)
    assert fam.plan is not None, family
    planned: dict[str, list[Op]] = {}
    refused: list[Refused] = []
    passed: list[str] = []
    for f in findings:
        try:
            planned[f.id] = fam.plan(p, facts, f)
        except Elsewhere as refusal:
            refused.append(Refused(f.id, str(refusal)))
            passed.append(f.id)
        except Refusal as refusal:
            refused.append(Refused(f.id, str(refusal)))
    extra: list[Op] = []
    if fam.settle is not None:
        extra, dropped = fam.settle(p, facts.driver, findings, planned)
        refused.extend(dropped)
    ops: list[Op] = []
    for new in [*planned.values(), extra]:
        ops.extend(o for o in new if o not in ops)
    rules = tuple(sorted({f.rule for f in findings if f.id in planned}))
    return Plan(driver.name, family, rules, tuple(planned), tuple(ops), tuple(refused),
                tuple((fid, tuple(o)) for fid, o in planned.items()), tuple(passed))  # fmt: skip


def plans(p: Planning, driver: Driver, findings: Sequence[Finding]) -> list[Plan]:
    """A driver's plans, one per future commit, in the families' order.  A finding a
    family passes on (`Elsewhere`) goes to the next family of its rule; its reason is
    kept only when the last of them passes it on too."""
    out = []
    passed: set[str] = set()  # findings an earlier family passed on
    for family in FAMILIES:
        mine = [f for f in findings if _first_for(f, family, passed)]
        if not mine:
            continue
        made = plan(p, driver, family, mine)
        later = {f.id for f in mine if FAMILIES_OF[f.rule][-1] != family}
        gone = {r.finding for r in made.refused if r.finding in later and r.finding in made.passed}
        passed |= gone
        out.append(replace(made, refused=tuple(r for r in made.refused if r.finding not in gone)))
    return commits.commits(p, driver, out, findings)


def _first_for(f: Finding, family: str, passed: set[str]) -> bool:
    """Whether `family` is the one to plan `f` now: its rule's first family, or the next
    after the ones that passed it on."""
    fams = FAMILIES_OF.get(f.rule, ())
    if family not in fams:
        return False
    i = fams.index(family)
    return i == 0 or f.id in passed
