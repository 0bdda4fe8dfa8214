"""fp16 and bf16 emulated on float32 arrays.

Numpy has no bfloat16 and its float16 matmul is slow, so every array stays float32 and is
rounded to the chosen dtype's precision: weights once when the model is built, and the output
of every kernel call and residual add (each projection, norm, FFN or expert, attention output,
MoE mixture, embedding sum and the logits). Inside a kernel, arithmetic is float32: matmuls
accumulate in float32, and attention scores and softmax stay float32 as transformers computes
them. fp16 rounds through ``numpy.float16`` (overflow becomes inf);
bf16 rounds the float32 bit pattern to its top 16 bits, to nearest with ties to even.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Dtype = Literal["fp32", "fp16", "bf16"]
DTYPES: tuple[str, ...] = ("fp32", "fp16", "bf16")


def round_bf16(x: np.ndarray) -> np.ndarray:
    """float32 -> nearest bfloat16 value (ties to even), kept as float32; NaN stays NaN."""
    x = np.asarray(x, dtype=np.float32)
    bits = x.view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) & np.uint32(
        0xFFFF0000
    )
    return np.where(np.isnan(x), x, rounded.view(np.float32))


def rounder(dtype: str):
    """The function that rounds a float32 array to ``dtype`` precision (identity for fp32)."""
    if dtype == "fp32":
        return lambda x: x
    if dtype == "fp16":
        return lambda x: np.asarray(x, dtype=np.float32).astype(np.float16).astype(np.float32)
    if dtype == "bf16":
        return round_bf16
    raise ValueError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")
