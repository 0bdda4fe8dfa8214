"""Attention complexity over whole sequences: full O(n²) against sliding-window O(nW).

Per sequence of n tokens (batch 1, causal mask), for every layer of the model taken as full or
as sliding with a W-token window (``AttentionGroup.prefill_keys``): full attention sums
n(n+1)/2 query-key pairs, a window W(W+1)/2 + (n - W) W, so doubling n far past W doubles the
window cost and quadruples the full one. Memory: eager attention materialises one layer's
score matrix, heads x n x n values (fp16 here, ``SCORE_BYTES``); tiled attention
(FlashAttention-2, Dao 2023, §3.1) keeps the tiles on chip and writes only the fp32 log-sum-exp
per query row and head. Stacked windows reach back layers x (W - 1) + 1 tokens (Mistral 7B,
§2: "W x k tokens" after k layers).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

from llmarch_cli.analysis.compute_results import ComplexityRow, ComputeTerm, MeasuredKernel
from llmarch_cli.analysis.flops import (
    AttentionGroup,
    attention_groups,
    decoding_stack,
    matmul_groups,
)
from llmarch_cli.analysis.kvcache import kv_cache_bytes
from llmarch_cli.errors import LlmarchError, check_positive
from llmarch_cli.specs.model import ArchSpec

SCORE_BYTES = 2  # an fp16/bf16 score matrix, as eager attention holds it
LSE_BYTES = 4  # the fp32 log-sum-exp tiled attention keeps per query row and head
DEFAULT_WINDOW = 4096  # Mistral 7B's, for models without a window of their own
LENGTHS = (1024, 4096, 16384, 65536, 131072)  # --seq default
FFN_COMPONENTS = ("ffn", "experts", "shared_experts", "router")
ANALYTIC_EXPONENTS = {  # (time, memory) slopes of log cost over log n, far past any window
    "full": (2.0, 2.0),  # an n x n score matrix per head
    "latent": (2.0, 2.0),  # MLA absorbed: still an n x n score matrix per head
    "sliding": (1.0, 1.0),  # blocks of queries against at most block + W - 1 keys
    "chunked": (1.0, 1.0),  # blocks of C queries against their own chunk
    "linear": (1.0, 1.0),  # a running d x d state per head
}


def slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of log(ys) over log(xs)."""
    lx, ly = [math.log(x) for x in xs], [math.log(y) for y in ys]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((a - mx) * (b - my) for a, b in zip(lx, ly, strict=True)) / sum((a - mx) ** 2 for a in lx)


def measured_kernel(kernel: str, lengths: Sequence[int], seconds: Sequence[float],
                    peak_bytes: Sequence[int]) -> MeasuredKernel:
    """A kernel's measured seconds and peak bytes per length, with their fitted exponents
    beside the analytic ones."""
    t_exp, m_exp = ANALYTIC_EXPONENTS[kernel]
    return MeasuredKernel(
        kernel=kernel, lengths=list(lengths), seconds=[round(s, 6) for s in seconds],
        peak_bytes=list(peak_bytes), time_exponent=round(slope(lengths, seconds), 3),
        memory_exponent=round(slope(lengths, peak_bytes), 3), analytic_time_exponent=t_exp,
        analytic_memory_exponent=m_exp)


def _self_attention(spec: ArchSpec) -> list[AttentionGroup]:
    """The self-attention groups of the generating stack (the encoder's for encoders); layers
    without keys (linear attention, Mamba) are left out."""
    stack = decoding_stack(spec)
    return [g for g in attention_groups(spec) if g.stack == stack and g.kind not in ("cross", "recurrent")]


def default_window(spec: ArchSpec) -> int:
    return spec.attention.sliding_window or DEFAULT_WINDOW


def check_window(window: int, lengths: Sequence[int]) -> None:
    """LlmarchError when no length exceeds the window: sliding would equal full everywhere."""
    check_positive("--window", window)
    if window >= max(lengths):
        raise LlmarchError(f"window {window:,} is not smaller than any length (longest "
                           f"{max(lengths):,}): sliding-window attention would equal full attention")


def _attention_flops(groups: Sequence[AttentionGroup], n: int, window: int | None) -> int:
    total = 0
    for g in groups:
        causal = replace(g, kind="causal", window=window)
        total += causal.flops_per_key * causal.prefill_keys(n)
    return total


def _flops_per_key(spec: ArchSpec) -> int:
    """Attention FLOPs one query spends on one key, summed over the self-attention layers."""
    return sum(g.flops_per_key for g in _self_attention(spec))


