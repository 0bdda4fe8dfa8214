"""Attention kernels that avoid the n x n score matrix: chunked (Llama 4) and linear attention.

Shapes as in ``kernels.attention``: ``q`` ``[nh, T, hd]``, ``k`` and ``v`` ``[nkv, T, hd]``
(self-attention, causal, no cache); both return ``[nh, T, hd]``.
"""

from __future__ import annotations

import numpy as np

from llmarch_cli.kernels.attention import attention, repeat_kv
from llmarch_cli.kernels.masks import causal_mask


def chunked_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, *, chunk: int,
                      scale: float, sinks: np.ndarray | None = None,
                      softcap: float | None = None) -> np.ndarray:
    """Causal attention inside fixed chunks of ``chunk`` tokens: query i sees keys
    ``chunk * (i // chunk) .. i`` (Llama 4's local layers). Memory O(T x chunk). ``sinks``
    and ``softcap`` as in ``kernels.attention.attention``."""
    if chunk <= 0:
        raise ValueError(f"chunk must be positive, got {chunk}")
    nh, T, hd = q.shape
    out = np.empty((nh, T, v.shape[-1]), dtype=q.dtype)  # [nh, T, hd]
    for c0 in range(0, T, chunk):
        c1 = min(c0 + chunk, T)
        out[:, c0:c1], _ = attention(q[:, c0:c1], k[:, c0:c1], v[:, c0:c1], scale=scale,
                                     mask=causal_mask(c1 - c0), sinks=sinks,
                                     softcap=softcap)  # [nh, c, hd]
    return out


def elu_feature(x: np.ndarray) -> np.ndarray:
    """phi(x) = elu(x) + 1 > 0, the feature map of Katharopoulos et al. (2020), eq. 7."""
    return np.where(x > 0, x + 1, np.exp(np.minimum(x, 0))).astype(x.dtype, copy=False)


def linear_attention(q: np.ndarray, k: np.ndarray, v: np.ndarray, *, block: int = 256) -> np.ndarray:
    """Causal linear attention: out_i = phi(q_i)·S_i / phi(q_i)·z_i with S_i = sum_{j<=i}
    phi(k_j) v_j^T and z_i = sum_{j<=i} phi(k_j) (Katharopoulos et al. 2020, eq. 9).

    Blocks of ``block`` queries: the state from earlier blocks plus a causal block-local term,
    so time is O(T x (block + hd) x hd) and memory O(T x hd + block^2).
    """
    nh, T, hd = q.shape
    groups = nh // k.shape[0]
    fq, fk = elu_feature(q), elu_feature(repeat_kv(k, groups))  # [nh, T, hd]
    vv = repeat_kv(v, groups)  # [nh, T, hdv]
    state = np.zeros((nh, hd, vv.shape[-1]), dtype=q.dtype)  # [nh, hd, hdv]
    norm = np.zeros((nh, hd), dtype=q.dtype)  # [nh, hd]
    out = np.empty((nh, T, vv.shape[-1]), dtype=q.dtype)  # [nh, T, hdv]
    for b0 in range(0, T, block):
        b1 = min(b0 + block, T)
        qb, kb, vb = fq[:, b0:b1], fk[:, b0:b1], vv[:, b0:b1]
        local = (qb @ kb.transpose(0, 2, 1)) * causal_mask(b1 - b0)  # [nh, b, b]
        num = qb @ state + local @ vb  # [nh, b, hdv]
        den = qb @ norm[:, :, None] + local.sum(-1, keepdims=True)  # [nh, b, 1]
        out[:, b0:b1] = num / den
        state += kb.transpose(0, 2, 1) @ vb
        norm += kb.sum(axis=1)
    return out
