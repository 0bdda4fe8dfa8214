"""KV cache size: what one token costs and what a batch of sequences holds, exactly.

Each decoder layer caches one K and one V vector per KV head per token:
``bytes_per_token = 2 x sum over layers of kv_heads x head_dim x bytes per value``
(GQA paper §2; Llama 2 App. A.2.1). A sliding-window layer is a rolling buffer of
``min(context, W)`` tokens (Mistral 7B §2, "Rolling Buffer Cache"); per-layer patterns such as
gpt-oss's alternating sliding/full layers come from ``attention.layer_types``. Engines that
reserve the full length on every layer (``Engine.full``) are charged ``context`` everywhere.
Encoder-decoders also cache the cross-attention K/V of ``encoder_length`` encoder tokens in each
decoder layer; encoder-only models generate nothing and cache nothing.

Multi-head latent attention (DeepSeek-V2/V3) caches one latent of ``kv_lora_rank +
qk_rope_head_dim`` values per layer per token, as vLLM and SGLang store it; ``Engine.full``
charges what eager transformers stores instead: decompressed K (``qk_nope + qk_rope``) and V
(``v_head_dim``) for every head. Chunked layers (Llama 4) hold at most one chunk,
``min(context, chunk)``. Linear-attention (gated DeltaNet) and Mamba layers keep no per-token
cache but a fixed state per sequence (``state_bytes``: conv window + recurrent state), counted
in the totals; engines keep ``kernel - 1`` conv steps (vLLM), eager transformers ``kernel``
(``Engine.full``). The state stays in 16-bit (32-bit with fp32) whatever the KV dtype.

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
    """One cache a layer holds: self-attention of a decoder layer, or its cross-attention.

    ``head_dim`` and ``v_dim`` are the K and V widths per head; an MLA latent is one "head" of
    ``kv_lora_rank + qk_rope_head_dim`` values with no separate V (``v_dim`` 0). ``window``:
    the most tokens it holds (a sliding window or one chunk), None for all of them.
    """

    index: int
    kind: Literal["full", "sliding", "chunked", "cross", "latent"]
    kv_heads: int
    head_dim: int
    window: int | None
    v_dim: int | None = None  # None = head_dim

    @property
    def value_width(self) -> int:
        return self.head_dim if self.v_dim is None else self.v_dim


def kv_layers(spec: ArchSpec, engine: Engine = Engine.minimal) -> list[KvLayer]:
    """Every self-attention cache (and cross-attention cache for encoder-decoders), in order.
    Linear-attention and Mamba layers hold a state instead (``state_bytes``)."""
    att = spec.attention
    if spec.architecture == "encoder":
        return []
    n = spec.num_decoder_layers if spec.architecture == "encoder-decoder" else spec.num_layers
    layers: list[KvLayer] = []
    for i in range(n):
        kind = att.layer_type(i) if spec.architecture == "decoder" else "full"
        if kind in ("linear", "mamba"):
            continue
        window = {"sliding": att.sliding_window, "chunked": att.chunk_size}.get(kind)
        mla = att.mla
        if mla is not None and engine is Engine.minimal:
            layers.append(KvLayer(i, "latent", 1, mla.latent_dim, window, v_dim=0))
        elif mla is not None:
            layers.append(KvLayer(i, kind, att.num_heads, att.head_dim, window, v_dim=mla.v_head_dim))
        else:
            layers.append(KvLayer(i, kind, att.num_kv_heads, att.head_dim, window))
    if spec.architecture == "encoder-decoder":
        layers += [KvLayer(i, "cross", att.num_kv_heads, att.head_dim, None) for i in range(n)]
    return layers


@cache
def kv_layer_groups(spec: ArchSpec, engine: Engine = Engine.minimal) -> tuple[tuple[KvLayer, int], ...]:
    """Identical layer caches grouped: (a representative layer with index 0, how many)."""
    counts = Counter(KvLayer(0, lay.kind, lay.kv_heads, lay.head_dim, lay.window, lay.v_dim)
                     for lay in kv_layers(spec, engine))
    return tuple(counts.items())


def layer_bits_per_token(layer: KvLayer, kvd: KvDtype, tp: int = 1) -> int:
    """Bits one token adds to one layer's cache on one GPU: ``ceil(kv_heads / tp)`` heads,
    each K (``head_dim``) and V (``v_dim``) values plus the dtype's per-vector scale bits.
    An MLA latent is replicated on every GPU (one "head", no V)."""
    vectors = 2 if layer.value_width else 1
    per_head = (layer.head_dim + layer.value_width) * kvd.bits + vectors * kvd.bits_per_head_token
    return ceil_div(layer.kv_heads, tp) * per_head


def kv_bytes_per_token(spec: ArchSpec, kvd: KvDtype = FP16, engine: Engine = Engine.minimal) -> int:
    """Bytes one more token adds while no window is full: self-attention layers only
    (``kvd``'s scales included; the default is fp16)."""
    return ceil_div(sum(n * layer_bits_per_token(lay, kvd) for lay, n in kv_layer_groups(spec, engine)
                        if lay.kind != "cross"), 8)


def state_bits(kvd: KvDtype) -> int:
    """Bits per state value: 16, or 32 when the cache is fp32 (KV quantisation skips states)."""
    return 32 if kvd.bits == 32 else 16


def state_bytes(spec: ArchSpec, kvd: KvDtype = FP16, engine: Engine = Engine.minimal) -> int:
    """Fixed bytes per sequence of the linear-attention and Mamba layers (conv + recurrent)."""
    kinds = spec.layer_kinds() if spec.architecture == "decoder" else ()
    extra_step = 1 if engine is Engine.full else 0
    values = 0
    if spec.linear_attention is not None:
        values += kinds.count("linear") * spec.linear_attention.state_values(extra_step)
    if spec.mamba is not None:
        values += kinds.count("mamba") * spec.mamba.state_values(extra_step)
    return ceil_div(values * state_bits(kvd), 8)


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

    Sliding and chunked layers hold ``min(context, W)`` tokens unless ``engine`` is ``Engine.full``.
    Encoder-decoders add ``encoder_length`` (default: ``context``) cross-attention tokens per
    decoder layer. Hybrid models add ``state_bytes`` per sequence. Under
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
    layer_groups = kv_layer_groups(spec, engine)
    groups = [(lay, n * layer_bits_per_token(lay, kvd, tp)) for lay, n in layer_groups]
    fixed = kvd.bytes_per_layer * sum(n for _, n in layer_groups)
    state = state_bytes(spec, kvd, engine)

    def size(context: int, batch: int = 1, encoder_length: int | None = None) -> int:
        enc = context if encoder_length is None else encoder_length
        bits = sum(bits * layer_tokens(lay, context, enc, engine) for lay, bits in groups)
        return batch * (ceil_div(bits, 8) + state) + fixed

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
                "bytes_per_token": kv_bytes_per_token(s, kvd, engine),
                "state_bytes": batch * state_bytes(s, kvd, engine),
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
    groups = kv_layer_groups(spec, engine)
    terms = []
    for lay, n in groups:
        tokens = layer_tokens(lay, context, enc, engine)
        latent = lay.kind == "latent"
        terms.append(MemoryTerm(
            name=f"{n} {lay.kind} layer(s)",
            bytes=batch * ceil_div(n * layer_bits_per_token(lay, kvd) * tokens, 8),
            formula=("batch x ceil(layers x (kv_lora_rank + qk_rope_head_dim) x bits x tokens / 8)"
                     if latent else "batch x ceil(layers x kv_heads x ((k_dim + v_dim) x bits + "
                     "2 x scale bits) x tokens / 8)"),
            inputs=(f"batch={batch}, layers={n}, latent={lay.head_dim}" if latent else
                    f"batch={batch}, layers={n}, kv_heads={lay.kv_heads}, k_dim={lay.head_dim}, "
                    f"v_dim={lay.value_width}")
                   + f", bits={kvd.bits}, scale bits={kvd.bits_per_head_token}, tokens={tokens:,}"
                   + (f" (window {lay.window})" if lay.window and engine is Engine.minimal else ""),
            assumption=("MLA latent as vLLM/SGLang cache it" if latent else kvd.assumption),
        ))
    state = state_bytes(spec, kvd, engine)
    if state:
        terms.append(MemoryTerm(
            name="recurrent state (linear-attention / Mamba layers)", bytes=batch * state,
            formula="batch x layers x (conv channels x conv steps + recurrent state) x bits / 8",
            inputs=f"batch={batch}, bits={state_bits(kvd)}, conv steps = kernel"
                   + (" - 1" if engine is Engine.minimal else ""),
            assumption="states stay in 16-bit (fp32 with an fp32 cache); fixed per sequence",
        ))
    if kvd.bytes_per_layer:
        n = sum(count for _, count in groups)
        terms.append(MemoryTerm(name="per-layer scales", bytes=n * kvd.bytes_per_layer,
                                formula="layers x bytes per layer", inputs=f"layers={n}",
                                assumption=kvd.assumption))
    return terms
