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
