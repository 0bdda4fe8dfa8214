"""Pydantic result models of ``flops``, ``complexity`` and ``roofline``: their JSON schema.

Keys carry their unit: ``_flops`` (floating-point operations, a multiply-add is 2),
``_bytes``, ``_seconds``, ``_tokens_per_s``, ``_tokens`` (token counts).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ComputeTerm(_Result):
    """One term for ``--explain``: its value and unit, formula, inputs and assumption."""

    name: str
    value: float
    unit: str
    formula: str
    inputs: str
    assumption: str = ""


class FlopsComponent(_Result):
    """FLOPs one decoded token spends in one component (``attention.scores``, ``ffn``, ...)."""

    component: str
    flops_per_token: int


class FlopsRow(_Result):
    """Compute of one token decoded with ``context`` tokens in context, and of the prefill.

    ``linear_flops_per_token``: 2 x every matmul weight the token uses (MoE: top-k routed
    experts, shared experts and router; the output head; embedding lookups are free);
    ``attention_flops_per_token``: Q·K^T and P·V over the keys each layer sees, plus the
    recurrence of linear-attention and Mamba layers; MLA in the absorbed form engines run, with
    ``attention_naive_flops_per_token`` (decompressed heads) beside it (None without MLA);
    ``prefill_flops``: ``batch`` prompts of ``context`` tokens with the causal mask;
    ``training_flops_per_token``: 3 x the forward (4 x with full recomputation) averaged over a
    sequence of ``context`` tokens, beside ``six_nd_flops_per_token`` = 6 x active parameters.
    """

    model: str
    context: int
    batch: int
    linear_flops_per_token: int
    attention_flops_per_token: int
    attention_naive_flops_per_token: int | None = None
    forward_flops_per_token: int
    prefill_flops: int
    training_flops_per_token: int
    training_recompute_flops_per_token: int
    six_nd_flops_per_token: int
    breakdown: list[FlopsComponent]


class ComplexityRow(_Result):
    """Whole-sequence attention cost of ``seq_len`` tokens (batch 1, causal mask).

    ``full_attention_flops`` / ``window_attention_flops``: Q·K^T and P·V of every layer as if
    all were full / all slid a ``sliding_window``-token window; ``ffn_flops``: the FFN (or active
    experts) over the sequence; ``naive_score_bytes``: one layer's fp16 score matrix;
    ``tiled_score_bytes``: what tiled (flash-style) attention keeps instead (fp32 log-sum-exp
    per query and head); ``kv_cache_bytes``: the model's fp16 cache at ``seq_len``;
    ``attention_overtakes_ffn_tokens``: the first length whose full attention FLOPs reach the
    FFN's; ``receptive_field_tokens``: how far stacked windows reach, layers x (window - 1) + 1.
    """

    model: str
    seq_len: int
    sliding_window: int
    full_attention_flops: int
    window_attention_flops: int
    ffn_flops: int
    naive_score_bytes: int
    tiled_score_bytes: int
    kv_cache_bytes: int
    attention_overtakes_ffn_tokens: int
    receptive_field_tokens: int


class MeasuredKernel(_Result):
    """One numpy attention kernel timed at growing lengths, with fitted log-log exponents.

    ``seconds`` (best of the repeats) and ``peak_bytes`` (tracemalloc peak) per length;
    ``time_exponent`` / ``memory_exponent``: least-squares slopes of log(seconds) and
    log(peak_bytes) over log(length); ``analytic_*``: the exponents the formulas give.
    """

    kernel: str
    lengths: list[int]
    seconds: list[float]
    peak_bytes: list[int]
    time_exponent: float
    memory_exponent: float
    analytic_time_exponent: float
    analytic_memory_exponent: float


class RooflineResult(_Result):
    """Prefill and decode speed of ``model`` on ``gpus`` x ``gpu`` from bytes, FLOPs and peaks.

    Per decode step every GPU reads its share of the active weights (MoE: the expected number of
    distinct experts ``batch`` tokens touch) and of the KV cache; the step takes the longer of
    bytes / (bandwidth x ``bandwidth_efficiency``) and FLOPs / (peak x ``compute_efficiency``).
    ``tp`` GPUs split one replica; ``gpus / tp`` replicas each serve ``batch`` sequences.
    ``memory_bytes_per_gpu`` is what ``llmarch memory`` counts for the same run (weights, cache,
    activations, overhead); ``fits_memory`` compares it with the device.
    """

    model: str
    gpu: str
    gpus: int
    tp: int
    batch: int
    context: int
    weight_format: str
    kv_dtype: str
    compute_dtype: str
    bandwidth_efficiency: float
    compute_efficiency: float
    weights_bytes_per_step: int
    kv_cache_bytes_per_step: int
    decode_flops_per_step: int
    memory_bytes_per_gpu: int
    fits_memory: bool
    experts_touched_per_layer: float | None
    arithmetic_intensity_flop_per_byte: float
    ridge_flop_per_byte: float
    decode_bound: str
    decode_seconds_per_step: float
    decode_tokens_per_s: float
    decode_tokens_per_s_per_sequence: float
    compute_bound_batch: int | None
    prefill_flops: int
    prefill_seconds: float
    time_to_first_token_seconds: float
    terms: list[ComputeTerm] = []
