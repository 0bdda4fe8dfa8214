"""Which presets fit a memory budget, at which weight format, with the largest context and batch.

For each model the best format is the one with the most bits per weight whose total (weights +
KV cache + activations + overhead, per GPU) fits at the requested context and batch; fp32 is
tried only when asked for (checkpoints ship in bf16, so bf16 is where the search starts). The
context is the requested one, or ``default_context`` (min(4k, the model's maximum)); a model whose
maximum context is below the requested one does not fit it and is reported apart. For that format
we then search the largest context (up to the model's maximum) at the requested batch, and the
largest batch at the requested context. Memory grows monotonically with both, so a binary search
is exact. Multi-GPU budgets split each model by tensor parallelism over the largest number of
GPUs that divides both the GPU count and its attention heads; the other GPUs are data-parallel
replicas, each holding ``batch`` sequences.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from math import gcd

from llmarch_cli.analysis.kvcache import (
    FP16,
    KV_DTYPES,
    KvDtype,
    kv_bytes_per_token,
    kv_cache_sizer,
)
from llmarch_cli.analysis.lora import ALL_LINEAR, select_targets
from llmarch_cli.analysis.memory import (
    MAX_GPUS,
    RUNTIME_OVERHEAD_BYTES,
    Parallel,
    default_context,
    inference_memory,
    prefill_activation_sizer,
    weight_layout,
    weights_term,
)
from llmarch_cli.analysis.quant_formats import WEIGHT_FORMATS, QuantFormat
from llmarch_cli.analysis.results import FitRow, MemoryResult
from llmarch_cli.analysis.training import DEFAULT_CHECKPOINTING, activation_bytes, training_memory
from llmarch_cli.errors import LlmarchError, check_positive
from llmarch_cli.specs.loader import load_preset
from llmarch_cli.specs.model import ArchSpec
from llmarch_cli.specs.overrides import WhatIf, apply_what_if
from llmarch_cli.specs.registry import preset_ids

TASKS: tuple[str, ...] = ("generate", "understand")
LICENCES: tuple[str, ...] = ("open",)
# Formats tried when none is asked for, widest first: fp16 duplicates bf16, and fp32 only when asked.
DEFAULT_FORMATS: tuple[QuantFormat, ...] = tuple(f for n, f in WEIGHT_FORMATS.items()
                                                 if n not in ("fp32", "fp16"))
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


def select_presets(task: str | None = None, licence: str | None = None,
                   lang: str | None = None) -> list[ArchSpec]:
    """Every preset passing the ``--task``, ``--licence`` and ``--lang`` filters."""
    specs = (load_preset(p) for p in preset_ids())
    return [s for s in specs if matches(s, task, licence == "open", lang)]


def apply_to_all(specs: Iterable[ArchSpec], change: WhatIf | None) -> tuple[list[ArchSpec], list[str]]:
    """``specs`` with the what-if ``change`` applied, and the ids of those it does not apply to."""
    changed, skipped = [], []
    for spec in specs:
        try:
            changed.append(apply_what_if(spec, change) if change else spec)
        except LlmarchError:
            skipped.append(spec.id)
    return changed, skipped


def fit_parallel(spec: ArchSpec, gpus: int) -> Parallel:
    """``gpus`` GPUs: tensor parallelism over the largest count dividing both the GPUs and the
    attention heads, the rest data parallel (gpt2's 12 heads on 8 GPUs: tp 4 x dp 2)."""
    check_positive("GPU count", gpus)
    if gpus > MAX_GPUS:
        raise LlmarchError(f"GPU count {gpus:,} is over the limit of {MAX_GPUS:,} (2^24)")
    return Parallel(gpus=gpus, tp=gcd(gpus, spec.attention.num_heads))


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


def fit_model(spec: ArchSpec, budget: int, *, gpus: int = 1, context: int | None = None,
              batch: int = 1, quants: Sequence[QuantFormat] | None = None, kv: KvDtype = FP16,
              train: str | None = None) -> FitRow | None:
    """The best-fitting configuration of one model, or None when nothing fits.

    ``context=None`` takes ``default_context(spec)``; a context beyond the model's maximum is an
    LlmarchError. The row records the context, batch and GPU layout it was fitted at.
    Everything that does not depend on context or batch (weights, optimizer state, the KV layer
    layout) is computed once per model and format; the searches then only re-add the KV cache
    and activations. Training uses ``training_memory``'s default checkpointing for the mode.
    """
    par = fit_parallel(spec, gpus)
    ctx = default_context(spec) if context is None else context
    check_positive("context", ctx)
    check_positive("batch", batch)
    if ctx > spec.max_context:
        raise LlmarchError(f"context {ctx:,} exceeds the {spec.max_context:,} tokens {spec.id} takes")
    kvd = kv
    if train is not None:
        base = training_memory(spec, mode=train, context=1, batch=1, par=par)
        formats = [WEIGHT_FORMATS[base.weight_format]]
        ckpt = DEFAULT_CHECKPOINTING[train]

        def fixed(fmt: QuantFormat) -> tuple[int, int]:
            return base.weights_bytes, base.total_bytes - base.activation_bytes

        def variable(c: int, b: int) -> int:
            return activation_bytes(spec, c, b, ckpt, par.tp)
    else:
        formats = sorted(dict.fromkeys(quants or DEFAULT_FORMATS), key=lambda f: -f.bits)
        kv_bytes = kv_cache_sizer(spec, kvd, tp=par.tp)
        act_bytes = prefill_activation_sizer(spec, par.tp)

        def fixed(fmt: QuantFormat) -> tuple[int, int]:
            weights = weights_term(spec, fmt, par).bytes
            return weights, weights + RUNTIME_OVERHEAD_BYTES

        def variable(c: int, b: int) -> int:
            return kv_bytes(c, b) + act_bytes(c, b)
    for fmt in formats:
        weights, base_bytes = fixed(fmt)
        used = base_bytes + variable(ctx, batch)
        if used > budget:
            continue
        room = budget - base_bytes
        max_ctx = _largest(lambda c, r=room: variable(c, batch) <= r, spec.max_context)
        max_batch = _largest(lambda b, r=room: variable(ctx, b) <= r, MAX_BATCH)
        row = FitRow(
            model=spec.id, mode=f"train-{train}" if train else "inference", weight_format=fmt.name,
            kv_dtype="-" if train else kvd.name, context=ctx, batch=batch, gpus=par.gpus,
            tp=par.tp, dp=par.dp, total_params=weight_layout(spec).total, weights_bytes=weights,
            kv_bytes_per_token=kv_bytes_per_token(spec, kvd), max_context=max_ctx,
            max_batch=max_batch, total_bytes=used, budget_bytes=budget, headroom_bytes=budget - used,
        )
        return row.model_copy(update={"terms": fit_memory(spec, row).terms})
    return None


@dataclass(frozen=True)
class FitSearch:
    """Models that fit (largest first, then by weight precision), and the ids of models left
    out because their maximum context is below the requested one."""

    rows: list[FitRow]
    context_too_long: list[str]


def lora_trainable_by_default(spec: ArchSpec) -> bool:
    """Whether the default LoRA targets (all-linear) are allowed on ``spec`` (not on Mamba)."""
    try:
        select_targets(spec, [ALL_LINEAR])
    except LlmarchError:
        return False
    return True


def fit_all(specs: Iterable[ArchSpec], budget: int, *, context: int | None = None,
            **kwargs) -> FitSearch:
    """``fit_model`` over ``specs``, sorted, with the models whose context is too short apart."""
    check_positive("memory budget", budget)
    specs = list(specs)
    if kwargs.get("train") in ("lora", "qlora"):  # PEFT refuses all-linear on Mamba models
        specs = [s for s in specs if lora_trainable_by_default(s)]
    short = [s.id for s in specs if context is not None and context > s.max_context]
    rows = [row for s in specs if s.id not in short
            if (row := fit_model(s, budget, context=context, **kwargs)) is not None]
    rows.sort(key=lambda r: (-r.total_params, -WEIGHT_FORMATS[r.weight_format].bits, r.model))
    return FitSearch(rows, short)


def fit_grid(specs: Sequence[ArchSpec], budget: int, contexts: Sequence[int | None],
             batches: Sequence[int], **kwargs) -> tuple[list[FitRow], dict[int, list[str]]]:
    """``fit_all`` per context and batch: the rows, and per context the ids of the models whose
    maximum context is shorter."""
    rows, too_long = [], {}
    for ctx in contexts:
        for size in batches:
            found = fit_all(specs, budget, context=ctx, batch=size, **kwargs)
            rows += found.rows
            if found.context_too_long:
                too_long[ctx] = found.context_too_long
    return rows, too_long


def fit_memory(spec: ArchSpec, row: FitRow) -> MemoryResult:
    """The itemised memory behind ``row`` (its ``terms``): its format, context, batch and layout."""
    par = Parallel(gpus=row.gpus, tp=row.tp)
    if row.mode.startswith("train-"):
        return training_memory(spec, mode=row.mode.removeprefix("train-"), context=row.context,
                               batch=row.batch, par=par)
    return inference_memory(spec, quant=WEIGHT_FORMATS[row.weight_format], kv=KV_DTYPES[row.kv_dtype],
                            context=row.context,
                            batch=row.batch, par=par)
