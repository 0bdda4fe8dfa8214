"""Scaled dot-product attention: MHA, GQA and MQA, masks, additive bias, sinks, sliding windows.

Shapes: ``q`` is ``[nh, T, hd]``, ``k`` and ``v`` are ``[nkv, S, hd]`` with ``nkv`` dividing
``nh``; kv head ``j`` serves query heads ``j*g .. j*g+g-1`` (``g = nh // nkv``). GQA never
copies k and v: the ``g`` query heads of a group are stacked into one ``[g*T, hd]`` matrix
that multiplies their shared kv head. Masked scores get float32's most negative finite value
added, as transformers does, so a fully masked row becomes uniform instead of NaN. A sink is
one learned logit per head that joins the softmax as an extra key and is dropped afterwards,
so the weights of a row sum to less than 1.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from llmarch_cli.kernels import counting
from llmarch_cli.kernels.masks import additive_mask, band_mask


def repeat_kv(x: np.ndarray, groups: int) -> np.ndarray:
    """[nkv, S, hd] -> [nkv*groups, S, hd], each kv head repeated ``groups`` times in a row."""
    return x if groups == 1 else np.repeat(x, groups, axis=0)


def _groups(num_heads: int, num_kv_heads: int) -> int:
    if num_kv_heads <= 0 or num_heads % num_kv_heads:
        raise ValueError(f"kv heads ({num_kv_heads}) must divide query heads ({num_heads})")
    return num_heads // num_kv_heads


def _grouped(x: np.ndarray, num_kv_heads: int) -> np.ndarray:
    """[nh, T, d] -> [nkv, g*T, d]: the query heads sharing a kv head, stacked (a view when
    x's strides allow, e.g. ``attention_scores``' transposed product: BLAS takes either layout)."""
    nh, T, d = x.shape
    return x.reshape(num_kv_heads, nh // num_kv_heads * T, d)


def _softmax_(scores: np.ndarray, sinks: np.ndarray | None) -> np.ndarray:
    """In-place softmax over the last axis of scores [nh, T, S], with one extra sink logit per
    head when given (it takes part in the max and the sum, then is dropped)."""
    top = scores.max(axis=-1, keepdims=True)  # [nh, T, 1]
    if sinks is not None:
        sink = np.asarray(sinks, scores.dtype)[:, None, None]  # [nh, 1, 1]
        top = np.maximum(top, sink)
    scores -= top
    np.exp(scores, out=scores)  # [nh, T, S] in [0, 1]
    total = scores.sum(axis=-1, keepdims=True)  # [nh, T, 1]
    if sinks is not None:
        total += np.exp(sink - top)
    scores /= total
    return scores


def soft_cap(x: np.ndarray, cap: float) -> np.ndarray:
    """Logit soft-capping (Gemma 2): cap * tanh(x / cap), smooth and bounded in (-cap, cap);
    in place on a float32 array, returned."""
    c = np.asarray(cap, x.dtype)
    x /= c
    np.tanh(x, out=x)
    x *= c
    return x


# A value counts as clipped when the cap took more than this share off its magnitude:
# |cap tanh(x / cap)| < (1 - SOFTCAP_CLIPPED) |x|, beyond |x| = 0.584 cap for 10%.
SOFTCAP_CLIPPED = 0.10


def soft_cap_effect(x: np.ndarray, cap: float,
                    allowed: np.ndarray | None = None) -> tuple[float, int, int]:
    """What ``soft_cap`` would do to x [..., S] (values before the cap), over the entries
    ``allowed`` (bool, broadcastable; None: all) -> (max |x|, values clipped by more than
    SOFTCAP_CLIPPED, values considered)."""
    mag = np.abs(np.asarray(x, np.float32))
    if allowed is not None:
        mag = mag[np.broadcast_to(allowed, mag.shape)]  # [n] the entries a softmax sees
    capped = np.float32(cap) * np.tanh(mag / np.float32(cap))
    clipped = int(np.count_nonzero(capped < np.float32(1 - SOFTCAP_CLIPPED) * mag))
    return (float(mag.max()) if mag.size else 0.0), clipped, int(mag.size)


def attention_scores(q: np.ndarray, k: np.ndarray, scale: float) -> np.ndarray:
    """q k^T * scale per head, kv heads shared by groups: -> [nh, T, S] float32."""
    nh, T, _ = q.shape
    nkv, S, _ = k.shape
    _groups(nh, nkv)
    queries = _grouped(q, nkv)  # [nkv, g*T, hd]
    if S > queries.shape[1]:  # a decoding step: (k q^T)^T, a transposed view, is ~2x faster
        scores = (k @ queries.transpose(0, 2, 1)).transpose(0, 2, 1)  # [nkv, g*T, S]
    else:  # a full sequence: row-major scores keep the softmax over S contiguous
        scores = queries @ k.transpose(0, 2, 1)  # [nkv, g*T, S]
    scores *= np.asarray(scale, scores.dtype)
    return scores.reshape(nh, T, S)


def _weighted_values(probs: np.ndarray, v: np.ndarray) -> np.ndarray:
    """probs [nh, T, S] @ v [nkv, S, hd], kv heads shared by groups -> [nh, T, hd]."""
    nh, T, _ = probs.shape
    return (_grouped(probs, v.shape[0]) @ v).reshape(nh, T, v.shape[-1])


def attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    *,
    scale: float,
    mask: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    sinks: np.ndarray | None = None,
    softcap: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """softmax(q k^T * scale + bias, masked) v -> (out [nh, T, hd], probs [nh, T, S]).

    mask: bool broadcastable to [T, S] (or [nh, T, S]), True = allowed (``masks.causal_mask``).
    bias: float broadcastable to [nh, T, S], added after scaling (ALiBi, T5 buckets, or a mask
    already made additive with ``masks.additive_mask``, which saves converting it per call).
    sinks: [nh] sink logits (gpt-oss), not scaled.
    softcap: Gemma 2's cap on the scaled scores (``soft_cap``), before bias and mask.
    """
    scores = attention_scores(q, k, scale)  # [nh, T, S]
    if softcap is not None:
        soft_cap(scores, softcap)
    if bias is not None:
        scores += bias
    if mask is not None:
        scores += additive_mask(mask, scores.dtype)
    probs = _softmax_(scores, sinks)  # [nh, T, S]
    if counting.ACTIVE is not None:
        allowed = mask if mask is not None else bias if bias is not None else q.shape[1] * k.shape[1]
        counting.add_attention(q.shape[0], q.shape[-1], v.shape[-1], allowed)
    return _weighted_values(probs, v), probs  # [nh, T, hd], [nh, T, S]


def window_blocks(T: int, window: int, block: int) -> Iterator[tuple[int, int, int]]:
    """(q0, q1, k0) per block of queries: queries q0..q1-1 see keys k0..q1-1 at most.

    The key span q1 - k0 never exceeds ``block + window - 1``: the O(T x W) memory bound.
    """
    if window <= 0 or block <= 0:
        raise ValueError(f"window and block must be positive, got {window} and {block}")
    for q0 in range(0, T, block):
        q1 = min(q0 + block, T)
        yield q0, q1, max(0, q0 - window + 1)


def windowed_attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    *,
    window: int,
    scale: float,
    sinks: np.ndarray | None = None,
    block: int = 256,
    softcap: float | None = None,
) -> np.ndarray:
    """Causal sliding-window self-attention in blocks of queries -> out [nh, T, hd].

    Equal to ``attention`` with ``sliding_window_mask(T, window)`` but never builds a T x T
    matrix: each block of ``block`` queries scores against at most ``block + window - 1``
    keys. q [nh, T, hd], k and v [nkv, T, hd] (self-attention, no cache).
    """
    nh, T, hd = q.shape
    out = np.empty((nh, T, v.shape[-1]), dtype=q.dtype)  # [nh, T, hd]
    for q0, q1, k0 in window_blocks(T, window, block):
        allowed = band_mask(np.arange(q0, q1), np.arange(k0, q1), window)  # [b, q1-k0]
        scores = attention_scores(q[:, q0:q1], k[:, k0:q1], scale)  # [nh, b, q1-k0]
        if softcap is not None:
            soft_cap(scores, softcap)
        scores += additive_mask(allowed, scores.dtype)
        if counting.ACTIVE is not None:
            counting.add_attention(nh, hd, v.shape[-1], allowed)
        out[:, q0:q1] = _weighted_values(_softmax_(scores, sinks), v[:, k0:q1])  # [nh, b, hd]
    return out
