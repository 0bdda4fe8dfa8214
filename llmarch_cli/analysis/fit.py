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
    kv_cache_sizer,
    kv_dtype,
)
from llmarch_cli.analysis.memory import (
    RUNTIME_OVERHEAD_BYTES,
    Parallel,
    prefill_activation_sizer,
    weight_layout,
    weights_term,
)
from llmarch_cli.analysis.quant_formats import WEIGHT_FORMATS, weight_format
from llmarch_cli.analysis.results import FitRow
from llmarch_cli.analysis.training import DEFAULT_CHECKPOINTING, activation_bytes, training_memory
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
    """The best-fitting configuration of one model, or None when nothing fits.

    Everything that does not depend on context or batch (weights, optimizer state, the KV layer
    layout) is computed once per model and format; the searches then only re-add the KV cache
    and activations. Training uses ``training_memory``'s default checkpointing for the mode.
    """
    par = _parallel(spec, gpus)
    if par is None:
        return None
    ctx = min(context or 4096, spec.max_context)
    kvd = kv_dtype(kv)
    if train is not None:
        base = training_memory(spec, mode=train, context=1, batch=1, par=par)
        formats = [base.weight_format]
        ckpt = DEFAULT_CHECKPOINTING[train]

        def fixed(fmt: str) -> tuple[int, int]:
            return base.weights_bytes, base.total_bytes - base.activation_bytes

        def variable(c: int, b: int) -> int:
            return activation_bytes(spec, c, b, ckpt, par.tp)
    else:
        names = quants or [n for n in WEIGHT_FORMATS if n != "fp16"]
        formats = sorted({weight_format(n).name for n in names}, key=lambda n: -weight_format(n).bits)
        kv_bytes = kv_cache_sizer(spec, kvd, tp=par.tp)
        act_bytes = prefill_activation_sizer(spec, par.tp)

        def fixed(fmt: str) -> tuple[int, int]:
            weights = weights_term(spec, weight_format(fmt), par).bytes
            return weights, weights + RUNTIME_OVERHEAD_BYTES

        def variable(c: int, b: int) -> int:
            return -(-kv_bytes(c, b) // par.pp) + act_bytes(c, b)
    for fmt in formats:
        weights, base_bytes = fixed(fmt)
        used = base_bytes + variable(ctx, batch)
        if used > budget:
            continue
        room = budget - base_bytes
        max_ctx = _largest(lambda c, r=room: variable(c, batch) <= r, spec.max_context)
        max_batch = _largest(lambda b, r=room: variable(ctx, b) <= r, MAX_BATCH)
        return FitRow(
            model=spec.id, mode=f"train-{train}" if train else "inference", weight_format=fmt,
            total_params=weight_layout(spec).total, weights_bytes=weights,
            kv_bytes_per_token=kv_bytes_per_token(spec, dtype=kvd), max_context=max_ctx,
            max_batch=max_batch, total_bytes=used, budget_bytes=budget, headroom_bytes=budget - used,
        )
    return None


def fit_all(specs: Iterable[ArchSpec], budget: int, **kwargs) -> list[FitRow]:
    """Every model that fits, largest first (then by weight precision)."""
    check_positive("memory budget", budget)
    rows = [row for spec in specs if (row := fit_model(spec, budget, **kwargs)) is not None]
    return sorted(rows, key=lambda r: (-r.total_params, -weight_format(r.weight_format).bits, r.model))
