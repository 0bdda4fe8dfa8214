"""KV cache size: what one token costs and what a batch of sequences holds, exactly.

Each decoder layer caches one K and one V vector per KV head per token:
``bytes_per_token = 2 x sum over layers of kv_heads x head_dim x bytes per value``
(GQA paper §2; Llama 2 App. A.2.1). A sliding-window layer is a rolling buffer of
``min(context, W)`` tokens (Mistral 7B §2, "Rolling Buffer Cache"); per-layer patterns such as
gpt-oss's alternating sliding/full layers come from ``attention.layer_types``. Engines that
reserve the full length on every layer (``Engine.full``) are charged ``context`` everywhere.
Encoder-decoders also cache the cross-attention K/V of ``encoder_length`` encoder tokens in each
decoder layer; encoder-only models generate nothing and cache nothing.

Quantised KV state carries scales, counted here (see ``KV_DTYPES``). The default dtype is
fp16 (``FP16``), the conventional figure: Llama-2-7B costs 524,288 B per token.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Literal

from llmarch_cli.analysis.results import KvCacheRow, MemoryTerm
from llmarch_cli.analysis.units import ceil_div
from llmarch_cli.errors import LlmarchError, check_positive
from llmarch_cli.specs.model import ArchSpec


class Engine(str, Enum):
    """Cache policy: ``minimal`` keeps min(context, W) tokens in a sliding layer; ``full``
    reserves the whole context on every layer, as engines that preallocate do."""

    minimal = "minimal"
    full = "full"

LADDER = (2048, 8192, 32768, 131072)  # contexts shown when none is asked for


@dataclass(frozen=True)
class KvDtype:
    """Storage of one cached value: ``bits`` per element plus scale metadata.

    ``bits_per_head_token``: extra bits per (K or V, head, token), e.g. an fp16 scale and an
    fp16 zero point. ``bytes_per_layer``: fixed per-layer metadata (per-tensor scales).
    """

    name: str
    bits: int
    bits_per_head_token: int
    bytes_per_layer: int
    assumption: str


# fp8: vLLM's fp8 KV cache (E4M3) keeps one fp32 k_scale and one fp32 v_scale per attention
# layer (vLLM docs, "Quantized KV Cache"): 8 bytes per layer, nothing per token.
# int8/int4: LMDeploy's online KV quantisation is per-head, per-token, asymmetric: one fp16
# scale and one fp16 zero point for every head's K (and V) vector of every token (LMDeploy docs,
# "INT4/INT8 KV Cache"): 32 extra bits per head per token for K and for V.
KV_DTYPES: dict[str, KvDtype] = {
    "fp32": KvDtype("fp32", 32, 0, 0, "4 bytes per value, no scales"),
    "fp16": KvDtype("fp16", 16, 0, 0, "2 bytes per value, no scales"),
    "bf16": KvDtype("bf16", 16, 0, 0, "2 bytes per value, no scales"),
    "fp8": KvDtype(
        "fp8", 8, 0, 8, "1 byte per value + one fp32 k_scale and v_scale per layer (vLLM fp8 E4M3)"
    ),
    "int8": KvDtype(
        "int8", 8, 32, 0,
        "1 byte per value + fp16 scale and zero point per head per token (LMDeploy, per-head per-token)",
    ),
    "int4": KvDtype(
        "int4", 4, 32, 0,
        "0.5 byte per value + fp16 scale and zero point per head per token (LMDeploy, per-head per-token)",
    ),
}


FP16 = KV_DTYPES["fp16"]  # the default KV dtype


def kv_dtype(name: str) -> KvDtype:
    """The KvDtype called ``name``, or an LlmarchError listing the valid ones."""
    key = name.strip().lower()
    if key not in KV_DTYPES:
        raise LlmarchError(f"unknown KV dtype {name!r} (valid: {', '.join(KV_DTYPES)})")
    return KV_DTYPES[key]


def engine(name: str) -> Engine:
    """The Engine called ``name``, or an LlmarchError listing the valid ones."""
    try:
        return Engine(name.strip().lower())
    except ValueError:
        raise LlmarchError(f"unknown engine {name!r} (valid: {', '.join(e.value for e in Engine)})") from None


@dataclass(frozen=True)
class KvLayer:
    """One cache a layer holds: self-attention of a decoder layer, or its cross-attention."""

    index: int
    kind: Literal["full", "sliding", "cross"]
    kv_heads: int
    head_dim: int
    window: int | None


def kv_layers(spec: ArchSpec) -> list[KvLayer]:
    """Every self-attention cache (and cross-attention cache for encoder-decoders), in order."""
    att = spec.attention
    if spec.architecture == "encoder":
        return []
    n = spec.num_decoder_layers if spec.architecture == "encoder-decoder" else spec.num_layers
    layers: list[KvLayer] = []
    for i in range(n):
        window = att.layer_window(i) if spec.architecture == "decoder" else None
        kind = "full" if window is None else "sliding"
        layers.append(KvLayer(i, kind, att.num_kv_heads, att.head_dim, window))
    if spec.architecture == "encoder-decoder":
        layers += [KvLayer(i, "cross", att.num_kv_heads, att.head_dim, None) for i in range(n)]
    return layers


@cache
def kv_layer_groups(spec: ArchSpec) -> tuple[tuple[KvLayer, int], ...]:
    """Identical layer caches grouped: (a representative layer with index 0, how many)."""
    counts = Counter(KvLayer(0, lay.kind, lay.kv_heads, lay.head_dim, lay.window) for lay in kv_layers(spec))
    return tuple(counts.items())


def layer_bits_per_token(layer: KvLayer, kvd: KvDtype, tp: int = 1) -> int:
    """Bits one token adds to one layer's cache on one GPU: K and V, ``ceil(kv_heads / tp)``
    heads, each ``head_dim`` values plus the dtype's per-head scale bits."""
    return 2 * ceil_div(layer.kv_heads, tp) * (layer.head_dim * kvd.bits + kvd.bits_per_head_token)


