"""What spatch gives back: the typed result of one rule on one file, and the parsing of
spatch's output into it (report lines, with the `message<TAB>{json}` data a rule prints
under DRMM_REFACTOR=1; diff hunks; parse errors, timeouts and crashes per file).
"""

from __future__ import annotations

import enum
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from refactor.infra import proc


class FileStatus(enum.Enum):
    OK = "ok"
    PARSE_ERROR = "parse-error"  # some code was not parsed; matches from the rest are kept
    TIMEOUT = "timeout"
    CRASH = "spatch-crash"


@dataclass(frozen=True)
class Match:
    """One line printed by a rule with coccilib.report: `file:line:col-col: message`."""

    file: str
    line: int
    column: int
    end_column: int
    message: str
    # what the rule matched, when run by drmm-refactor (DRMM_REFACTOR=1): name -> text
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FileResult:
    file: str
    status: FileStatus
    detail: str = ""
    matches: tuple[Match, ...] = ()
    diff: str = ""
    unparsed: tuple[int, ...] = ()  # lines where spatch's parser gave up (PARSE_ERROR)


@dataclass(frozen=True)
class RuleRun:
    """The results of one rule over a set of files: one FileResult per file, in order."""

    rule: str
    results: tuple[FileResult, ...]
    stray: tuple[str, ...] = ()  # output lines that name none of the files
    seconds: float = 0.0
    processes: int = 0

    def by_status(self, status: FileStatus) -> list[FileResult]:
        return [r for r in self.results if r.status is status]


_REPORT = re.compile(r"^(?P<file>[^:\s][^:]*):(?P<line>\d+):(?P<col>\d+)-(?P<end>\d+): (?P<msg>.*)$")
_EXN = re.compile(r"^EXN: (?P<exn>.*) in (?P<file>\S+)\s*$", re.M)
_PARSE_ERROR = re.compile(
    r'parse error\s*\n\s*= File "(?P<file>[^"]+)", line (?P<line>\d+), column (?P<col>\d+)'
    r"(?:[^\n]*\n\s*around = '(?P<around>[^\n]*)',)?"
)


@dataclass
class Outcome:
    matches: dict[str, list[Match]] = field(default_factory=dict)
    diffs: dict[str, list[str]] = field(default_factory=dict)
    problems: dict[str, tuple[FileStatus, str]] = field(default_factory=dict)
    unparsed: dict[str, list[int]] = field(default_factory=dict)
    stray: list[str] = field(default_factory=list)
    processes: int = 0


def crash_reason(res: proc.Completed) -> str:
    if res.returncode < 0:
        return f"spatch killed by signal {-res.returncode}"
    lines = [ln.strip() for ln in res.stderr.splitlines() if ln.strip()]
    fatal = [ln for ln in lines if "Fatal error" in ln or "exception" in ln.lower()]
    last = (fatal or lines or ["no message"])[-1]
    return f"spatch exited with status {res.returncode}: {last[:200]}"


def parse_output(stdout: str, stderr: str, files: set[str]) -> Outcome:
    out = Outcome()
    norm = {os.path.normpath(f): f for f in files}

    def owner(name: str) -> str | None:
        return norm.get(os.path.normpath(name))

    for m in _EXN.finditer(stderr):
        f = owner(m.group("file"))
        if f is None:
            out.stray.append(m.group(0))
            continue
        exn = m.group("exn")
        status = FileStatus.TIMEOUT if "Timeout" in exn else FileStatus.CRASH
        out.problems[f] = (status, exn)
    parse_errors: dict[str, list[str]] = {}
    for m in _PARSE_ERROR.finditer(stderr):
        f = owner(m.group("file"))
        if f is not None:
            around = f" near '{m.group('around')}'" if m.group("around") else ""
            parse_errors.setdefault(f, []).append(f"line {m.group('line')}{around}")
            out.unparsed.setdefault(f, []).append(int(m.group("line")))
    for f, where in parse_errors.items():
        if f not in out.problems:
            out.problems[f] = (FileStatus.PARSE_ERROR, "code not parsed at " + ", ".join(where))
    _split_stdout(stdout, owner, out)
    return out


def _split_stdout(stdout: str, owner: Callable[[str], str | None], out: Outcome) -> None:
    """Attribute report lines and diff hunks to the files they name."""
    current: str | None = None
    for line in stdout.splitlines(keepends=True):
        if line.startswith("diff -u -p ") or (line.startswith("--- ") and current is None):
            parts = line.split()
            name = parts[-2] if line.startswith("diff") else parts[1]
            current = owner(name.removeprefix("a/"))
        if current is not None and (line.startswith(("diff ", "--- ", "+++ ", "@@", " ", "+", "-", "\\"))):
            out.diffs.setdefault(current, []).append(line)
            continue
        current = None
        m = _REPORT.match(line.rstrip("\n"))
        f = owner(m.group("file")) if m else None
        if m and f is not None:
            message, data = _message_data(m.group("msg"))
            out.matches.setdefault(f, []).append(
                Match(f, int(m.group("line")), int(m.group("col")), int(m.group("end")), message, data)
            )
        elif line.strip():
            out.stray.append(line.rstrip("\n"))


def _message_data(text: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Split `message<TAB>{json}` (a rule run with DRMM_REFACTOR=1) into the two parts."""
    message, sep, tail = text.partition("\t{")
    if not sep:
        return text, ()
    try:
        data = json.loads("{" + tail)
    except ValueError:
        return text, ()
    if not isinstance(data, dict):
        return text, ()
    return message, tuple(sorted((str(k), "" if v is None else str(v)) for k, v in data.items()))


def merge(into: Outcome, other: Outcome) -> None:
    for k, v in other.matches.items():
        into.matches.setdefault(k, []).extend(v)
    for k, d in other.diffs.items():
        into.diffs.setdefault(k, []).extend(d)
    into.problems.update(other.problems)
    into.unparsed.update(other.unparsed)
    into.stray.extend(other.stray)
    into.processes += other.processes
