"""KV cache size: what one token costs and what a batch of sequences holds, exactly.

Each decoder layer caches one K and one V vector per KV head per token:
``bytes_per_token = 2 x sum over layers of kv_heads x head_dim x bytes per value``
(GQA paper §2; Llama 2 App. A.2.1). A sliding-window layer is a rolling buffer of
``min(context, W)`` tokens (Mistral 7B §2, "Rolling Buffer Cache"); per-layer patterns such as
gpt-oss's alternating sliding/full layers come from ``attention.layer_types``. Engines that
reserve the full length on every layer (``engine="full"``) are charged ``context`` everywhere.
Encoder-decoders also cache the cross-attention K/V of ``encoder_length`` encoder tokens in each
decoder layer; encoder-only models generate nothing and cache nothing.

Quantised KV state carries scales, counted here (see ``KV_DTYPES``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.model import ArchSpec

Engine = Literal["minimal", "full"]
ENGINES: tuple[str, ...] = ("minimal", "full")


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


def kv_dtype(name: str) -> KvDtype:
    """The KvDtype called ``name``, or an LlmarchError listing the valid ones."""
    key = name.strip().lower()
    if key not in KV_DTYPES:
        raise LlmarchError(f"unknown KV dtype {name!r} (valid: {', '.join(KV_DTYPES)})")
    return KV_DTYPES[key]


def _plain_dtype(bytes_per_value: float) -> KvDtype:
    bits = round(bytes_per_value * 8)
    if bits <= 0 or bits != bytes_per_value * 8:
        raise LlmarchError(f"bytes per value must be a positive multiple of 1/8, got {bytes_per_value}")
    return KvDtype(f"{bits}-bit", bits, 0, 0, f"{bytes_per_value} bytes per value, no scales")


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


def _resolve(bytes_per_value: float, dtype: str | KvDtype | None) -> KvDtype:
    if isinstance(dtype, KvDtype):
        return dtype
    return kv_dtype(dtype) if dtype is not None else _plain_dtype(bytes_per_value)


def _layer_bits_per_token(layer: KvLayer, kvd: KvDtype, kv_heads: int | None = None) -> int:
    heads = layer.kv_heads if kv_heads is None else kv_heads
    return 2 * heads * (layer.head_dim * kvd.bits + kvd.bits_per_head_token)


def kv_bytes_per_token(
    spec: ArchSpec, bytes_per_value: float = 2, *, dtype: str | KvDtype | None = None
) -> int:
    """Bytes one more token adds while no window is full: self-attention layers only.

    ``dtype`` (a ``KV_DTYPES`` name) overrides ``bytes_per_value`` and adds its scales.
    """
    kvd = _resolve(bytes_per_value, dtype)
    bits = sum(n * _layer_bits_per_token(lay, kvd) for lay, n in kv_layer_groups(spec) if lay.kind != "cross")
    return _ceil_bytes(bits)


def layer_tokens(layer: KvLayer, context: int, encoder_length: int, engine: str = "minimal") -> int:
    """Tokens a layer's cache holds for one sequence of ``context`` tokens."""
    if layer.kind == "cross":
        return encoder_length
    if engine == "full" or layer.window is None:
        return context
    return min(context, layer.window)


def kv_cache_bytes(
    spec: ArchSpec,
    context: int,
    batch: int = 1,
    bytes_per_value: float = 2,
    engine: str = "minimal",
    *,
    dtype: str | KvDtype | None = None,
    encoder_length: int | None = None,
    tp: int = 1,
) -> int:
    """Exact cache bytes for ``batch`` sequences of ``context`` tokens (per GPU under ``tp``).

    Sliding layers hold ``min(context, W)`` tokens unless ``engine="full"``. Encoder-decoders add
    ``encoder_length`` (default: ``context``) cross-attention tokens per decoder layer. Under
    tensor parallelism each GPU holds ``ceil(kv_heads / tp)`` heads: KV heads replicate when
    ``tp`` exceeds them.
    """
    check_positive("context", context)
    check_positive("batch", batch)
    if encoder_length is not None:
        check_positive("encoder length", encoder_length)
    return kv_cache_sizer(spec, _resolve(bytes_per_value, dtype), engine, tp)(context, batch, encoder_length)


def kv_cache_sizer(spec: ArchSpec, kvd: KvDtype, engine: str = "minimal",
                   tp: int = 1) -> Callable[[int, int, int | None], int]:
    """``kv_cache_bytes`` with the spec's layer groups resolved once: a function of
    (context, batch, encoder_length) for callers that size many contexts (``fit``'s search)."""
    if engine not in ENGINES:
        raise LlmarchError(f"unknown engine {engine!r} (valid: {', '.join(ENGINES)})")
    groups = [(lay, n * _layer_bits_per_token(lay, kvd, -(-lay.kv_heads // tp))) for lay, n in kv_layer_groups(spec)]
    fixed = kvd.bytes_per_layer * sum(n for _, n in kv_layer_groups(spec))

    def size(context: int, batch: int = 1, encoder_length: int | None = None) -> int:
        enc = context if encoder_length is None else encoder_length
        bits = sum(bits * layer_tokens(lay, context, enc, engine) for lay, bits in groups)
        return batch * _ceil_bytes(bits) + fixed

    return size


def check_positive(what: str, value: int) -> None:
    """LlmarchError unless ``value`` is a positive integer."""
    if value <= 0:
        raise LlmarchError(f"{what} must be positive, got {value}")


def _ceil_bytes(bits: int) -> int:
    return -(-bits // 8)