def kv_bytes_per_token(spec: ArchSpec, kvd: KvDtype = FP16) -> int:
    """Bytes one more token adds while no window is full: self-attention layers only
    (``kvd``'s scales included; the default is fp16)."""
    return ceil_div(sum(n * layer_bits_per_token(lay, kvd) for lay, n in kv_layer_groups(spec)
                        if lay.kind != "cross"), 8)


def layer_tokens(layer: KvLayer, context: int, encoder_length: int,
                 engine: Engine = Engine.minimal) -> int:
    """Tokens a layer's cache holds for one sequence of ``context`` tokens."""
    if layer.kind == "cross":
        return encoder_length
    if engine is Engine.full or layer.window is None:
        return context
    return min(context, layer.window)


def kv_cache_bytes(spec: ArchSpec, context: int, batch: int = 1, kvd: KvDtype = FP16,
                   engine: Engine = Engine.minimal, *, encoder_length: int | None = None,
                   tp: int = 1) -> int:
    """Exact cache bytes for ``batch`` sequences of ``context`` tokens (per GPU under ``tp``).

    Sliding layers hold ``min(context, W)`` tokens unless ``engine`` is ``Engine.full``. Encoder-decoders add
    ``encoder_length`` (default: ``context``) cross-attention tokens per decoder layer. Under
    tensor parallelism each GPU holds ``ceil(kv_heads / tp)`` heads: KV heads replicate when
    ``tp`` exceeds them.
    """
    check_positive("context", context)
    check_positive("batch", batch)
    if encoder_length is not None:
        check_positive("encoder length", encoder_length)
    return kv_cache_sizer(spec, kvd, engine, tp)(context, batch, encoder_length)


def kv_cache_sizer(spec: ArchSpec, kvd: KvDtype, engine: Engine = Engine.minimal,
                   tp: int = 1) -> Callable[[int, int, int | None], int]:
    """``kv_cache_bytes`` with the spec's layer groups resolved once: a function of
    (context, batch, encoder_length) for callers that size many contexts (``fit``'s search)."""
    groups = [(lay, n * layer_bits_per_token(lay, kvd, tp)) for lay, n in kv_layer_groups(spec)]
    fixed = kvd.bytes_per_layer * sum(n for _, n in kv_layer_groups(spec))

    def size(context: int, batch: int = 1, encoder_length: int | None = None) -> int:
        enc = context if encoder_length is None else encoder_length
        bits = sum(bits * layer_tokens(lay, context, enc, engine) for lay, bits in groups)
        return batch * ceil_div(bits, 8) + fixed

    return size


