"""Group-wise weight quantisation: symmetric absmax int8/int4 and QLoRA's NF4.

A weight of any shape is flattened and cut into groups (blocks) of ``group_size`` values,
the last one zero-padded; each group stores one float32 scale (its absolute maximum) and one
small integer code per value. ``dequantize`` rebuilds a float32 array of the original shape.

NF4 (QLoRA, Dettmers et al. 2023, §3): 16 code values at quantiles of N(0, 1), rescaled to
[-1, 1], asymmetric so that 0 is exactly representable (8 positive, 7 negative values and 0).
Double quantisation stores the block scales themselves in 8 bits per block of 256 after
subtracting their mean; QLoRA uses 8-bit floats there, this module a symmetric int8 absmax,
the same 8 + 32/256 bits per scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

F32 = np.float32
FORMATS = ("int8", "int4", "nf4")
DQ_BLOCK = 256


def _nf4_code() -> np.ndarray:
    """The 16 NF4 values: normal quantiles, 8 on the positive and 7 on the negative side, and 0.

    The outermost probability 0.9677083 = ((1 - 1/(2*15)) + (1 - 1/(2*16))) / 2 keeps the
    quantiles finite; both sides are scaled so their extremes are exactly -1 and 1.
    """
    outer = ((1 - 1 / 30) + (1 - 1 / 32)) / 2
    inv_cdf = NormalDist().inv_cdf
    pos = [inv_cdf(p) for p in np.linspace(outer, 0.5, 9)[:-1]]  # 8 positive quantiles
    neg = [-inv_cdf(p) for p in np.linspace(outer, 0.5, 8)[:-1]]  # 7 negative quantiles
    values = np.sort(np.array(pos + [0.0] + neg))
    return (values / values.max()).astype(F32)  # [16], from -1 to 1


NF4_CODE = _nf4_code()


@dataclass(frozen=True)
class Quantized:
    """Codes [groups, group_size] and float32 scales [groups] of one weight."""

    fmt: str
    shape: tuple[int, ...]
    group_size: int
    codes: np.ndarray  # int8 (int8/int4 codes) or uint8 (NF4 indices)
    scales: np.ndarray  # float32 [groups], after any double quantisation round trip
    scale_bits: float  # storage bits per scale: 32, or 8 + 32/256 with double quantisation

    @property
    def code_bits(self) -> int:
        return 8 if self.fmt == "int8" else 4

    @property
    def bits_per_param(self) -> float:
        """Storage per weight: code bits plus the scale's share."""
        return self.code_bits + self.scale_bits / self.group_size


def _groups(w: np.ndarray, group_size: int) -> np.ndarray:
    """Flatten and zero-pad to [groups, group_size] float32."""
    if group_size <= 0:
        raise ValueError(f"group size must be positive, got {group_size}")
    flat = np.asarray(w, dtype=F32).ravel()  # [n]
    pad = (-flat.size) % group_size
    return np.concatenate([flat, np.zeros(pad, F32)]).reshape(-1, group_size)


def _absmax(groups: np.ndarray) -> np.ndarray:
    """Largest |value| per group [groups]; an all-zero group gets 1 so nothing divides by 0."""
    m = np.abs(groups).max(axis=-1)
    return np.where(m > 0, m, F32(1)).astype(F32)


def double_quantize(scales: np.ndarray, block: int = DQ_BLOCK) -> np.ndarray:
    """Round-trip float32 scales [g] through mean + int8 absmax per ``block`` -> scales [g]."""
    offset = F32(scales.mean())
    blocks = _groups(scales - offset, block)  # [g/block, block]
    step = _absmax(blocks) / 127  # [g/block]
    codes = np.clip(np.rint(blocks / step[:, None]), -127, 127)
    return (codes * step[:, None]).ravel()[: scales.size] + offset


def quantize(w: np.ndarray, fmt: str, group_size: int = 64, double_quant: bool = False) -> Quantized:
    """Quantise w (any shape) to ``fmt`` in groups of ``group_size`` values."""
    groups = _groups(w, group_size)  # [g, group_size]
    absmax = _absmax(groups)  # [g]
    if fmt in ("int8", "int4"):
        qmax = 127 if fmt == "int8" else 7
        scales = absmax / qmax  # [g], one code step
        codes = np.clip(np.rint(groups / scales[:, None]), -qmax, qmax).astype(np.int8)
    elif fmt == "nf4":
        scales = absmax
        normed = groups / scales[:, None]  # [g, group_size] in [-1, 1]
        midpoints = (NF4_CODE[1:] + NF4_CODE[:-1]) / 2  # [15] decision boundaries
        codes = np.searchsorted(midpoints, normed).astype(np.uint8)  # nearest code index
    else:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    scale_bits = 32.0
    if double_quant:
        scales, scale_bits = double_quantize(scales), 8 + 32 / DQ_BLOCK
    return Quantized(fmt, tuple(np.shape(w)), group_size, codes, scales.astype(F32), scale_bits)


def dequantize(q: Quantized) -> np.ndarray:
    """Codes times scales, padding dropped -> float32 array of the original shape."""
    values = NF4_CODE[q.codes] if q.fmt == "nf4" else q.codes.astype(F32)  # [g, group_size]
    flat = (values * q.scales[:, None]).ravel()
    return flat[: int(np.prod(q.shape))].reshape(q.shape)


def quant_error(w: np.ndarray, w_hat: np.ndarray) -> dict[str, float]:
    """max |w - w_hat|, RMS error, and RMS error relative to RMS(w)."""
    diff = np.asarray(w, F32) - np.asarray(w_hat, F32)
    rms = float(np.sqrt(np.mean(diff * diff)))
    return {
        "max_abs_error": float(np.abs(diff).max()),
        "rms_error": rms,
        "relative_rms_error": rms / float(np.sqrt(np.mean(np.asarray(w, F32) ** 2))),
    }
