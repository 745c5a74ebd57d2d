"""The kernel's reports in a guest's console log: KASAN, BUG, WARNING, lockdep, oops.

The console interleaves the kernel's messages with the scenario's `drmm-prove:` lines, so
each report is attributed to the scenario phase it appeared in (`boot` before the
scenario started); a report at boot is not the scenario's doing and the verdict leaves it
aside.  A report runs from its first line to the kernel's end marker (`---[ end trace`,
KASAN's and lockdep's `=====` rule), to the next report or scenario line, or to
`MAX_LINES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_LINES = 60
STDOUT_MARK = "----- the scenario's stdout -----"  # runner.STDOUT_MARK: where the console ends

_STAMP = re.compile(r"^\s*\[\s*\d+\.\d+\]\s?")
# (kind, pattern of the first line); the first match wins, so the specific forms come first
_STARTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("kasan", re.compile(r"^BUG: KASAN: ")),
    (
        "lockdep",
        re.compile(
            r"^WARNING: (possible .*(locking|lock).*|.*lock.*held.*|suspicious RCU usage|"
            r"bad unlock balance detected!|held lock freed!|lock held when returning.*)"
        ),
    ),
    ("lockdep", re.compile(r"^(DEBUG_LOCKS_WARN_ON|INFO: trying to register non-static key)")),
    ("odebug", re.compile(r"^ODEBUG: ")),
    ("bug", re.compile(r"^(BUG: |kernel BUG at )")),
    ("oops", re.compile(r"^(Oops: |general protection fault|Kernel panic)")),
    ("warning", re.compile(r"^WARNING: ")),
)
_END = re.compile(r"^(---\[ end trace|={20,}$)")
# the reports that run to their end marker whatever other report lines they contain
_ABSORBS = frozenset({"kasan", "lockdep", "odebug", "bug", "oops"})
_SCENARIO = re.compile(r"^drmm-prove: (?P<step>[\w-]+): (?P<outcome>.*)$")
# what varies between two runs of one report: addresses, offsets, CPU and task numbers
_VARIES = re.compile(r"0x[0-9a-f]+|\b[0-9a-f]{8,}\b|\bCPU: \d+|\bPID: \d+|\bby task \S+|\d+")


@dataclass(frozen=True)
class Report:
    """One kernel report: its kind, first line, the scenario phase and the lines it spans."""

    kind: str  # kasan, lockdep, odebug, bug, oops, warning
    title: str
    phase: str  # boot, setup, unbind, after-unbind, rebind
    excerpt: tuple[str, ...]

    @property
    def signature(self) -> str:
        """The title without what differs between runs: the same report before and after a
        patch has the same signature."""
        return f"{self.kind}: {_VARIES.sub('N', self.title)}"

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "title": self.title, "phase": self.phase, "excerpt": list(self.excerpt)}


@dataclass(frozen=True)
class GuestLog:
    """What one guest run printed: the reports, the scenario's steps and whether it finished."""

    reports: tuple[Report, ...]
    steps: tuple[tuple[str, str], ...]  # (step, outcome) in order
    finished: bool  # the scenario printed `done`

    def scenario_reports(self) -> tuple[Report, ...]:
        """The reports from the scenario's start on (boot-time ones left out)."""
        return tuple(r for r in self.reports if r.phase != "boot")

    def refusal(self) -> str | None:
        """The scenario's own `not-runnable` reason, if it gave one."""
        for name, outcome in self.steps:
            if name == "not-runnable":
                return outcome
        return None


def _kind(line: str) -> str | None:
    for kind, pat in _STARTS:
        if pat.match(line):
            return kind
    return None


def parse(text: str) -> GuestLog:
    """Split a console log into reports and scenario steps (a log file as the runner writes
    it: the console, then the scenario's stdout, which is left out)."""
    text = text.split(STDOUT_MARK, 1)[0]
    reports: list[Report] = []
    steps: list[tuple[str, str]] = []
    phase = "boot"
    current: list[str] = []
    kind = ""
    cur_phase = phase

    def close() -> None:
        nonlocal current
        if current:
            reports.append(Report(kind, current[0], cur_phase, tuple(current)))
        current = []

    for raw in text.splitlines():
        line = _STAMP.sub("", raw.rstrip("\r"))
        m = _SCENARIO.match(line)
        if m:
            close()
            name, outcome = m["step"], m["outcome"].strip()
            steps.append((name, outcome))
            if name == "start":
                phase = "setup"
            elif name == "phase":
                phase = outcome
            continue
        new = _kind(line)
        # the WARNING after an ODEBUG line, the Oops after a BUG: part of the open report
        if new and not (current and kind in _ABSORBS):
            close()
            kind, cur_phase = new, phase
            current = [line]
            continue
        if current:
            if _END.match(line) and len(current) > 1:
                current.append(line)
                close()
            elif len(current) >= MAX_LINES:
                close()
            else:
                current.append(line)
    close()
    return GuestLog(tuple(reports), tuple(steps), any(name == "done" for name, _ in steps))
