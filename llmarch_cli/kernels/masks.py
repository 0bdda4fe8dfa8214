"""Boolean attention masks, ``[T, S]`` with True = the query may see the key.

``T`` queries are the last ``T`` of ``S`` positions (``S`` defaults to ``T``; ``S > T`` when a
cache of ``S - T`` earlier keys precedes them), so query ``i`` sits at position ``S - T + i``.
"""

from __future__ import annotations

import numpy as np


def band_mask(q_pos: np.ndarray, k_pos: np.ndarray, window: int | None = None) -> np.ndarray:
    """Key allowed iff k <= q and, with a window, k > q - window: [len(q_pos), len(k_pos)] bool."""
    q = np.asarray(q_pos)[:, None]  # [T, 1]
    k = np.asarray(k_pos)[None, :]  # [1, S]
    allowed = k <= q  # [T, S]
    if window is not None:
        if window <= 0:
            raise ValueError(f"window must be positive, got {window}")
        allowed &= k > q - window  # window keys including the query's own
    return allowed


def chunk_mask(q_pos: np.ndarray, k_pos: np.ndarray, chunk: int) -> np.ndarray:
    """Chunked attention (Llama 4's local layers): key allowed iff k <= q and both lie in the
    same block of ``chunk`` positions -> [len(q_pos), len(k_pos)] bool. Unlike a sliding
    window, the first query of each chunk sees only itself."""
    if chunk <= 0:
        raise ValueError(f"chunk must be positive, got {chunk}")
    q = np.asarray(q_pos)[:, None]  # [T, 1]
    k = np.asarray(k_pos)[None, :]  # [1, S]
    return (k <= q) & (k // chunk == q // chunk)


def additive_mask(allowed: np.ndarray, dtype=np.float32) -> np.ndarray:
    """Bool mask -> float mask to add to scores: 0 where allowed, the dtype's most negative
    finite value where masked (transformers' convention: a fully masked row stays finite)."""
    return np.where(allowed, 0, np.finfo(dtype).min).astype(dtype, copy=False)


def _query_key_positions(T: int, S: int | None) -> tuple[np.ndarray, np.ndarray]:
    S = T if S is None else S
    if T <= 0 or S < T:
        raise ValueError(f"need 0 < T <= S, got T={T}, S={S}")
    return np.arange(S - T, S), np.arange(S)  # [T], [S]


def causal_mask(T: int, S: int | None = None) -> np.ndarray:
    """Key j allowed iff j <= i: ``[T, S]`` bool, lower-triangular when S == T."""
    return band_mask(*_query_key_positions(T, S))


def sliding_window_mask(T: int, window: int, S: int | None = None) -> np.ndarray:
    """Causal and i - window < j <= i: ``window`` keys per query including itself, ``[T, S]``."""
    return band_mask(*_query_key_positions(T, S), window=window)
