"""Inference memory per GPU: weights by format, KV cache, prefill activation peak, overhead.

Every figure is a ``MemoryTerm`` with its formula, inputs and assumption (``--explain``).
Parallel splits: tensor parallelism ``tp`` divides every matrix except K/V projections and KV
heads when ``tp`` exceeds them (each GPU keeps ``ceil(kv_heads / tp)`` heads, Megatron-style
replication); pipeline parallelism ``pp`` splits layers evenly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cache

from llmarch_cli.analysis.kvcache import FP16, Engine, KvDtype, check_encoder_length, kv_cache_bytes
from llmarch_cli.analysis.params import count_params
from llmarch_cli.analysis.quant_formats import BF16, UNQUANTISED_BITS, QuantFormat
from llmarch_cli.analysis.results import MemoryResult, MemoryTerm
from llmarch_cli.analysis.units import GIB, ceil_div
from llmarch_cli.errors import LlmarchError, check_positive
from llmarch_cli.specs.inventory import inventory
from llmarch_cli.specs.model import ArchSpec

# Tokens per sequence when none is given (capped at the model's maximum): see default_context.
DEFAULT_CONTEXT = 4096
# CUDA context, cuBLAS and attention workspaces, allocator slack: a stated flat assumption.
RUNTIME_OVERHEAD_BYTES = 1 * GIB
MAX_GPUS = 1 << 24  # GPUs of any one layout (real clusters: ~10^5)
ACT_BYTES = 2  # bf16/fp16 activations
QUANTISED_ROLES = ("attention", "cross_attention", "ffn", "experts", "shared_experts")


@dataclass(frozen=True)
class Parallel:
    """GPU layout: ``tp`` x ``pp`` model-parallel GPUs, the rest data-parallel."""

    gpus: int = 1
    tp: int = 1
    pp: int = 1

    @property
    def dp(self) -> int:
        return self.gpus // (self.tp * self.pp)


def check_parallel(spec: ArchSpec, par: Parallel) -> None:
    """LlmarchError for a layout that does not divide the model or the GPUs."""
    for what, value in (("--tp", par.tp), ("--pp", par.pp), ("--gpus", par.gpus)):
        check_positive(what, value)
        if value > MAX_GPUS:
            raise LlmarchError(f"{what} {value:,} is over the limit of {MAX_GPUS:,} GPUs (2^24)")
    heads = spec.attention.num_heads
    if heads % par.tp:
        raise LlmarchError(f"--tp {par.tp} does not divide the {heads} attention heads of {spec.id}")
    if par.pp > spec.num_layers:
        raise LlmarchError(f"--pp {par.pp} exceeds the {spec.num_layers} layers of {spec.id}")
    if par.gpus % (par.tp * par.pp):
        raise LlmarchError(f"--gpus {par.gpus} is not a multiple of --tp x --pp = {par.tp * par.pp}")


@dataclass(frozen=True)
class WeightLayout:
    """What weight sizing needs from a spec, counted once per spec.

    ``quantised``: weights of the attention/FFN/expert matrices a "linear"-scope format
    quantises; ``rows``/``matrices``: their output rows and matrix count (scale metadata);
    ``kv_proj``: K and V projection weights (replicated, not split, when tp > kv heads).
    """

    total: int
    quantised: int
    rows: int
    matrices: int
    kv_proj: int


@cache
def weight_layout(spec: ArchSpec) -> WeightLayout:
    """Sums over ``specs.inventory``; an expert's gate_up counts as two matrices (gate, up)."""
    weights = inventory(spec)
    mats = [w for w in weights if w.matmul and w.role in QUANTISED_ROLES]
    return WeightLayout(
        total=count_params(spec).total_params,
        quantised=sum(w.params for w in mats),
        rows=sum(w.in_out[1] * w.copies * max(w.experts, 1) for w in mats),
        matrices=sum(w.copies * max(w.experts, 1) * (2 if w.name == "experts.gate_up" else 1)
                     for w in mats),
        kv_proj=sum(w.params for w in weights if w.shorts in (("k",), ("v",))),
    )


def shard_fraction(spec: ArchSpec, par: Parallel) -> Fraction:
    """Share of the parameters one GPU holds under tp x pp (K/V replicated beyond kv heads)."""
    if par.tp == 1 and par.pp == 1:
        return Fraction(1)
    lay = weight_layout(spec)
    nkv = spec.attention.num_kv_heads
    per_gpu = Fraction(lay.total - lay.kv_proj, par.tp) + Fraction(lay.kv_proj * ceil_div(nkv, par.tp), nkv)
    return per_gpu / par.pp / lay.total


def weights_term(spec: ArchSpec, fmt: QuantFormat, par: Parallel = Parallel()) -> MemoryTerm:
    """Weight bytes in ``fmt`` on one GPU, scales and block metadata included."""
    lay = weight_layout(spec)
    total = lay.total
    share = shard_fraction(spec, par)
    if fmt.scope in ("none", "all"):
        exact = Fraction(total) * fmt.bits / 8
        formula = f"params x {fmt.bits_per_weight:g} bits / 8"
        assumption = fmt.formula + (" over every tensor, embeddings included" if fmt.scope == "all" else "")
    else:
        quantised = lay.quantised
        exact = (Fraction(quantised) * fmt.bits / 8 + Fraction((total - quantised) * UNQUANTISED_BITS, 8)
                 + fmt.row_bytes * lay.rows + fmt.matrix_bytes * lay.matrices)
        formula = (f"quantised matrices x {fmt.bits_per_weight:.5g} bits / 8 + other params x 2"
                   + (f" + {fmt.row_bytes} B per output row" if fmt.row_bytes else "")
                   + (f" + {fmt.matrix_bytes} B per matrix" if fmt.matrix_bytes else ""))
        assumption = (f"{fmt.formula}; attention/FFN/expert matrices quantised ({quantised:,} "
                      f"weights); embeddings, head, norms, biases and routers stay bf16")
    split = "" if share == 1 else f", x {float(share):.4f} per GPU (tp={par.tp}, pp={par.pp})"
    return MemoryTerm(name="weights", bytes=math.ceil(exact * share), formula=formula + split,
                      inputs=f"params={total:,}, format={fmt.name}", assumption=f"{assumption}; source: {fmt.source}")


