"""Time and peak memory of the numpy attention kernels at growing lengths, and fitted exponents.

Each kernel runs on seeded float32 inputs of ``HEADS`` heads x ``HEAD_DIM``; the time is the
best of ``repeats`` runs, the memory the tracemalloc peak of one run (numpy reports its
allocations to tracemalloc). ``analysis.complexity.slope`` fits the exponents, the empirical
counterpart of O(n^2) (full) and O(n) (sliding, chunked, linear).
"""

from __future__ import annotations

import math
import time
import tracemalloc
from collections.abc import Callable, Sequence

import numpy as np

from llmarch_cli.kernels.attention import attention, windowed_attention
from llmarch_cli.kernels.attention_variants import chunked_attention, linear_attention
from llmarch_cli.kernels.masks import additive_mask, causal_mask
from llmarch_cli.kernels.mla import mla_absorbed

HEADS, HEAD_DIM = 4, 64
KERNELS = ("full", "latent", "sliding", "chunked", "linear")
ROPE_DIM = 16  # the decoupled RoPE part of the latent kernel's keys
# Full attention is quadratic in time and memory, so it stops at 4k; the others run to 32k so
# that their O(n) terms outgrow fixed per-block costs.
DEFAULT_LENGTHS = {"full": (512, 1024, 2048, 4096), "latent": (512, 1024, 2048, 4096),
                   "sliding": (4096, 8192, 16384, 32768),
                   "chunked": (4096, 8192, 16384, 32768), "linear": (4096, 8192, 16384, 32768)}


def _full(q, k, v, span):
    """Causal attention with a materialised [T, T] mask and score matrix."""
    return attention(q, k, v, scale=HEAD_DIM**-0.5, bias=additive_mask(causal_mask(q.shape[1])))[0]


def _latent(q, k, v, span):
    """MLA as engines decode it (absorbed): every head scores one shared latent [T, HEAD_DIM]
    plus a RoPE key [T, ROPE_DIM], causal; the absorbed projections are identities."""
    eye = np.broadcast_to(np.eye(HEAD_DIM, dtype=np.float32), (HEADS, HEAD_DIM, HEAD_DIM))
    return mla_absorbed(q, q[..., :ROPE_DIM], k[0], v[0, :, :ROPE_DIM], eye, eye,
                        scale=HEAD_DIM**-0.5, bias=additive_mask(causal_mask(q.shape[1])))


RUNNERS: dict[str, Callable] = {
    "full": _full,
    "latent": _latent,
    "sliding": lambda q, k, v, span: windowed_attention(q, k, v, window=span, scale=HEAD_DIM**-0.5,
                                                        block=span),
    "chunked": lambda q, k, v, span: chunked_attention(q, k, v, chunk=span, scale=HEAD_DIM**-0.5),
    "linear": lambda q, k, v, span: linear_attention(q, k, v),
}


def measure(kernel: str, lengths: Sequence[int], span: int, repeats: int = 5,
            seed: int = 0) -> tuple[list[float], list[int]]:
    """(best seconds, peak bytes) of ``kernel`` per length; ``span`` = window or chunk.

    The repeats go round the lengths in turn, so a busy spell on a shared machine slows every
    length alike instead of bending the fitted slope.
    """
    run = RUNNERS[kernel]
    rng = np.random.default_rng(seed)
    inputs = {n: [rng.standard_normal((HEADS, n, HEAD_DIM), dtype=np.float32) for _ in range(3)]
              for n in lengths}  # q, k, v [HEADS, n, HEAD_DIM] per length
    best = dict.fromkeys(lengths, math.inf)
    for _ in range(repeats):
        for n in lengths:
            t0 = time.process_time()
            run(*inputs[n], span)
            best[n] = min(best[n], time.process_time() - t0)
    peaks = []
    for n in lengths:
        tracemalloc.start()
        run(*inputs[n], span)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return [best[n] for n in lengths], peaks
