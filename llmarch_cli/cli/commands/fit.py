"""``llmarch fit``: which presets fit a GPU (or a memory size), at which format, how much context."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from llmarch_cli.cli.options import (
    BatchOpt,
    ContextOpt,
    KvDtypeOpt,
    Outputs,
    QuantOpt,
    TrainOpt,
    WhatIfs,
    one_of,
    shared,
)

EXAMPLES = (  # shown under --help
    "llmarch fit --gpu rtx4090",
    "llmarch fit --gpu h100x8 --train lora",
    "llmarch fit --memory 24GiB -c 32k --licence open --json",
    "llmarch fit --gpu h100 -c 8k,128k --kv-dtype fp8",
)
RESULT = ("llmarch_cli.analysis.results", "FitRow", "list")  # `llmarch schema fit`


@shared
def fit(
    gpu: Annotated[str | None, typer.Option(
        "--gpu", metavar="NAME[xN]", show_default=False,
        help="A GPU preset, optionally times N (h100x8, rtx4090, m3-max).")] = None,
    gpu_file: Annotated[Path | None, typer.Option(
        "--gpu-file", dir_okay=False, show_default=False,
        help="Your own GPU preset (TOML with name, memory_bytes, bandwidth_bytes_per_s, "
             "peak_flops, source).")] = None,
    memory: Annotated[str | None, typer.Option(
        "--memory", metavar="SIZE", show_default=False,
        help="A memory budget instead: 24GiB is IEC (24 x 2^30 bytes), 24GB or 24G is SI "
             "(24 x 10^9 bytes).")] = None,
    context: ContextOpt = None, batch: BatchOpt = "1", quant: QuantOpt = None,
    kv_dtype: KvDtypeOpt = None, train: TrainOpt = None,
    task: Annotated[Any, typer.Option(
        "--task", show_default=False, metavar="TASK",
        parser=one_of("--task", "llmarch_cli.analysis.fit", "TASKS"), help="generate (LMs) or understand (encoders).")] = None,
    licence: Annotated[Any, typer.Option(
        "--licence", "--license", show_default=False, metavar="open",
        parser=one_of("--licence", "llmarch_cli.analysis.fit", "LICENCES"), help="open: OSI-open licences only.")] = None,
    lang: Annotated[str | None, typer.Option("--lang", show_default=False, help="A language the model lists (en, zh, ...).")] = None,
    change: WhatIfs = None,
    explain: Annotated[bool, typer.Option("--explain", help="Print the terms behind the top recommendation.")] = False,
    out: Outputs = None,
) -> None:
    """Presets that fit a GPU or a memory size, largest first.

    For each: the best weight format that fits, the largest context and batch, and the
    numbers behind them: one row per model, context and batch (the default context is
    min(4k, the model's maximum); a model whose maximum is shorter than a context asked for is
    left out of that context, with a note). What-ifs (--set, --gqa, ...) apply to every preset.
    Several GPUs split each model by tensor parallelism over as many as
    divide its heads, the rest as data-parallel replicas. Tables use IEC units (GiB); JSON is
    in bytes.
    """
    from llmarch_cli.analysis.fit import apply_to_all, fit_grid, select_presets
    from llmarch_cli.analysis.hardware import load_gpu_file, resolve_gpu
    from llmarch_cli.analysis.kvcache import FP16
    from llmarch_cli.cli.sizes import parse_bytes
    from llmarch_cli.errors import LlmarchError
    from llmarch_cli.render.output import emit, note
    from llmarch_cli.render.views import fit_view

    if sum(x is not None for x in (gpu, gpu_file, memory)) != 1:
        raise LlmarchError("give exactly one of --gpu, --gpu-file and --memory")
    if train is not None and (quant is not None or kv_dtype is not None):
        raise LlmarchError("--quant and --kv-dtype apply to inference; --train picks the base "
                           "format and a training step keeps no KV cache")
    if gpu is not None or gpu_file is not None:
        device, gpus = resolve_gpu(gpu) if gpu is not None else (load_gpu_file(gpu_file), 1)
        budget, where = device.memory_bytes, f"{device.name} x {gpus}" if gpus > 1 else device.name
    else:
        budget, gpus, where = parse_bytes(memory or "", "--memory"), 1, memory
    specs, skipped = apply_to_all(select_presets(task, licence, lang), change)
    if skipped:
        note(f"note: the what-if does not apply to {len(skipped)} models, left out: {', '.join(skipped)}")
    rows, too_long = fit_grid(specs, budget, context or (None,), batch, gpus=gpus, quants=quant,
                              kv=kv_dtype or FP16, train=train)
    for ctx, ids in too_long.items():
        note(f"note: {len(ids)} models take fewer than {ctx:,} tokens and are left out: {', '.join(ids)}")
    emit(fit_view(rows, where, gpus, train, explain), *out)