def kv_term(spec: ArchSpec, context: int, batch: int, kvd: KvDtype, par: Parallel = Parallel(),
            engine: Engine = Engine.minimal, encoder_length: int | None = None) -> MemoryTerm:
    """KV cache bytes on one GPU: heads split by tp (replicated beyond kv heads), layers by pp."""
    total = kv_cache_bytes(spec, context, batch, kvd, engine, encoder_length=encoder_length, tp=par.tp)
    att = spec.attention
    return MemoryTerm(
        name="kv_cache", bytes=ceil_div(total, par.pp),
        formula="batch x sum over layers of 2 x ceil(kv_heads / tp) x (head_dim x bits + scale bits) / 8 "
                "x tokens held + scale bytes per layer x layers, / pp",
        inputs=f"context={context:,}, batch={batch}, kv_dtype={kvd.name} (bits={kvd.bits}, scale bits per "
               f"head and token={kvd.bits_per_head_token}, scale bytes per layer={kvd.bytes_per_layer}), "
               f"kv_heads={att.num_kv_heads}, head_dim={att.head_dim}, engine={engine.value}, tp={par.tp}, pp={par.pp}"
               + (f", encoder_length={encoder_length or context:,} (cross-attention)"
                  if spec.architecture == "encoder-decoder" else ""),
        assumption=f"{kvd.assumption}; sliding layers hold min(context, window)",
    )


def prefill_activation_bytes(spec: ArchSpec, context: int, batch: int, tp: int = 1) -> int:
    """One layer's live intermediates during prefill (split by tp) plus last-position logits."""
    return prefill_activation_sizer(spec, tp)(context, batch)


def prefill_activation_sizer(spec: ArchSpec, tp: int = 1) -> Callable[[int, int], int]:
    """``prefill_activation_bytes`` as a function of (context, batch), widths resolved once."""
    a, h = spec.attention, spec.hidden_size
    width = spec.ffn.intermediate_size * (spec.moe.top_k if spec.moe else 1)
    attn = (a.num_heads + 2 * a.num_kv_heads) * a.head_dim + a.num_heads * a.head_dim
    ffn = (3 if spec.ffn.kind == "gated" else 2) * width
    per_token = (2 * h + max(attn, ffn)) * ACT_BYTES
    logits = spec.embeddings.vocab_size * 4

    def size(context: int, batch: int) -> int:
        return batch * context * per_token // tp + batch * logits

    return size


def prefill_activation_term(spec: ArchSpec, context: int, batch: int, par: Parallel = Parallel()) -> MemoryTerm:
    """Peak transient activations of one layer during prefill, plus the last position's logits."""
    width = spec.ffn.intermediate_size * (spec.moe.top_k if spec.moe else 1)
    return MemoryTerm(
        name="activations", bytes=prefill_activation_bytes(spec, context, batch, par.tp),
        formula="b*s x (2h + max(q,k,v,attn-out widths, FFN widths)) x 2 B / tp + b x vocab x 4 B",
        inputs=f"b={batch}, s={context:,}, h={spec.hidden_size}, FFN width={width}, "
               f"vocab={spec.embeddings.vocab_size}",
        assumption="layers run one after another, so one layer's intermediates are live at a time; "
                   "fused attention (no s x s score matrix); fp32 logits for the last position only",
    )


def overhead_term() -> MemoryTerm:
    return MemoryTerm(name="overhead", bytes=RUNTIME_OVERHEAD_BYTES, formula="fixed 1 GiB per GPU",
                      inputs="none (independent of model, context and batch)",
                      assumption="CUDA context, cuBLAS/attention workspaces and allocator slack; "
                      "a stated flat assumption: measure your own stack")


def default_context(spec: ArchSpec) -> int:
    """Tokens per sequence when none is asked for: ``DEFAULT_CONTEXT``, capped at the model's
    maximum."""
    return min(DEFAULT_CONTEXT, spec.max_context)


def inference_memory(spec: ArchSpec, *, quant: QuantFormat = BF16, kv: KvDtype = FP16,
                     context: int = DEFAULT_CONTEXT, batch: int = 1, par: Parallel = Parallel(),
                     engine: Engine = Engine.minimal, encoder_length: int | None = None) -> MemoryResult:
    """Per-GPU inference memory of ``batch`` sequences of ``context`` tokens."""
    check_positive("context", context)
    check_positive("batch", batch)
    check_encoder_length(spec, encoder_length)
    check_parallel(spec, par)
    fmt, kvd = quant, kv
    terms = [
        weights_term(spec, fmt, par),
        kv_term(spec, context, batch, kvd, par, engine, encoder_length),
        prefill_activation_term(spec, context, batch, par),
        overhead_term(),
    ]
    w, k, act, over = (term.bytes for term in terms)
    return MemoryResult(
        model=spec.id, mode="inference", weight_format=fmt.name, kv_dtype=kvd.name,
        context=context, batch=batch, gpus=par.gpus, weights_bytes=w, kv_cache_bytes=k,
        activation_bytes=act, overhead_bytes=over, total_bytes=w + k + act + over, terms=terms,
    )
