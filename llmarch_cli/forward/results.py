"""Pydantic results of a forward pass: the JSON schema of ``llmarch forward``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class SoftCap(_Result):
    """What a soft cap (Gemma 2: cap x tanh(x / cap)) did to the values before it: the largest
    |value|, and how many it shrank by more than 10% (|capped| < 0.9 |value|, i.e. every
    |value| beyond 0.584 x cap). Attention: the scaled scores of the query-key pairs the mask
    allows, all heads; logits: every position and vocabulary entry."""

    cap: float
    max_abs_before_cap: float
    clipped_values: int
    values: int
    clipped_fraction: float


class LayerStats(_Result):
    """One layer's output: its type (full or global; sliding or chunked are local; linear),
    hidden-state statistics, attention entropy per head (nats, mean over queries), tokens routed
    to each expert (MoE), the experts each token was routed to (best first) and, for
    group-limited routing (DeepSeek), the groups it could pick from (best first), what the
    soft cap did to its attention scores, and wall-clock time per part (ms)."""

    stack: str
    layer: int
    layer_type: str
    sliding_window: int | None
    mean: float
    std: float
    max_abs: float
    attention_entropy_nats: list[float] | None
    expert_load: list[int] | None
    routed_experts: list[list[int]] | None = None  # [token][top-k]
    routed_groups: list[list[int]] | None = None  # [token][topk_groups]
    attention_softcap: SoftCap | None = None
    attention_ms: float
    ffn_ms: float


class LatentCache(_Result):
    """Multi-head latent attention: the cache of this pass's tokens in the forward's dtype, as
    the latent and the shared RoPE key (``kv_lora_rank + qk_rope_head_dim`` values per token
    and layer, what decoding keeps) or decompressed into every head's K and V
    (``num_heads x (qk_nope_head_dim + qk_rope_head_dim + v_head_dim)``)."""

    tokens: int
    layers: int
    bytes_per_value: int
    latent_values_per_token_layer: int
    decompressed_values_per_token_layer: int
    latent_bytes: int
    decompressed_bytes: int


class NextToken(_Result):
    """A candidate next token after the last position and its probability."""

    token_id: int
    prob: float


class AttentionShown(_Result):
    """The attention weights of one head (``--show attention``): ``weights`` [query][key]."""

    stack: str
    layer: int
    head: int
    sliding_window: int | None
    causal: bool
    weights: list[list[float]]


class ForwardResult(_Result):
    """A forward pass over ``tokens``: per-layer statistics, time per stage (ms), the most
    probable next tokens, and the final logits [position][vocabulary entry]. ``seed`` is the
    seed of a replica's random weights (None for real weights)."""

    model: str
    dtype: str
    seed: int | None
    tokens: list[int]
    hidden_size: int
    num_heads: int
    vocab_size: int
    layers: list[LayerStats]
    stages_ms: dict[str, float]
    top_next_tokens: list[NextToken]
    logits: list[list[float]]
    attention: AttentionShown | None = None
    logit_softcap: SoftCap | None = None  # Gemma 2's cap on the final logits
    latent_cache: LatentCache | None = None  # MLA models
    text: str | None = None  # the prompt as text (--text), encoded into ``tokens``
    generation: GenerationResult | None = None  # --generate


class GenerationStep(_Result):
    """One generated token (``--generate``): tokens fed in (the prompt for step 0, the last
    new token after), the token chosen, the position it will take, the bytes the caches hold
    afterwards per layer kind (full, sliding, cross), and the step's time in ms."""

    step: int
    input_tokens: int
    token_id: int
    position: int
    cache_bytes: dict[str, int]
    ms: float


class GenerationResult(_Result):
    """Step-by-step decoding after the prompt: the new tokens (and their text when a tokenizer
    was used), the prefill's time, the mean time and rate of the steps after it."""

    tokens: list[int]
    generated_text: str | None
    prefill_ms: float
    decode_ms_per_token: float | None
    decode_tokens_per_second: float | None
    steps: list[GenerationStep]
