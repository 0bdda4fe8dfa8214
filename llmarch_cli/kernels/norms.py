"""LayerNorm and RMSNorm over the last axis, statistics in float32 (float64 for float64 input).

``x`` is ``[..., H]``; ``weight`` and ``bias`` are ``[H]``. The result has ``x``'s dtype.
"""

from __future__ import annotations

import numpy as np


def _at_least_float32(x: np.ndarray) -> np.ndarray:
    """x as float32, or float64 when it is float64."""
    x = np.asarray(x)
    return x.astype(np.float64 if x.dtype == np.float64 else np.float32, copy=False)


def layer_norm(
    x: np.ndarray, weight: np.ndarray | None, bias: np.ndarray | None, eps: float
) -> np.ndarray:
    """(x - mean) / sqrt(var + eps) * weight + bias, biased variance (divide by H)."""
    x32 = _at_least_float32(x)  # [..., H]
    mean = x32.mean(axis=-1, keepdims=True)  # [..., 1]
    var = ((x32 - mean) ** 2).mean(axis=-1, keepdims=True)  # [..., 1]
    y = (x32 - mean) / np.sqrt(var + x32.dtype.type(eps))  # [..., H]
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y.astype(np.asarray(x).dtype, copy=False)


def rms_norm(x: np.ndarray, weight: np.ndarray | None, eps: float) -> np.ndarray:
    """x / sqrt(mean(x^2) + eps) * weight: no mean subtraction, no bias (Llama, T5)."""
    x32 = _at_least_float32(x)  # [..., H]
    ms = (x32 * x32).mean(axis=-1, keepdims=True)  # [..., 1]
    y = x32 / np.sqrt(ms + x32.dtype.type(eps))  # [..., H]
    if weight is not None:
        y = y * weight
    return y.astype(np.asarray(x).dtype, copy=False)


def qk_norm_per_head(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    """QK-norm per head (Qwen3, Gemma 3): RMSNorm over each head's ``hd`` dims, one weight
    shared by all heads. x [nh, T, hd], weight [hd] -> [nh, T, hd]; applied before RoPE."""
    return rms_norm(x, weight, eps)


def qk_norm_projection(x: np.ndarray, weight: np.ndarray, eps: float) -> np.ndarray:
    """QK-norm over the whole projection (OLMo 2): RMSNorm over all heads' dims together.
    x [T, nh*hd], weight [nh*hd] -> [T, nh*hd]; applied before splitting into heads."""
    return rms_norm(x, weight, eps)


def qk_norm_l2(x: np.ndarray, eps: float) -> np.ndarray:
    """Llama 4's weightless QK-norm (``Llama4TextL2Norm``): despite the name, x / sqrt(mean(x^2)
    + eps) over each head's ``hd`` dims, with no weight. x [n, T, hd] -> [n, T, hd]; applied
    after RoPE, on the RoPE layers only."""
    return rms_norm(x, None, eps)
