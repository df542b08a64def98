"""The CLI's failures, each with the exit code it ends the command with."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A failure the operator is told about in one line; `exit_code` ends the command."""

    exit_code = EXIT_FAILED


class UsageError(CliError):
    """Wrong arguments, unreadable input, or no target to talk to: nothing was attempted."""

    exit_code = EXIT_USAGE


class OperationError(CliError):
    """The operation started and could not finish (what was done is said in the message)."""
