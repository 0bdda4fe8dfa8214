"""fp16 and bf16 emulated on float32 arrays.

Numpy has no bfloat16 and its float16 matmul is slow, so every array stays float32 and is
rounded to the chosen dtype's precision: weights once when the model is built, and the output
of every kernel call and residual add (each projection, norm, FFN or expert, attention output,
MoE mixture, embedding sum and the logits). Inside a kernel, arithmetic is float32: matmuls
accumulate in float32, and attention scores and softmax stay float32 as transformers computes
them. fp16 rounds through ``numpy.float16`` (overflow becomes inf);
bf16 rounds the float32 bit pattern to its top 16 bits, to nearest with ties to even.
fp64 keeps activations and weights float64: the parity tier's reference precision where float32
rounding alone moves the logits by more than the tolerance (RoPE angles and the router's
softmax stay float32, as in every dtype).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Dtype = Literal["fp32", "fp16", "bf16", "fp64"]
DTYPES: tuple[str, ...] = ("fp32", "fp16", "bf16", "fp64")


def round_bf16(x: np.ndarray) -> np.ndarray:
    """float32 -> nearest bfloat16 value (ties to even), kept as float32; NaN stays NaN."""
    x = np.asarray(x, dtype=np.float32)
    bits = x.view(np.uint32)
    rounded = (bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))) & np.uint32(
        0xFFFF0000
    )
    return np.where(np.isnan(x), x, rounded.view(np.float32))


def float_type(dtype: str) -> type[np.floating]:
    """The numpy type activations and weights are held in: float64 for fp64, else float32."""
    return np.float64 if dtype == "fp64" else np.float32


def rounder(dtype: str):
    """The function that rounds a float32 array to ``dtype`` precision (identity for fp32 and
    fp64)."""
    if dtype in ("fp32", "fp64"):
        return lambda x: x
    if dtype == "fp16":
        return lambda x: np.asarray(x, dtype=np.float32).astype(np.float16).astype(np.float32)
    if dtype == "bf16":
        return round_bf16
    raise ValueError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")


def stored_dtype(dtype: str) -> np.dtype:
    """The array dtype a cache keeps ``dtype`` values in: float32, float64, float16, or bf16 as its
    16-bit patterns (uint16), so a cached value takes exactly the dtype's bytes."""
    return np.dtype({"fp32": np.float32, "fp16": np.float16, "bf16": np.uint16, "fp64": np.float64}[dtype])


def store(x: np.ndarray, dtype: str) -> np.ndarray:
    """float32 values already rounded to ``dtype`` -> their ``stored_dtype`` form (exact)."""
    if dtype == "bf16":
        return (np.ascontiguousarray(x, dtype=np.float32).view(np.uint32) >> np.uint32(16)).astype(np.uint16)
    return x.astype(stored_dtype(dtype), copy=False)


def load(x: np.ndarray, dtype: str) -> np.ndarray:
    """A ``stored_dtype`` array back to ``float_type`` (exact; no copy for fp32 and fp64)."""
    if dtype == "bf16":
        return (x.astype(np.uint32) << np.uint32(16)).view(np.float32)
    return x.astype(float_type(dtype), copy=False)
