"""Pydantic results of a forward pass: the JSON schema of ``llmarch forward``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class LayerStats(_Result):
    """One layer's output: hidden-state statistics, attention entropy per head (nats, mean
    over queries), tokens routed to each expert (MoE), and wall-clock time per part (ms)."""

    stack: str
    layer: int
    sliding_window: int | None
    mean: float
    std: float
    max_abs: float
    attention_entropy_nats: list[float] | None
    expert_load: list[int] | None
    attention_ms: float
    ffn_ms: float


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
