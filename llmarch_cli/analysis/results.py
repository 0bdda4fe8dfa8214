"""Pydantic result models: the JSON schema of the analyses (``params``' own are in
``analysis.params_results``, ``flops``/``complexity``/``roofline``'s in ``compute_results``).

Keys are stable snake_case; counts are exact integers in base units (parameters, bytes).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, JsonValue


class _Result(BaseModel):
    # defer_build: a command pays for the schema of the results it makes, not of all of them.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class KvCacheRow(_Result):
    """KV cache of ``batch`` sequences of ``context`` tokens (bytes).

    ``bytes_per_token``: what one more token costs while no window is full;
    ``state_bytes``: the fixed state of linear-attention/Mamba layers for the batch (in the total);
    ``total_bytes``: exact, sliding layers holding min(context, window) tokens. With an attention
    override the unmodified model's ``baseline_*`` figures and ``saving_ratio`` (baseline total /
    total) follow.
    """

    model: str
    context: int
    batch: int
    kv_dtype: str
    engine: str
    num_kv_heads: int
    sliding_window: int | None
    bytes_per_token: int
    state_bytes: int = 0
    total_bytes: int
    baseline_num_kv_heads: int | None = None
    baseline_sliding_window: int | None = None
    baseline_bytes_per_token: int | None = None
    baseline_state_bytes: int | None = None
    baseline_total_bytes: int | None = None
    saving_ratio: float | None = None


class MemoryTerm(_Result):
    """One term of a memory estimate, for --explain: its bytes, formula, inputs, assumption."""

    name: str
    bytes: int
    formula: str
    inputs: str
    assumption: str = ""


class MemoryResult(_Result):
    """Per-GPU memory of inference or training (bytes). Training adds trainable_params,
    gradient_bytes and optimizer_bytes; ``terms`` itemises every figure."""

    model: str
    mode: str
    weight_format: str
    kv_dtype: str
    context: int
    batch: int
    gpus: int
    weights_bytes: int
    kv_cache_bytes: int
    activation_bytes: int
    overhead_bytes: int
    total_bytes: int
    trainable_params: int | None = None
    gradient_bytes: int | None = None
    optimizer_bytes: int | None = None
    terms: list[MemoryTerm] = []


class FitRow(_Result):
    """One model that fits a memory budget: at which format, and the largest context/batch.

    ``context`` and ``batch`` are what was fitted (``total_bytes`` is their total per GPU);
    ``tp`` GPUs split the model by tensor parallelism, the rest of ``gpus`` are data-parallel
    replicas (``dp``), each holding ``batch`` sequences. ``terms`` itemise ``total_bytes``.
    """

    model: str
    mode: str
    weight_format: str
    kv_dtype: str
    context: int
    batch: int
    gpus: int
    tp: int
    dp: int
    total_params: int
    weights_bytes: int
    kv_bytes_per_token: int
    max_context: int
    max_batch: int
    total_bytes: int
    budget_bytes: int
    headroom_bytes: int
    terms: list[MemoryTerm] = []  # the itemised memory of this row, as ``memory`` gives it


class ArchRecord(_Result):
    """One model's architecture fields and computed figures, flat (``compare``'s record).

    None where a field does not apply (no RoPE, no MoE, no window); figures in base units.
    """

    model: str
    family: str
    name: str
    architecture: str
    num_layers: int
    num_decoder_layers: int | None
    hidden_size: int
    num_heads: int
    num_kv_heads: int
    head_dim: int
    attention: str
    sliding_window: int | None
    window_pattern: str
    layer_pattern: str
    chunk_size: int | None
    mla_kv_lora_rank: int | None
    mla_q_lora_rank: int | None
    qk_norm: str | None
    attention_softcap: float | None
    final_softcap: float | None
    sinks: bool
    qkv_bias: bool
    positions: str
    rope_theta: float | None
    rope_scaling: str | None
    rotary_dim: int | None
    norm: str
    norm_placement: str
    residual: str
    ffn: str
    activation: str
    intermediate_size: int
    num_experts: int | None
    experts_per_token: int | None
    shared_experts: int | None
    moe_routing: str | None
    dense_layers: int | None
    vocab_size: int
    tied_embeddings: bool
    max_context: int
    licence: str
    total_params: int
    active_params: int
    kv_bytes_per_token: int
    state_bytes_per_sequence: int


class CompareResult(_Result):
    """Models side by side: one record each, in the order given."""

    models: list[ArchRecord]


class DiffRow(_Result):
    """One field (a dotted spec path or a computed figure) whose values differ."""

    field: str
    a: JsonValue
    b: JsonValue


class DiffResult(_Result):
    """The fields that differ between model ``a`` and model ``b`` (``what_if``: b is a with
    what-ifs applied, or another model with them)."""

    a: str
    b: str
    what_if: bool
    rows: list[DiffRow]


class PresetRow(_Result):
    """One preset in ``llmarch list``: who made it, when, its attention kind, its parameters
    (total and active), feature tags and licence (``open_licence``: OSI open source)."""

    model: str
    family: str
    name: str
    developer: str
    released: str
    architecture: str
    attention: str
    total_params: int
    active_params: int
    features: list[str]
    licence: str
    open_licence: bool
    languages: list[str]