def ffn_flops_per_token(spec: ArchSpec) -> int:
    """FFN (or router and active experts) FLOPs of one token in the generating stack."""
    stack = decoding_stack(spec)
    return sum(2 * g.params for g in matmul_groups(spec) if g.stack == stack and g.component in FFN_COMPONENTS)


def overtake_length(spec: ArchSpec) -> int:
    """Smallest n whose causal full-attention FLOPs reach the FFN's:
    per_key x n(n+1)/2 >= ffn x n, i.e. n >= 2 ffn / per_key - 1."""
    per_key = _flops_per_key(spec)
    ffn = ffn_flops_per_token(spec)
    return max(1, -(-(2 * ffn - per_key) // per_key)) if per_key else 0


def receptive_field(spec: ArchSpec, window: int) -> int:
    """Tokens stacked windows reach: each layer looks back window - 1 positions."""
    layers = sum(g.layers for g in _self_attention(spec))
    return layers * (window - 1) + 1


def complexity_rows(spec: ArchSpec, lengths: Sequence[int], window: int) -> list[ComplexityRow]:
    """One row per sequence length (see the module docstring for every figure)."""
    for n in lengths:
        check_positive("--seq", n)
    check_window(window, lengths)
    groups = _self_attention(spec)
    if not groups:
        raise LlmarchError(f"{spec.id} has no attention layers (only linear-attention or Mamba "
                           "layers, constant per token): see llmarch flops")
    heads = spec.attention.num_heads
    ffn, overtake, reach = ffn_flops_per_token(spec), overtake_length(spec), receptive_field(spec, window)
    kv = spec.architecture != "encoder"
    return [ComplexityRow(
        model=spec.id, seq_len=n, sliding_window=window,
        full_attention_flops=_attention_flops(groups, n, None),
        window_attention_flops=_attention_flops(groups, n, window),
        ffn_flops=ffn * n,
        naive_score_bytes=heads * n * n * SCORE_BYTES,
        tiled_score_bytes=heads * n * LSE_BYTES,
        kv_cache_bytes=kv_cache_bytes(spec, n) if kv else 0,
        attention_overtakes_ffn_tokens=overtake,
        receptive_field_tokens=reach,
    ) for n in lengths]


def complexity_terms(spec: ArchSpec, n: int, window: int) -> list[ComputeTerm]:
    """``--explain`` for ``complexity`` at length ``n``."""
    row = complexity_rows(spec, [n], window)[0]
    per_key = _flops_per_key(spec)
    heads, ffn = spec.attention.num_heads, ffn_flops_per_token(spec)
    shape = f"per key over all layers={per_key:,} FLOP (2 x layers x heads x (qk_dim + v_dim))"
    return [
        ComputeTerm(name="full_attention", value=row.full_attention_flops, unit="FLOP",
                    formula="per_key x n(n+1)/2", inputs=f"n={n:,}, {shape}",
                    assumption="causal mask: query i sees i keys; every layer full"),
        ComputeTerm(name="window_attention", value=row.window_attention_flops, unit="FLOP",
                    formula="per_key x (W(W+1)/2 + (n - W) x W) for n > W",
                    inputs=f"n={n:,}, W={window:,}, {shape}",
                    assumption="every layer slides a W-token window (the query included)"),
        ComputeTerm(name="ffn", value=row.ffn_flops, unit="FLOP", formula="n x 2 x FFN weights a token uses",
                    inputs=f"n={n:,}, FFN FLOP per token={ffn:,}",
                    assumption="MoE: router and top-k experts"),
        ComputeTerm(name="naive_scores", value=row.naive_score_bytes, unit="B",
                    formula="heads x n x n x 2 B", inputs=f"heads={heads}, n={n:,}",
                    assumption="eager attention holds one layer's fp16 scores at a time, batch 1"),
        ComputeTerm(name="tiled_scores", value=row.tiled_score_bytes, unit="B",
                    formula="heads x n x 4 B", inputs=f"heads={heads}, n={n:,}",
                    assumption="tiles stay on chip; the fp32 log-sum-exp per row is kept (FlashAttention-2)"),
        ComputeTerm(name="attention_overtakes_ffn", value=row.attention_overtakes_ffn_tokens, unit="tokens",
                    formula="smallest n with per_key x n(n+1)/2 >= n x FFN per token",
                    inputs=f"{shape}, FFN FLOP per token={ffn:,}",
                    assumption="whole-sequence causal prefill, every layer full"),
        ComputeTerm(name="receptive_field", value=row.receptive_field_tokens, unit="tokens",
                    formula="layers x (W - 1) + 1", inputs=f"W={window:,}",
                    assumption="information moves back W - 1 positions per layer"),
    ]
