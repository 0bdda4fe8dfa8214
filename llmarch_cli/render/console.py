"""The one Rich Console factory: colour only on a terminal, NO_COLOR and --no-color respected.

Rich is imported inside ``make_console`` so that importing this module (e.g. from the
``--no-color`` callback) stays free of rich on the JSON path.
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

_colour_disabled = False


def disable_colour(disabled: bool = True) -> None:
    """Turn colour off for every console made afterwards (``--no-color``)."""
    global _colour_disabled
    _colour_disabled = disabled


def colour_allowed(stream: IO[str]) -> bool:
    """True when ``stream`` is a terminal and neither NO_COLOR, TERM=dumb nor --no-color says no."""
    if _colour_disabled or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def make_console(stderr: bool = False, *, file: IO[str] | None = None, width: int | None = None) -> Console:
    """A Console on stdout (or stderr, or ``file``); colour only where ``colour_allowed``."""
    from rich.console import Console

    stream = file if file is not None else (sys.stderr if stderr else sys.stdout)
    colour = colour_allowed(stream)
    return Console(
        file=stream,
        width=width,
        no_color=not colour,
        color_system="auto" if colour else None,
        highlight=False,
        soft_wrap=False,
    )
