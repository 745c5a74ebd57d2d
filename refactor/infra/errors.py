"""Typed errors: core code raises them, the CLI turns them into one line and an exit status."""

from __future__ import annotations


class RefactorError(Exception):
    """An error the user can act on: bad input or a missing or unusable tool.

    The message is one line naming the problem; `exit_status` is what the CLI returns.
    """

    exit_status = 2


class TreeError(RefactorError):
    """The given path is not a usable kernel tree."""


class ToolError(RefactorError):
    """An external tool (spatch, git, make, perl) is missing or unusable."""


class Interrupted(BaseException):  # noqa: N818 - like KeyboardInterrupt, not an error
    """SIGTERM (or another signal turned into an exception) while working; like
    KeyboardInterrupt it unwinds every `finally`, so scratch worktrees and temporary
    files are removed.  The CLI exits with 128 + signal."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
