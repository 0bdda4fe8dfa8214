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
    MISMATCH = 3  # inspect --against: the checkpoint differs from the model
    INTERRUPTED = 130


class LlmarchError(Exception):
    """Bad input: a one-line message for the user, and an optional hint line."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def check_positive(what: str, value: float, given: str | None = None) -> None:
    """LlmarchError ``<what> must be positive, got <given or value>`` unless ``value > 0``.

    ``given`` is the text the user typed, when it differs from ``value`` (``'-4k'``).
    """
    if value <= 0:
        raise LlmarchError(f"{what} must be positive, got {value if given is None else repr(given)}")
