"""Which presets fit a memory budget, at which weight format, with the largest context and batch.

For each model the best format is the one with the most bits per weight whose total (weights +
KV cache + activations + overhead, per GPU) fits at the requested context and batch. For that
format we then search the largest context (up to the model's maximum) at the requested batch,
and the largest batch at the requested context. Memory grows monotonically with both, so a
binary search is exact. Multi-GPU budgets split the model by tensor parallelism over all GPUs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from llmarch_cli.analysis.kvcache import (
    check_positive,
    kv_bytes_per_token,
    kv_cache_bytes,
    kv_dtype,
)
from llmarch_cli.analysis.memory import (
    RUNTIME_OVERHEAD_BYTES,
    Parallel,
    prefill_activation_bytes,
    weights_term,
)
from llmarch_cli.analysis.params import count_params
from llmarch_cli.analysis.quant_formats import WEIGHT_FORMATS, weight_format
from llmarch_cli.analysis.results import FitRow
from llmarch_cli.analysis.training import training_memory
from llmarch_cli.specs.model import ArchSpec

TASKS: tuple[str, ...] = ("generate", "understand")
MAX_BATCH = 1 << 16


def matches(spec: ArchSpec, task: str | None, open_licence: bool, lang: str | None) -> bool:
    """Filters on spec metadata: task (generate = causal/seq2seq LM, understand = encoder),
    OSI-open licence, and a language the model lists."""
    if task == "generate" and spec.architecture == "encoder":
        return False
    if task == "understand" and spec.architecture != "encoder":
        return False
    if open_licence and not spec.meta.open_licence:
        return False
    return lang is None or lang.lower() in (x.lower() for x in spec.meta.languages)


def _largest(fits: Callable[[int], bool], hi: int) -> int:
    """The largest n in [1, hi] with fits(n), or 0 (fits must be monotone decreasing)."""
    if not fits(1):
        return 0
    lo = 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _parallel(spec: ArchSpec, gpus: int) -> Parallel | None:
    if spec.attention.num_heads % gpus:
        return None
    return Parallel(gpus=gpus, tp=gpus)


def fit_model(spec: ArchSpec, budget: int, *, gpus: int = 1, context: int | None = None,
              batch: int = 1, quants: Sequence[str] | None = None, kv: str = "bf16",
              train: str | None = None) -> FitRow | None:
    """The best-fitting configuration of one model, or None when nothing fits."""
    par = _parallel(spec, gpus)
    if par is None:
        return None
    ctx = min(context or 4096, spec.max_context)
    if train is not None:
        def total(c: int, b: int, fmt: str = "") -> int:
            return training_memory(spec, mode=train, context=c, batch=b, par=par,
                                   checkpointing="full").total_bytes
        formats = ["nf4" if train == "qlora" else "bf16"]
    else:
        kvd = kv_dtype(kv)
        weights: dict[str, int] = {}

        def total(c: int, b: int, fmt: str = "bf16") -> int:
            if fmt not in weights:
                weights[fmt] = weights_term(spec, weight_format(fmt), par).bytes
            kv_bytes = -(-kv_cache_bytes(spec, c, b, dtype=kvd, tp=par.tp) // par.pp)
            return (weights[fmt] + kv_bytes + prefill_activation_bytes(spec, c, b, par.tp)
                    + RUNTIME_OVERHEAD_BYTES)
        names = quants or [n for n in WEIGHT_FORMATS if n != "fp16"]
        formats = sorted((weight_format(n).name for n in names),
                         key=lambda n: -weight_format(n).bits)
    for fmt in formats:
        used = total(ctx, batch, fmt)
        if used > budget:
            continue
        max_ctx = _largest(lambda c, f=fmt: total(c, batch, f) <= budget, spec.max_context)
        max_batch = _largest(lambda b, f=fmt: total(ctx, b, f) <= budget, MAX_BATCH)
        return FitRow(
            model=spec.id, mode=f"train-{train}" if train else "inference", weight_format=fmt,
            total_params=count_params(spec).total_params, weights_bytes=weights_term(spec, weight_format(fmt), par).bytes,
            kv_bytes_per_token=kv_bytes_per_token(spec, dtype=kv_dtype(kv)), max_context=max_ctx,
            max_batch=max_batch, total_bytes=used, budget_bytes=budget, headroom_bytes=budget - used,
        )
    return None


def fit_all(specs: Iterable[ArchSpec], budget: int, **kwargs) -> list[FitRow]:
    """Every model that fits, largest first (then by weight precision)."""
    check_positive("memory budget", budget)
    rows = [row for spec in specs if (row := fit_model(spec, budget, **kwargs)) is not None]
    return sorted(rows, key=lambda r: (-r.total_params, -weight_format(r.weight_format).bits, r.model))
