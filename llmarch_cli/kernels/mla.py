"""Multi-head latent attention (DeepSeek-V2 §2.1, DeepSeek-V3): two ways to compute one result.

Each token's keys and values come from a shared latent ``c_kv`` [S, r] (``kv_lora_rank`` r,
after ``kv_a_layernorm``) plus one decoupled RoPE key ``k_pe`` [S, dr] shared by all heads.
The up-projection ``kv_b_proj`` splits per head into ``w_uk`` [nh, r, dn] (keys' no-RoPE part)
and ``w_uv`` [nh, r, dv] (values); ``dv`` may differ from the query/key head dim ``dn + dr``.
Queries are ``q_nope`` [nh, T, dn] and ``q_pe`` [nh, T, dr] (RoPE applied).

* naive: decompress every head's K = [c_kv w_uk | k_pe] and V = c_kv w_uv, then attend as usual;
  a cache of K and V costs nh x (dn + dr + dv) values per token and layer.
* absorbed (how inference engines run it): fold w_uk into the query, q_nope w_uk^T [nh, T, r],
  score against the latent itself, and apply w_uv after weighting the latents; the cache is
  the latent and the RoPE key, r + dr values per token and layer, shared by every head.

``scale`` multiplies the scores (DeepSeek: (dn + dr)^-0.5, times yarn's mscale squared).
"""

from __future__ import annotations

import numpy as np

from llmarch_cli.kernels import counting
from llmarch_cli.kernels.attention import _softmax_, attention


def split_kv_b(w_kv_b: np.ndarray, num_heads: int, nope_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``kv_b_proj`` as nn.Linear stores it, [nh*(dn+dv), r] -> (w_uk [nh, r, dn], w_uv [nh, r, dv])."""
    per_head = w_kv_b.reshape(num_heads, -1, w_kv_b.shape[-1])  # [nh, dn+dv, r]
    return (np.ascontiguousarray(per_head[:, :nope_dim].transpose(0, 2, 1)),
            np.ascontiguousarray(per_head[:, nope_dim:].transpose(0, 2, 1)))


def mla_decompress(c_kv: np.ndarray, k_pe: np.ndarray, w_uk: np.ndarray,
                   w_uv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latents -> per-head K [nh, S, dn+dr] (RoPE part repeated per head) and V [nh, S, dv]."""
    k_nope = c_kv[None] @ w_uk  # [1, S, r] @ [nh, r, dn] -> [nh, S, dn]
    v = c_kv[None] @ w_uv  # [nh, S, dv]
    k_rope = np.broadcast_to(k_pe[None], (w_uk.shape[0], *k_pe.shape))  # [nh, S, dr]
    return np.concatenate([k_nope, k_rope], axis=-1), v


def mla_naive(q_nope: np.ndarray, q_pe: np.ndarray, c_kv: np.ndarray, k_pe: np.ndarray,
              w_uk: np.ndarray, w_uv: np.ndarray, *, scale: float,
              bias: np.ndarray | None = None) -> np.ndarray:
    """Decompress K and V per head, then ordinary attention -> out [nh, T, dv]."""
    k, v = mla_decompress(c_kv, k_pe, w_uk, w_uv)  # [nh, S, dn+dr], [nh, S, dv]
    q = np.concatenate([q_nope, q_pe], axis=-1)  # [nh, T, dn+dr]
    return attention(q, k, v, scale=scale, bias=bias)[0]


def mla_absorbed(q_nope: np.ndarray, q_pe: np.ndarray, c_kv: np.ndarray, k_pe: np.ndarray,
                 w_uk: np.ndarray, w_uv: np.ndarray, *, scale: float,
                 bias: np.ndarray | None = None) -> np.ndarray:
    """Attend in the latent space: w_uk folded into q, w_uv applied last -> out [nh, T, dv]."""
    if counting.ACTIVE is not None:  # the absorptions, then scores and values over the latent
        nh, T, dn = q_nope.shape
        r, dv = c_kv.shape[-1], w_uv.shape[-1]
        counting.ACTIVE.macs += nh * T * r * (dn + dv)
        counting.add_attention(nh, r + k_pe.shape[-1], r, T * c_kv.shape[0] if bias is None else bias)
    q_latent = q_nope @ w_uk.transpose(0, 2, 1)  # [nh, T, dn] @ [nh, dn, r] -> [nh, T, r]
    scores = q_latent @ c_kv.T  # [nh, T, S]: the no-RoPE part, against the latent
    scores += q_pe @ k_pe.T  # [nh, T, dr] @ [dr, S] -> [nh, T, S]: the RoPE part
    scores *= np.asarray(scale, scores.dtype)
    if bias is not None:
        scores += bias
    probs = _softmax_(scores, None)  # [nh, T, S]
    return (probs @ c_kv) @ w_uv  # [nh, T, r] @ [nh, r, dv] -> [nh, T, dv]


def mla_cache_values_per_token(num_heads: int, kv_rank: int, nope_dim: int, rope_dim: int,
                               v_dim: int) -> dict[str, int]:
    """Values one token adds to one layer's cache: naive (K and V of every head) vs absorbed
    (the latent and the shared RoPE key)."""
    return {"naive": num_heads * (nope_dim + rope_dim + v_dim), "absorbed": kv_rank + rope_dim}