def context_ladder(max_context: int) -> list[int]:
    """2k, 8k, 32k, 128k up to the model's maximum, and the maximum itself."""
    return sorted({*(c for c in LADDER if c <= max_context), max_context})


def check_encoder_length(spec: ArchSpec, encoder_length: int | None) -> None:
    """LlmarchError for an encoder length on a model without cross-attention, or one below 1."""
    if encoder_length is None:
        return
    if spec.architecture != "encoder-decoder":
        raise LlmarchError(f"--encoder-length applies to encoder-decoder models; {spec.id} is "
                           f"{spec.architecture}")
    check_positive("--encoder-length", encoder_length)


def kv_rows(spec: ArchSpec, contexts: Sequence[int], batches: Sequence[int] = (1,),
            kvd: KvDtype = FP16, engine: Engine = Engine.minimal, *,
            encoder_length: int | None = None, baseline: ArchSpec | None = None) -> list[KvCacheRow]:
    """One row per context and batch; with ``baseline`` (the model before a what-if) its
    figures and ``saving_ratio`` = baseline total / total. Encoder-only models keep no cache:
    LlmarchError."""
    if spec.architecture == "encoder":
        raise LlmarchError(f"{spec.id} is encoder-only: it generates no tokens and keeps no KV cache")
    check_encoder_length(spec, encoder_length)

    def figures(s: ArchSpec, ctx: int, batch: int) -> dict:
        return {"num_kv_heads": s.attention.num_kv_heads, "sliding_window": s.attention.sliding_window,
                "bytes_per_token": kv_bytes_per_token(s, kvd),
                "total_bytes": kv_cache_bytes(s, ctx, batch, kvd, engine, encoder_length=encoder_length)}

    rows = []
    for ctx in contexts:
        for batch in batches:
            row = {"model": spec.id, "context": ctx, "batch": batch, "kv_dtype": kvd.name,
                   "engine": engine.value, **figures(spec, ctx, batch)}
            if baseline is not None:
                base = figures(baseline, ctx, batch)
                row.update({f"baseline_{k}": v for k, v in base.items()},
                           saving_ratio=round(base["total_bytes"] / row["total_bytes"], 4))
            rows.append(KvCacheRow(**row))
    return rows


def kv_terms(spec: ArchSpec, context: int, batch: int = 1, kvd: KvDtype = FP16,
             engine: Engine = Engine.minimal, encoder_length: int | None = None) -> list[MemoryTerm]:
    """The cache itemised for ``--explain``: one term per group of identical layer caches,
    plus the per-layer scales of fp8."""
    enc = context if encoder_length is None else encoder_length
    groups = kv_layer_groups(spec)
    terms = []
    for lay, n in groups:
        tokens = layer_tokens(lay, context, enc, engine)
        terms.append(MemoryTerm(
            name=f"{n} {lay.kind} layer(s)",
            bytes=batch * ceil_div(n * layer_bits_per_token(lay, kvd) * tokens, 8),
            formula="batch x ceil(layers x 2 x kv_heads x (head_dim x bits + scale bits) x tokens / 8)",
            inputs=f"batch={batch}, layers={n}, kv_heads={lay.kv_heads}, head_dim={lay.head_dim}, "
                   f"bits={kvd.bits}, scale bits={kvd.bits_per_head_token}, tokens={tokens:,}"
                   + (f" (window {lay.window})" if lay.window and engine is Engine.minimal else ""),
            assumption=kvd.assumption,
        ))
    if kvd.bytes_per_layer:
        n = sum(count for _, count in groups)
        terms.append(MemoryTerm(name="per-layer scales", bytes=n * kvd.bytes_per_layer,
                                formula="layers x bytes per layer", inputs=f"layers={n}",
                                assumption=kvd.assumption))
    return terms
