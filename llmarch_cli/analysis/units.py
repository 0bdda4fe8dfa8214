"""Integer arithmetic shared by the memory analyses (bytes are exact Python ints)."""

from __future__ import annotations

GIB = 1 << 30


def ceil_div(numerator: int, denominator: int) -> int:
    """``ceil(numerator / denominator)`` for integers, exactly (no float rounding)."""
    return -(-numerator // denominator)
