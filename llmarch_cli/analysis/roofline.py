"""Roofline speed of prefill and decode: bytes over bandwidth against FLOPs over peak compute.

A decode step of ``batch`` sequences reads, on each of ``tp`` GPUs, its share of the weights the
step uses and of the KV cache, and performs ``batch`` x the forward FLOPs of one token; it takes
the longer of bytes / (bandwidth x bandwidth_efficiency) and FLOPs / (peak x
compute_efficiency) (Williams et al. 2009, "Roofline"). Weights read: every matmul weight in the
weight format (a "linear"-scope format leaves the head and routers in bf16; norms, biases and the
embedding rows looked up are negligible and left out). MoE layers read the experts the batch
touches: with ``top_k`` of ``E`` experts per token routed uniformly and independently, the
expected number of distinct experts is E x (1 - (1 - top_k/E)^batch). Tensor parallelism splits
weights, cache and FLOPs across ``tp`` GPUs (K/V replicated beyond the KV heads); communication
is not modelled. Prefill of ``batch`` prompts takes the longer of its FLOPs over compute and one
read of the weights over bandwidth; time to first token is that of one prompt.
"""

from __future__ import annotations

import math
from fractions import Fraction

from llmarch_cli.analysis.compute_results import ComputeTerm, RooflineResult
from llmarch_cli.analysis.flops import (
    attention_flops_per_token,
    linear_flops_per_token,
    prefill_flops,
)
from llmarch_cli.analysis.hardware import Gpu
from llmarch_cli.analysis.kvcache import KvDtype, kv_cache_bytes, kv_dtype
from llmarch_cli.analysis.memory import Parallel, check_parallel, inference_memory, shard_fraction
from llmarch_cli.analysis.quant_formats import UNQUANTISED_BITS, QuantFormat, weight_format
from llmarch_cli.errors import LlmarchError, check_positive
from llmarch_cli.specs.inventory import inventory
from llmarch_cli.specs.model import ArchSpec

# Defaults, stated: engines reach about 70% of peak bandwidth when decoding at batch 1 (gpt-fast
# reports 1,397 GB/s for Llama-2-7B on an A100's 2,039 GB/s: 69%) and about half of peak
# compute in large prefills.
BANDWIDTH_EFFICIENCY = 0.7
COMPUTE_EFFICIENCY = 0.5
QUANTISED_ROLES = ("attention", "cross_attention", "ffn", "experts")
MAX_BATCH = 1 << 20  # the search for the compute-bound batch stops here


def check_efficiency(name: str, value: float) -> None:
    """LlmarchError unless ``value`` (a share of peak) lies in (0, 1]."""
    if not 0 < value <= 1:
        raise LlmarchError(f"{name} must lie in (0, 1], got {value:g}")


def compute_dtype(gpu: Gpu, fmt: QuantFormat) -> str:
    """The dtype matmuls run in: fp8 for fp8 weights where the GPU has an fp8 peak, else bf16
    (weight-only formats dequantise to it), fp16 or fp32 where bf16 has no listed peak."""
    if fmt.name == "fp8" and "fp8" in gpu.peak_flops:
        return "fp8"
    return next(d for d in ("bf16", "fp16", "fp32") if d in gpu.peak_flops)


def experts_touched(spec: ArchSpec, tokens: int) -> float | None:
    """Expected distinct routed experts per MoE layer that ``tokens`` tokens use (uniform,
    independent routing), or None for a dense model."""
    if spec.moe is None:
        return None
    e, k = spec.moe.num_experts, spec.moe.top_k
    return e * (1 - (1 - k / e) ** tokens)


def weight_bytes_read(spec: ArchSpec, fmt: QuantFormat, tokens: int) -> int:
    """Bytes of matmul weights one pass over ``tokens`` tokens reads (all GPUs together)."""
    touched = experts_touched(spec, tokens)
    total = Fraction(0)
    for w in inventory(spec):
        if not w.matmul:
            continue
        quantised = fmt.scope != "linear" or w.role in QUANTISED_ROLES
        bits = fmt.bits if quantised else Fraction(UNQUANTISED_BITS)
        size = Fraction(w.params) * bits / 8
        if w.experts and touched is not None:
            size *= Fraction(touched) / w.experts
        total += size
    return math.ceil(total)


def _seconds(flops: float, nbytes: float, peak: float, bandwidth: float) -> tuple[float, float]:
    return flops / peak, nbytes / bandwidth


