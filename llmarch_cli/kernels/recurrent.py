"""The gated delta rule (Gated DeltaNet; Qwen3-Next's linear-attention layers), one token at a time.

A linear-attention layer keeps no KV cache: each value head carries a fixed state
``S`` [dk, dv], a key -> value memory that every token first decays, then corrects, then reads:

    S  <- exp(g_t) * S                          (gate g_t <= 0 forgets)
    S  <- S + k_t (beta_t * (v_t - S^T k_t))^T  (delta rule: write the error, strength beta_t)
    o_t = S^T q_t                               (q_t scaled by dk^-0.5)

q and k are L2-normalised first (Qwen3-Next). With fewer key heads than value heads, key head
``j`` serves value heads ``j*g .. j*g+g-1``. The state a sequence holds is ``nhv x dk x dv``
values per layer whatever its length: that is what replaces the KV cache.
"""

from __future__ import annotations

import numpy as np


def l2_normalize(x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """x / sqrt(sum x^2 + eps) over the last axis (the FLA library's l2norm)."""
    return x / np.sqrt((x * x).sum(axis=-1, keepdims=True) + x.dtype.type(eps))


def gated_delta_step(state: np.ndarray, q: np.ndarray, k: np.ndarray, v: np.ndarray,
                     g: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """One token through every head's state, updated in place -> out [nh, dv].

    state [nh, dk, dv]; q, k [nh, dk] (normalised, q scaled); v [nh, dv]; g, beta [nh].
    """
    state *= np.exp(g)[:, None, None]  # decay
    memory = np.einsum("hkv,hk->hv", state, k)  # [nh, dv]: what the state recalls for k
    delta = (v - memory) * beta[:, None]  # [nh, dv]
    state += k[:, :, None] * delta[:, None, :]  # [nh, dk, dv]
    return np.einsum("hkv,hk->hv", state, q)  # [nh, dv]


def gated_delta_rule(q: np.ndarray, k: np.ndarray, v: np.ndarray, g: np.ndarray,
                     beta: np.ndarray, state: np.ndarray | None = None,
                     normalize: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """A sequence token by token -> (out [T, nhv, dv], final state [nhv, dk, dv]).

    q, k [T, nhk, dk]; v [T, nhv, dv]; g, beta [T, nhv]; ``state`` continues a previous call
    (None: zeros). Everything runs in float32, or float64 when any input is float64.
    """
    dtype = np.result_type(q, k, v, g, beta, np.float32)
    q, k, v, g, beta = (np.asarray(a, dtype=dtype) for a in (q, k, v, g, beta))
    T, nhv, dv = v.shape
    groups = nhv // k.shape[1]
    if groups > 1:  # key head j serves value heads j*g .. j*g+g-1
        q, k = np.repeat(q, groups, axis=1), np.repeat(k, groups, axis=1)  # [T, nhv, dk]
    if normalize:
        q, k = l2_normalize(q), l2_normalize(k)
    q = q / dtype.type(np.sqrt(q.shape[-1]))
    s = np.zeros((nhv, k.shape[-1], dv), dtype) if state is None else state.astype(dtype)
    out = np.empty((T, nhv, dv), dtype)  # [T, nhv, dv]
    for t in range(T):
        out[t] = gated_delta_step(s, q[t], k[t], v[t], g[t], beta[t])
    return out, s
