"""The result of ``llmarch kernel``: one typed set of figures per kernel (the JSON output, its
schema ``llmarch schema kernel``), the table's rows among them, and what to draw.

Shapes use the demo's inputs: T = --len, nh = --heads, nkv = --kv-heads, d = --head-dim,
E = --experts, k = --top-k.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

KERNELS = ("attention", "rope", "alibi", "norm", "activation", "moe", "lora", "quant", "mla")


class _Figures(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    # The field holding the table's rows (csv, tsv, jsonl, md); None: the figures themselves,
    # one (quantity, value) row each.
    ROWS: ClassVar[str | None]


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


# attention -----------------------------------------------------------------------------------
class GqaGroup(_Row):
    kv_head: int
    query_heads: list[int]


class AttentionMasks(_Row):
    """1 where a query (row) may attend to a key (column): [T][T] each."""

    causal: list[list[int]]
    window: list[list[int]]


class AttentionWeights(_Row):
    """Attention weights [nh][T][T] per mask: causal, sliding window, causal with a sink logit."""

    causal: list[list[list[float]]]
    window: list[list[list[float]]]
    sinks: list[list[list[float]]]


class RowSums(_Row):
    """The sum of each weight row [nh][T] per mask: 1, or below 1 where the sink took weight."""

    causal: list[list[float]]
    window: list[list[float]]
    sinks: list[list[float]]


class AttentionHead(_Row):
    """One query head: its KV head, the mean entropy of its weight rows (nats) under each mask,
    and the share of weight the sink absorbed."""

    head: int
    kv_head: int
    entropy_causal_nats: float
    entropy_window_nats: float
    entropy_sinks_nats: float
    sink_mass: float


class AttentionFigures(_Figures):
    """Causal, sliding-window and sink attention on one seeded q [nh, T, d], k and v [nkv, T, d].

    ``windowed_block``: queries per block of the blocked sliding-window kernel, which equals
    masked full attention to ``windowed_max_abs_diff``."""

    ROWS: ClassVar[str] = "heads_table"
    kernel: Literal["attention"]
    length: int
    heads: int
    kv_heads: int
    head_dim: int
    window: int
    sink_logit: float
    seed: int
    kind: Literal["MHA", "GQA", "MQA"]
    groups: list[GqaGroup]
    masks: AttentionMasks
    weights: AttentionWeights
    row_sums: RowSums
    masked_weights_zero: bool
    windowed_block: int
    windowed_max_abs_diff: float
    heads_table: list[AttentionHead]


# rope ----------------------------------------------------------------------------------------
class OffsetScore(_Row):
    offset: int
    score: float


class RopePair(_Row):
    """One rotated pair of dimensions: its inverse frequency (radians per token), wavelength and
    angle at the last position."""

    pair: int
    dims: str
    inv_freq: float
    wavelength_tokens: float
    angle_at_last_rad: float


class RopeFigures(_Figures):
    """RoPE angles per position and pair, and q.k after RoPE for every (query, key) position.

    ``inv_freq``: [d/2]; ``angles_rad``: [T][d/2]; ``scores``: [T][T];
    ``score_by_offset``: the mean score per key - query offset, 2T - 1 of them;
    ``relative_max_deviation``: the largest spread of a score along one offset."""

    ROWS: ClassVar[str] = "pairs"
    kernel: Literal["rope"]
    length: int
    head_dim: int
    theta: float
    seed: int
    pairing: Literal["half"]
    inv_freq: list[float]
    angles_rad: list[list[float]]
    scores: list[list[float]]
    score_by_offset: list[OffsetScore]
    relative_max_deviation: float
    pairs: list[RopePair]


# alibi ---------------------------------------------------------------------------------------
class AlibiHead(_Row):
    head: int
    slope: float
    log2_slope: float
    series: str


class AlibiFigures(_Figures):
    """ALiBi slopes [nh] and the bias m * (key - query) [nh][T][T] (0 above the diagonal);
    ``power_of_two``: the largest power of two not above the head count."""

    ROWS: ClassVar[str] = "heads_table"
    kernel: Literal["alibi"]
    heads: int
    length: int
    power_of_two: int
    slopes: list[float]
    bias: list[list[list[float]]]
    heads_table: list[AlibiHead]


# norm ----------------------------------------------------------------------------------------
class VectorStats(_Row):
    mean: float
    std: float
    rms: float


class NormStats(_Row):
    x: VectorStats
    layer_norm: VectorStats
    rms_norm: VectorStats


class NormValue(_Row):
    i: int
    x: float
    layer_norm: float
    rms_norm: float


class NormFigures(_Figures):
    """LayerNorm and RMSNorm of one vector of ``dim`` values with a non-zero mean."""

    ROWS: ClassVar[str] = "values"
    kernel: Literal["norm"]
    dim: int
    eps: float
    seed: int
    stats: NormStats
    values: list[NormValue]


# activation ----------------------------------------------------------------------------------
class ActivationValue(_Row):
    """Each activation at ``x``; the gated units with gate = up = x."""

    x: float
    relu: float
    gelu: float
    gelu_tanh: float
    quick_gelu: float
    silu: float
    swiglu: float
    geglu: float
    clamped_swiglu: float


class ActivationFigures(_Figures):
    """The activations on ``points`` grid points in [-4, 4]; erf's largest error against
    math.erf and the largest gap between tanh GELU and exact GELU, on [-6, 6]."""

    ROWS: ClassVar[str] = "values"
    kernel: Literal["activation"]
    points: int
    values: list[ActivationValue]
    erf_max_abs_error: float
    gelu_tanh_max_abs_gap: float


# moe -----------------------------------------------------------------------------------------
class Route(_Row):
    """One token's chosen experts [k] and their weights [k]."""

    token: int
    experts: list[int]
    weights: list[float]
    weight_sum: float


