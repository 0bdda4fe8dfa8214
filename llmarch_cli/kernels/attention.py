"""Scaled dot-product attention: MHA, GQA and MQA, masks, additive bias, sinks, sliding windows.

Shapes: ``q`` is ``[nh, T, hd]``, ``k`` and ``v`` are ``[nkv, S, hd]`` with ``nkv`` dividing
``nh``; kv head ``j`` serves query heads ``j*g .. j*g+g-1`` (``g = nh // nkv``). Masked scores
take float32's most negative finite value, as transformers does, so a fully masked row becomes
uniform instead of NaN. A sink is one learned logit per head that joins the softmax as an
extra key and is dropped afterwards, so the weights of a row sum to less than 1.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from llmarch_cli.kernels.activations import softmax
from llmarch_cli.kernels.masks import band_mask


def repeat_kv(x: np.ndarray, groups: int) -> np.ndarray:
    """[nkv, S, hd] -> [nkv*groups, S, hd], each kv head repeated ``groups`` times in a row."""
    return x if groups == 1 else np.repeat(x, groups, axis=0)


def _groups(num_heads: int, num_kv_heads: int) -> int:
    if num_kv_heads <= 0 or num_heads % num_kv_heads:
        raise ValueError(f"kv heads ({num_kv_heads}) must divide query heads ({num_heads})")
    return num_heads // num_kv_heads


def _softmax_with_sinks(scores: np.ndarray, sinks: np.ndarray | None) -> np.ndarray:
    """softmax over the last axis, with one extra sink logit per head when given.

    scores [nh, T, S], sinks [nh] -> probabilities [nh, T, S] (rows sum to 1 without sinks).
    """
    if sinks is None:
        return softmax(scores, axis=-1)  # [nh, T, S]
    nh, T, _ = scores.shape
    sink = np.broadcast_to(np.asarray(sinks, scores.dtype)[:, None, None], (nh, T, 1))  # [nh, T, 1]
    probs = softmax(np.concatenate([scores, sink], axis=-1), axis=-1)  # [nh, T, S+1]
    return probs[..., :-1]  # [nh, T, S], the sink column dropped


def attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    *,
    scale: float,
    mask: np.ndarray | None = None,
    bias: np.ndarray | None = None,
    sinks: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """softmax(q k^T * scale + bias, masked) v -> (out [nh, T, hd], probs [nh, T, S]).

    mask: bool broadcastable to [nh, T, S], True = allowed (``masks.causal_mask`` etc.).
    bias: float broadcastable to [nh, T, S], added after scaling (ALiBi, T5 buckets).
    sinks: [nh] sink logits (gpt-oss), not scaled.
    """
    g = _groups(q.shape[0], k.shape[0])
    k, v = repeat_kv(k, g), repeat_kv(v, g)  # [nh, S, hd]
    scores = (q @ k.transpose(0, 2, 1)) * np.asarray(scale, q.dtype)  # [nh, T, S]
    if bias is not None:
        scores = scores + bias.astype(q.dtype, copy=False)
    if mask is not None:
        scores = np.where(mask, scores, np.finfo(q.dtype).min)  # [nh, T, S]
    probs = _softmax_with_sinks(scores, sinks)  # [nh, T, S]
    return probs @ v, probs  # [nh, T, hd], [nh, T, S]


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
) -> np.ndarray:
    """Causal sliding-window self-attention in blocks of queries -> out [nh, T, hd].

    Equal to ``attention`` with ``sliding_window_mask(T, window)`` but never builds a T x T
    matrix: each block of ``block`` queries scores against at most ``block + window - 1``
    keys. q [nh, T, hd], k and v [nkv, T, hd] (self-attention, no cache).
    """
    nh, T, hd = q.shape
    g = _groups(nh, k.shape[0])
    out = np.empty((nh, T, v.shape[-1]), dtype=q.dtype)  # [nh, T, hd]
    for q0, q1, k0 in window_blocks(T, window, block):
        kb = repeat_kv(k[:, k0:q1], g)  # [nh, q1-k0, hd]
        vb = repeat_kv(v[:, k0:q1], g)  # [nh, q1-k0, hd]
        allowed = band_mask(np.arange(q0, q1), np.arange(k0, q1), window)  # [b, q1-k0]
        scores = (q[:, q0:q1] @ kb.transpose(0, 2, 1)) * np.asarray(scale, q.dtype)  # [nh, b, q1-k0]
        scores = np.where(allowed, scores, np.finfo(q.dtype).min)
        out[:, q0:q1] = _softmax_with_sinks(scores, sinks) @ vb  # [nh, b, hd]
    return out
