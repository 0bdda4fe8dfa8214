"""LoRA: a frozen weight plus a trainable rank-r update scaled by alpha / r.

Layout as in ``ffn``: ``w`` is ``[in, out]`` and applied as ``x @ w``; the adapter is
``a [in, r]`` then ``b [r, out]``. In PEFT's ``nn.Linear`` layout (``lora_A.weight [r, in]``,
``lora_B.weight [out, r]``) pass ``a = A.T``, ``b = B.T``; the merged weight is then the
transpose of PEFT's ``W + (alpha / r) B A``.
"""

from __future__ import annotations

import numpy as np


def lora_scale(alpha: float, rank: int) -> float:
    """alpha / r, the factor on the low-rank update."""
    if rank <= 0:
        raise ValueError(f"LoRA rank must be positive, got {rank}")
    return alpha / rank


def lora_delta(a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    """(alpha / r) a @ b: [in, r] @ [r, out] -> [in, out], a matrix of rank <= r."""
    return (np.float32(lora_scale(alpha, a.shape[1])) * (a @ b)).astype(a.dtype, copy=False)


def lora_apply(
    x: np.ndarray, w: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: float
) -> np.ndarray:
    """Unmerged forward x @ w + (alpha / r) (x @ a) @ b: [T, in] -> [T, out], never forming a @ b."""
    low_rank = (x @ a) @ b  # [T, r] -> [T, out]
    return x @ w + np.asarray(lora_scale(alpha, a.shape[1]), dtype=x.dtype) * low_rank


def lora_merge(w: np.ndarray, a: np.ndarray, b: np.ndarray, alpha: float) -> np.ndarray:
    """Merged weight w + (alpha / r) a @ b -> [in, out]: same outputs, no extra latency."""
    return w + lora_delta(a, b, alpha)
