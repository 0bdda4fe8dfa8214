"""Sizes typed on the command line: token counts (``4k``, ``128k``, ``1M``) and byte sizes.

``parse_count``: k = 1024, M = 2^20 (context lengths are powers of two: ``128k`` = 131,072).
``parse_bytes``: IEC (KiB, MiB, GiB, TiB) and SI (kB, MB, GB, TB) suffixes, ``B`` optional.
Both reject zero, negatives and anything else with a one-line LlmarchError; a count above
``MAX_CONTEXT`` (2^40 = 1,099,511,627,776, the spec's own bound on a context) is refused too.
"""

from __future__ import annotations

import re
from fractions import Fraction

from llmarch_cli.errors import LlmarchError, check_positive
from llmarch_cli.specs.model import MAX_CONTEXT

_COUNT = {"": 1, "k": 1 << 10, "m": 1 << 20}
_BYTES = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9, "t": 10**12, "tb": 10**12,
    "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}
_NUMBER = re.compile(r"\s*(-?\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*")


def _parse(text: str, units: dict[str, int], what: str, example: str, option: str | None) -> int:
    prefix = f"{option}: " if option else ""
    m = _NUMBER.fullmatch(str(text))
    unit = m.group(2).lower() if m else ""
    if not m or unit not in units:
        raise LlmarchError(f"{prefix}invalid {what} {text!r} (e.g. {example})")
    what = prefix + what
    try:  # exact, however many digits: a float would round 2**53 + 1 and overflow at 1e309
        value = Fraction(m.group(1)) * units[unit]
    except ValueError:  # beyond int()'s digit limit
        raise LlmarchError(f"{what} has too many digits ({len(text)} characters)") from None
    check_positive(what, value, given=text)
    if value.denominator != 1:
        raise LlmarchError(f"{what} {text!r} is not a whole number")
    return int(value)


def parse_count(text: str, option: str | None = None) -> int:
    """'4k' -> 4096, '128k' -> 131072, '1M' -> 1048576, '3000' -> 3000.

    ``option`` (``'--context'``) names the option in error messages.
    """
    value = _parse(text, _COUNT, "size", "2048, 4k, 128k, 1M", option)
    if value > MAX_CONTEXT:
        prefix = f"{option}: " if option else ""
        raise LlmarchError(f"{prefix}{text} is over the limit of {MAX_CONTEXT:,} (2^40)")
    return value


def parse_counts(text: str, option: str | None = None) -> list[int]:
    """A comma-separated list of counts: '2k,8k,32k'."""
    return [parse_count(part, option) for part in str(text).split(",")]


def parse_bytes(text: str, option: str | None = None) -> int:
    """'24GiB' -> 25769803776 (IEC), '80GB' or '80G' -> 80000000000 (SI), '512MiB' -> 536870912."""
    return _parse(text, _BYTES, "memory size", "24GiB, 80GB, 512MiB", option)