class MoeFigures(_Figures):
    """Routing of ``tokens`` tokens: router logits [T][E], the routes, tokens per expert
    (``expert_load`` [E]), the Switch load-balancing loss; how far Mixtral's (renormalised) and
    gpt-oss's (top-k then softmax) orders differ, and the mean weight sum without renormalising."""

    ROWS: ClassVar[str] = "routes"
    kernel: Literal["moe"]
    tokens: int
    experts: int
    top_k: int
    routing: str
    seed: int
    router_logits: list[list[float]]
    routes: list[Route]
    expert_load: list[int]
    max_over_mean_load: float
    load_balancing_loss: float
    renorm_vs_topk_softmax_max_abs_diff: float
    softmax_topk_mean_weight_sum: float


# lora ----------------------------------------------------------------------------------------
class LoraFigures(_Figures):
    """x W + (alpha/rank)(x A) B unmerged against merged, for W [in_features, out_features]:
    their largest difference, the rank of the update, and the parameters of W and of A and B.
    The table lists every figure as a (quantity, value) row."""

    ROWS: ClassVar[str | None] = None
    kernel: Literal["lora"]
    in_features: int
    out_features: int
    rank: int
    alpha: float
    scale: float
    seed: int
    merged_max_abs_diff: float
    output_max_abs: float
    delta_rank: int
    full_params: int
    lora_params: int
    lora_fraction: float


# quant ---------------------------------------------------------------------------------------
class QuantError(_Row):
    """One format: storage bits per parameter (scales included) and its errors."""

    format: str
    bits_per_param: float
    max_abs_error: float
    rms_error: float
    relative_rms_error: float


class QuantFigures(_Figures):
    """One N(0, 0.02^2) weight of ``shape`` [rows, cols] quantised per format in groups of
    ``group_size`` values; ``nf4_code``: NF4's 16 levels."""

    ROWS: ClassVar[str] = "formats"
    kernel: Literal["quant"]
    shape: list[int]
    group_size: int
    seed: int
    nf4_code: list[float]
    formats: list[QuantError]


# mla -----------------------------------------------------------------------------------------
class MlaShapes(_Row):
    """Every tensor's shape, r = kv_rank, dn/dr/dv = nope/rope/v dims."""

    q_nope: list[int]
    q_pe: list[int]
    c_kv: list[int]
    k_pe: list[int]
    w_uk: list[int]
    w_uv: list[int]
    q_latent_absorbed: list[int]
    k_naive: list[int]
    v_naive: list[int]
    out: list[int]


class MlaForm(_Row):
    """Naive or absorbed: what it computes, what it caches, values cached per token and layer
    (here and for DeepSeek-V3)."""

    form: Literal["naive", "absorbed"]
    computes: str
    cache: str
    cache_shapes: str
    values_per_token: int
    deepseek_v3_values_per_token: int


class MlaSizes(_Row):
    heads: int
    kv_rank: int
    nope_dim: int
    rope_dim: int
    v_dim: int


class MlaFigures(_Figures):
    """DeepSeek's latent attention naive and absorbed on the same inputs; their outputs
    [nh, T, dv] agree to ``max_abs_diff``."""

    ROWS: ClassVar[str] = "forms"
    kernel: Literal["mla"]
    length: int
    heads: int
    kv_rank: int
    nope_dim: int
    rope_dim: int
    v_dim: int
    seed: int
    shapes: MlaShapes
    max_abs_diff: float
    forms: list[MlaForm]
    deepseek_v3: MlaSizes


Figures = (AttentionFigures | RopeFigures | AlibiFigures | NormFigures | ActivationFigures
           | MoeFigures | LoraFigures | QuantFigures | MlaFigures)


class KernelFigures(RootModel[Annotated[Figures, Field(discriminator="kernel")]]):
    """``llmarch kernel NAME --json``: the figures of one kernel, told apart by ``kernel``."""

    model_config = ConfigDict(defer_build=True)


class KernelResult(BaseModel):
    """One kernel run on a small seeded input: its ``figures``, a one-line ``title`` and
    ``views``, pictures for a terminal (each a dict with ``kind`` heatmap, bars or table)."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    title: str
    figures: Figures
    views: list[dict[str, Any]] = []