def roofline(spec: ArchSpec, gpu: Gpu, *, gpus: int = 1, tp: int | None = None, batch: int = 1,
             context: int = 4096, quant: str | QuantFormat = "bf16", kv: str | KvDtype = "fp16",
             bandwidth_efficiency: float = BANDWIDTH_EFFICIENCY,
             compute_efficiency: float = COMPUTE_EFFICIENCY) -> RooflineResult:
    """Prefill time and decode speed of ``spec`` on ``gpus`` x ``gpu`` (module docstring)."""
    for what, value in (("--batch", batch), ("--context", context), ("GPU count", gpus)):
        check_positive(what, value)
    tp = gpus if tp is None else tp
    check_positive("--tp", tp)
    check_parallel(spec, Parallel(gpus=tp, tp=tp))
    if gpus % tp:
        raise LlmarchError(f"--tp {tp} needs a multiple of {tp} GPUs; --gpu gives {gpus}")
    check_efficiency("--bandwidth-efficiency", bandwidth_efficiency)
    check_efficiency("--compute-efficiency", compute_efficiency)
    if spec.architecture == "encoder":
        raise LlmarchError(f"{spec.id} is encoder-only: it decodes no tokens")
    fmt = weight_format(quant) if isinstance(quant, str) else quant
    kvd = kv_dtype(kv) if isinstance(kv, str) else kv
    dtype = compute_dtype(gpu, fmt)
    peak = gpu.peak_flops[dtype] * compute_efficiency
    bandwidth = gpu.bandwidth_bytes_per_s * bandwidth_efficiency
    share = shard_fraction(spec, Parallel(gpus=tp, tp=tp))

    def step(b: int) -> tuple[int, int, int, float, float]:
        weights = math.ceil(weight_bytes_read(spec, fmt, b) * share)
        cache = kv_cache_bytes(spec, context, b, kvd, tp=tp)
        flops = b * (linear_flops_per_token(spec) + attention_flops_per_token(spec, context)) // tp
        compute_s, memory_s = _seconds(flops, weights + cache, peak, bandwidth)
        return weights, cache, flops, compute_s, memory_s

    weights, cache, flops, compute_s, memory_s = step(batch)
    seconds = max(compute_s, memory_s)

    def prefill(b: int) -> tuple[int, float]:
        total = b * prefill_flops(spec, context)
        read = math.ceil(weight_bytes_read(spec, fmt, b * context) * share)
        return total, max(total / tp / peak, read / bandwidth)

    prefill_total, prefill_s = prefill(batch)
    need = inference_memory(spec, quant=fmt, kv=kvd, context=context, batch=batch,
                            par=Parallel(gpus=tp, tp=tp)).total_bytes
    return RooflineResult(
        model=spec.id, gpu=gpu.id, gpus=gpus, tp=tp, batch=batch, context=context,
        weight_format=fmt.name, kv_dtype=kvd.name, compute_dtype=dtype,
        bandwidth_efficiency=bandwidth_efficiency, compute_efficiency=compute_efficiency,
        weights_bytes_per_step=weights, kv_cache_bytes_per_step=cache, decode_flops_per_step=flops,
        memory_bytes_per_gpu=need, fits_memory=need <= gpu.memory_bytes,
        experts_touched_per_layer=None if spec.moe is None else round(experts_touched(spec, batch), 3),
        arithmetic_intensity_flop_per_byte=round(flops / (weights + cache), 3),
        ridge_flop_per_byte=round(peak / bandwidth, 3),
        decode_bound="compute" if compute_s >= memory_s else "memory",
        decode_seconds_per_step=seconds,
        decode_tokens_per_s=round(batch * (gpus // tp) / seconds, 3),
        decode_tokens_per_s_per_sequence=round(1 / seconds, 3),
        compute_bound_batch=_compute_bound_batch(lambda b: step(b)[3] >= step(b)[4]),
        prefill_flops=prefill_total, prefill_seconds=prefill_s,
        time_to_first_token_seconds=prefill(1)[1],
        terms=_terms(spec, gpu, dtype, fmt.name, kvd.name, batch, context, tp, peak, bandwidth,
                     weights, cache, flops),
    )


def _compute_bound_batch(compute_bound) -> int | None:
    """Smallest batch whose decode step is compute-bound (bisection; None beyond MAX_BATCH)."""
    if not compute_bound(MAX_BATCH):
        return None
    low, high = 1, MAX_BATCH
    while low < high:
        mid = (low + high) // 2
        low, high = (low, mid) if compute_bound(mid) else (mid + 1, high)
    return low


def _terms(spec: ArchSpec, gpu: Gpu, dtype: str, fmt: str, kv: str, batch: int, context: int,
           tp: int, peak: float, bandwidth: float, weights: int, cache: int,
           flops: int) -> list[ComputeTerm]:
    """``--explain``: what a decode step reads and computes, and the two times."""
    moe = ("; MoE: expected distinct experts E x (1 - (1 - k/E)^batch)" if spec.moe else "")
    return [
        ComputeTerm(name="weights_read", value=weights, unit="B",
                    formula="sum of matmul weights x bits / 8, experts x touched / E, / tp",
                    inputs=f"format={fmt}, batch={batch}, tp={tp}",
                    assumption="norms, biases and looked-up embedding rows are negligible" + moe),
        ComputeTerm(name="kv_cache_read", value=cache, unit="B",
                    formula="batch x KV bytes of context tokens, heads split by tp",
                    inputs=f"kv_dtype={kv}, context={context:,}, batch={batch}",
                    assumption="every cached K and V is read once per step"),
        ComputeTerm(name="decode_flops", value=flops, unit="FLOP",
                    formula="batch x (linear + attention FLOPs per token) / tp",
                    inputs=f"batch={batch}, context={context:,}", assumption="see llmarch flops --explain"),
        ComputeTerm(name="memory_time", value=(weights + cache) / bandwidth, unit="s",
                    formula="(weights + KV bytes) / (bandwidth x bandwidth_efficiency)",
                    inputs=f"bandwidth={gpu.bandwidth_bytes_per_s:.4g} B/s, effective {bandwidth:.4g} B/s",
                    assumption=f"GPU preset {gpu.id}: {gpu.source}"),
        ComputeTerm(name="compute_time", value=flops / peak, unit="s",
                    formula="FLOPs / (peak x compute_efficiency)",
                    inputs=f"{dtype} peak={gpu.peak_flops[dtype]:.4g} FLOP/s, effective {peak:.4g} FLOP/s",
                    assumption="dense peak; weight-only formats compute in bf16; no communication cost"),
    ]
