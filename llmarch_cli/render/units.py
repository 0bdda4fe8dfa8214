"""Human forms of raw integers: IEC for memory (GiB), SI for counts (B = billion) and FLOPs.

Every function takes an exact base-unit integer and returns a short string with two decimals
and its unit; values below the first step are printed whole.
"""

from __future__ import annotations

from decimal import Decimal

_IEC = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_COUNT = ("", "K", "M", "B", "T", "Q")
_FLOP = ("FLOP", "kFLOP", "MFLOP", "GFLOP", "TFLOP", "PFLOP", "EFLOP", "ZFLOP")


def _scaled(n: int | float, step: int, units: tuple[str, ...]) -> str:
    if abs(n) < step:
        whole = f"{n:g}" if isinstance(n, float) else str(n)
        return f"{whole} {units[0]}".rstrip()
    top = step ** (len(units) - 1)
    if abs(n) >= top * 10**15:  # absurd what-ifs (and ints past float range): scientific
        return f"{Decimal(n) / top:.2e} {units[-1]}"
    value = float(n)
    for unit in units[1:]:
        value /= step
        if round(abs(value), 2) < step or unit == units[-1]:
            return f"{value:.2f} {unit}"
    raise AssertionError("unreachable")


def format_bytes(n: int | float) -> str:
    """Bytes in IEC units: 13476831232 -> '12.55 GiB'."""
    return _scaled(n, 1024, _IEC)


def format_count(n: int | float) -> str:
    """A count in SI steps of 1000: 6738415616 -> '6.74 B' (K, M, B, T)."""
    return _scaled(n, 1000, _COUNT)


def format_flops(n: int | float) -> str:
    """Floating-point operations in SI steps: 1.2e12 -> '1.20 TFLOP'."""
    return _scaled(n, 1000, _FLOP)
