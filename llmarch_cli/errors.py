"""The one error type users see, and the exit codes it maps to.

Any layer raises ``LlmarchError(message, hint)`` for bad input; the CLI prints
``llmarch: error: <message>`` (and the hint on a second line) on stderr and exits with 2.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    BAD_INPUT = 2
    INTERRUPTED = 130


class LlmarchError(Exception):
    """Bad input: a one-line message for the user, and an optional hint line."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
