"""The verdict of one patch from two guest runs, before and after it.

- `reproduced-and-fixed`: the scenario drew a kernel report before the patch, none after;
- `no-report-before`: no report before the patch (the scenario did not hit the finding's
  bug: the reason names the findings and what the scenario's steps got);
- `report-after`: a report after the patch, either one that was there before (not fixed)
  or a new one (the patch adds it): the excerpt is in the result;
- `not-runnable`: no device model, no QEMU or vng, the kernel did not build or boot, or the
  scenario refused (no card, no unbind attribute): the reason.

Only reports from the scenario's start on count; boot-time ones are listed, not judged.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from refactor.prove.logparse import GuestLog, Report

VERDICTS = ("reproduced-and-fixed", "no-report-before", "report-after", "not-runnable")


@dataclass(frozen=True)
class Run:
    """One guest run as the result keeps it."""

    label: str  # before / after
    log: str  # the console log's path
    seconds: float
    kvm: bool
    finished: bool
    steps: tuple[tuple[str, str], ...]
    reports: tuple[Report, ...]  # the scenario's (not boot's)
    boot_reports: int
    boot_stop: str = ""  # the scenario never started: the last boot report's title (a panic)

    def as_dict(self) -> dict[str, object]:
        return {
            "label": self.label,
            "log": self.log,
            "seconds": round(self.seconds, 1),
            "kvm": self.kvm,
            "finished": self.finished,
            "steps": [f"{s}: {o}" for s, o in self.steps],
            "reports": [r.as_dict() for r in self.reports],
            "boot_reports": self.boot_reports,
        }


def run_of(label: str, log_path: str, seconds: float, kvm: bool, log: GuestLog) -> Run:
    scen = log.scenario_reports()
    boot = [r for r in log.reports if r.phase == "boot"]
    stop = boot[-1].title if boot and not log.steps else ""
    return Run(label, log_path, seconds, kvm, log.finished, log.steps, scen, len(boot), stop)


@dataclass(frozen=True)
class Proof:
    """The verdict of one patch (or, with `patch` empty, a driver's findings without a patch)."""

    driver: str
    patch: str  # the patch id; "" when the driver has findings and no patch
    findings: tuple[str, ...]  # "RULE at FILE:LINE in FUNCTION"
    verdict: str
    reason: str
    runs: tuple[Run, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {
            "driver": self.driver,
            "patch": self.patch or None,
            "findings": list(self.findings),
            "verdict": self.verdict,
            "reason": self.reason,
            "runs": [r.as_dict() for r in self.runs],
        }


def _brief(reports: Sequence[Report]) -> str:
    return "; ".join(f"{r.title} ({r.phase})" for r in reports[:3]) + (
        f" and {len(reports) - 3} more" if len(reports) > 3 else "")  # fmt: skip


def _failed_steps(run: Run) -> str:
    """The scenario steps that failed, with their errno (after the unbind most fail)."""
    failed = [f"{s} {o}" for s, o in run.steps if o.startswith("errno")]
    return ", ".join(failed[:6]) if failed else "every step succeeded"


def _own_lines(excerpt: Sequence[str]) -> list[str]:
    """The lines of a report that are about its own code: a report raised in an interrupt
    (`<IRQ>`) leaves out the frames of the task the interrupt happened to stop, up to the
    object's allocation and free stacks (KASAN's `Allocated by`/`Freed by`), which stay."""
    own, interrupted, in_irq = [], False, False
    for line in excerpt:
        text = line.strip()
        if text == "<IRQ>":
            in_irq = True
        elif text == "</IRQ>" and in_irq:
            interrupted, in_irq = True, False
        elif re.match(r"(Allocated|Freed) by task|Last potentially related work creation", text):
            interrupted = False
        if not interrupted:
            own.append(line)
    return own


def relates(report: Report, marks: Sequence[str]) -> bool:
    """Whether a report is about the finding's code: its excerpt names one of `marks` (the
    findings' functions, the patched files' names) in a stack frame or location of its
    own (not of a task an interrupt stopped)."""
    return any(re.search(rf"\b{re.escape(m)}\b", line) for line in _own_lines(report.excerpt) for m in marks)


_FRAME = re.compile(
    r"^\s*(?:\[[^]]*\]\s*)?(?:RIP: [0-9a-f]+:)?(?P<fn>[A-Za-z_][\w.]*)\+0x[0-9a-f]+/0x[0-9a-f]+"
)
_SITE = re.compile(r"\b(?:in|at) (?P<fn>[A-Za-z_][\w.]*)\+0x[0-9a-f]+")


def _site(report: Report) -> str:
    """The function a report is raised in (KASAN's `in f+0x..`, WARNING's `at f+0x..`)."""
    m = _SITE.search(report.title)
    return m.group("fn") if m else ""


def same_bug(report: Report, earlier: Sequence[Report]) -> bool:
    """Whether `report` is one of `earlier`'s bugs seen again: the same signature, or a report
    whose own stack (`_own_lines`: its reliable frames and its RIP, not `? f+0x..`) passes
    through the function an earlier one was raised in.  One bad access chain gives reports at
    several depths and of several kinds, varying with timing: the qxl interrupt handler
    reading a freed device raises KASAN in `qxl_irq_handler` in one run, in
    `do_raw_spin_lock` under its `wake_up()` in the next, and a page fault with its RIP in
    `qxl_irq_handler` once the mapping it reads is gone."""
    if any(report.signature == e.signature for e in earlier):
        return True
    frames = {m.group("fn") for line in _own_lines(report.excerpt) if (m := _FRAME.match(line))}
    return bool(frames & ({_site(e) for e in earlier} - {""}))


_FATAL = re.compile(r"^Kernel panic - not syncing: Fatal exception")


def new_reports(before: Sequence[Report], after: Sequence[Report]) -> list[Report]:
    """The reports after a patch that are not a bug of `before` seen again (`same_bug`); a
    panic on a fatal exception is the oops before it, and goes with that oops."""
    new: list[Report] = []
    previous_new = False
    for i, r in enumerate(after):
        fatal = i > 0 and _FATAL.match(r.title)
        is_new = previous_new if fatal else not same_bug(r, before)
        if is_new:
            new.append(r)
        previous_new = is_new
    return new


def judge(driver: str, patch: str, findings: Sequence[str], marks: Sequence[str], before: Run,
          after: Run) -> Proof:  # fmt: skip
    """The verdict from the run before the patch and the run after it.  A report after the
    patch that was not there before is the patch's; one there before and after counts
    against the patch only when it is about the finding's code (`relates`): a report of
    other code in both runs is not the patch's to fix, and is named in the reason."""
    f = tuple(findings)
    runs = (before, after)
    for run in runs:
        refusal = next((o for s, o in run.steps if s == "not-runnable"), None)
        if refusal is not None:
            why = f"the scenario refused ({run.label}): {refusal}"
            return Proof(driver, patch, f, "not-runnable", why, runs)
        if run.boot_stop:
            return Proof(driver, patch, f, "not-runnable", f"the guest stopped at boot ({run.label}), before "
                         f"the scenario: {run.boot_stop}: see {run.log}", runs)  # fmt: skip
        if not run.finished and not run.reports:
            return Proof(driver, patch, f, "not-runnable", f"the scenario did not finish ({run.label}) and "
                         f"the kernel reported nothing: see {run.log}", runs)  # fmt: skip
    new = new_reports(before.reports, after.reports)
    if new:
        why = f"the patched kernel reports what the unpatched one did not: {_brief(new)}"
        return Proof(driver, patch, f, "report-after", why, runs)
    kept = [r for r in after.reports if relates(r, marks)]
    if kept:
        return Proof(driver, patch, f, "report-after", f"the patch does not remove: {_brief(kept)}", runs)
    other = list(after.reports)
    aside = f"; in both runs, not in the finding's code: {_brief(other)}" if other else ""
    fixed = [r for r in before.reports if relates(r, marks)]
    if fixed:
        why = f"before: {_brief(fixed)}; after: no report of the finding's code{aside}"
        return Proof(driver, patch, f, "reproduced-and-fixed", why, runs)
    return Proof(driver, patch, f, "no-report-before",
                 f"the scenario drew no kernel report of the finding's code before the patch for "
                 f"{'; '.join(f)} (steps that failed: {_failed_steps(before)}){aside}", runs)  # fmt: skip


def unpatched(driver: str, findings: Sequence[str], before: Run, marks: Sequence[str] = ()) -> Proof:
    """What the scenario shows of findings without a patch (a driver without patches, or
    the findings its patches leave, or no finding): no verdict on a patch, only whether the
    kernel reported something (`report-before`, or `no-report`), and whether the report is
    in the findings' code (`marks`: their functions, an IRQ finding's handler), which shows
    the finding real; a report on a driver without findings is a bug the sweep does not see."""
    refusal = next((o for s, o in before.steps if s == "not-runnable"), None)
    if refusal is not None:
        why = f"the scenario refused: {refusal}"
        return Proof(driver, "", tuple(findings), "not-runnable", why, (before,))
    if before.reports:
        mine = [r for r in before.reports if marks and relates(r, marks)]
        why = (f"no patch to prove; the kernel reports, in the finding's code: {_brief(mine)}" if mine
               else f"no patch to prove; the kernel reports: {_brief(before.reports)}")  # fmt: skip
        return Proof(driver, "", tuple(findings), "report-before", why, (before,))
    return Proof(driver, "", tuple(findings), "no-report",
                 f"no patch to prove, and no report (its steps after the unbind: {_failed_steps(before)})",
                 (before,))  # fmt: skip


def not_runnable(driver: str, patch: str, findings: Sequence[str], reason: str) -> Proof:
    return Proof(driver, patch, tuple(findings), "not-runnable", reason)
