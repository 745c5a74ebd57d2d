"""The one place that starts subprocesses (spatch, git, make, perl, apt-get).

Every call is logged, runs with an explicit `cwd` and an optional timeout, and returns a
`Completed` value instead of raising: callers decide what a non-zero exit means.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from refactor.infra.errors import ToolError

log = logging.getLogger(__name__)

# The subprocesses running now (from any thread), so that a signal can stop them all: they
# run in their own sessions, out of reach of the terminal's Ctrl-C and of a kill of ours.
_live: set[subprocess.Popen[str]] = set()
_live_lock = threading.Lock()
_stopping = threading.Event()


@dataclass(frozen=True)
class Completed:
    """The outcome of one subprocess."""

    argv: tuple[str, ...]
    returncode: int  # negative: killed by that signal
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def run(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> Completed:
    """Run `argv` to completion (or until `timeout` seconds) and capture its output.

    On timeout the whole process group is killed, so children (spatch's workers, make's
    jobs) do not survive their parent.  A missing executable raises ToolError.
    """
    full_env = None if env is None else {**os.environ, **env}
    if _stopping.is_set() and threading.current_thread() is not threading.main_thread():
        raise ToolError("stopped: the run is being interrupted")  # a worker starts nothing new
    log.debug("run %s (cwd=%s, timeout=%s)", " ".join(argv), cwd, timeout)
    start = time.monotonic()
    try:
        popen = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=full_env,
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
    except FileNotFoundError:
        missing = argv[0] if cwd is None or os.path.isdir(cwd) else f"the directory {cwd}"
        raise ToolError(f"{missing} not found" + (" on PATH" if missing == argv[0] else "")) from None
    with _live_lock:
        _live.add(popen)
    with popen as proc:
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            out, err = proc.communicate()
            timed_out = True
        except BaseException:  # Ctrl-C: take the children down with us
            _kill_group(proc)
            raise
        finally:
            with _live_lock:
                _live.discard(popen)
    seconds = time.monotonic() - start
    log.debug("exit %s after %.2fs%s", proc.returncode, seconds, " (timeout)" if timed_out else "")
    return Completed(tuple(argv), proc.returncode, out, err, seconds, timed_out)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def stop_all() -> int:
    """Kill every subprocess running now, in every thread, and let worker threads start no
    new one (the main thread still may: it removes worktrees and temporary files); for a
    signal handler.  Returns how many were killed."""
    _stopping.set()
    with _live_lock:
        live = list(_live)
    for p in live:
        _kill_group(p)
    return len(live)


def resume() -> None:
    """Allow worker threads to start subprocesses again (after `stop_all`)."""
    _stopping.clear()
