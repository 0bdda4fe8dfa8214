"""``llmarch fit``: which presets fit a GPU (or a memory size), at which format, how much context."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llmarch_cli.cli.options import Format, FormatOpt, NoColorOpt, OutputOpt

EXAMPLES = (  # shown under --help
    "llmarch fit --gpu rtx4090",
    "llmarch fit --gpu h100x8 --train lora",
    "llmarch fit --memory 24GiB -c 32k --licence open --json",
)

COLUMNS = {
    "model": "Model", "weight_format": "Format", "total_params": "Params (SI)",
    "weights_bytes": "Weights (IEC)", "kv_bytes_per_token": "KV/token (IEC)",
    "max_context": "Max context", "max_batch": "Max batch", "total_bytes": "Total (IEC)",
    "headroom_bytes": "Headroom (IEC)",
}


def fit(
    gpu: Annotated[str | None, typer.Option(
        "--gpu", metavar="NAME[xN]", show_default=False,
        help="A GPU preset, optionally times N (h100x8, rtx4090, m3-max).")] = None,
    gpu_file: Annotated[Path | None, typer.Option(
        "--gpu-file", dir_okay=False, show_default=False,
        help="Your own GPU preset (TOML with name, memory_bytes, bandwidth_bytes_per_s, "
             "peak_flops, source).")] = None,
    memory: Annotated[str | None, typer.Option(
        "--memory", metavar="SIZE", show_default=False, help="A memory budget instead (24GiB, 80GB).")] = None,
    context: Annotated[str | None, typer.Option(
        "--context", "-c", metavar="N", show_default=False,
        help="Context that must fit (default min(4k, model maximum)).")] = None,
    batch: Annotated[int, typer.Option("--batch", "-b", help="Sequences that must fit.")] = 1,
    quant: Annotated[str | None, typer.Option(
        "--quant", metavar="FMT[,FMT...]", show_default=False,
        help="Weight formats to consider (default: all but fp16, best first).")] = None,
    kv_dtype: Annotated[str, typer.Option("--kv-dtype", help="KV cache dtype.")] = "bf16",
    train: Annotated[str | None, typer.Option(
        "--train", show_default=False,
        help="Fit training instead: full, lora or qlora, with memory's default checkpointing "
             "(selective for full, full for lora/qlora).")] = None,
    task: Annotated[str | None, typer.Option(
        "--task", show_default=False, help="generate (LMs) or understand (encoders).")] = None,
    licence: Annotated[str | None, typer.Option(
        "--licence", "--license", show_default=False, help="open: OSI-open licences only.")] = None,
    lang: Annotated[str | None, typer.Option("--lang", show_default=False, help="A language the model lists (en, zh, ...).")] = None,
    explain: Annotated[bool, typer.Option("--explain", help="Print the terms behind the top recommendation.")] = False,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Presets that fit a GPU or a memory size, largest first.

    For each: the best weight format that fits, the largest context and batch, and the
    numbers behind them. Tables use IEC units (GiB); JSON is in bytes.
    """
    from llmarch_cli.analysis.fit import TASKS, fit_all, matches
    from llmarch_cli.analysis.hardware import load_gpu_file, resolve_gpu
    from llmarch_cli.cli.sizes import parse_bytes, parse_count
    from llmarch_cli.errors import LlmarchError
    from llmarch_cli.render.output import emit, note
    from llmarch_cli.specs.registry import load_preset, preset_ids

    if sum(x is not None for x in (gpu, gpu_file, memory)) != 1:
        raise LlmarchError("give exactly one of --gpu, --gpu-file and --memory")
    if task is not None and task not in TASKS:
        raise LlmarchError(f"unknown task {task!r} (valid: {', '.join(TASKS)})")
    if licence is not None and licence != "open":
        raise LlmarchError(f"unknown licence filter {licence!r} (valid: open)")
    if gpu is not None:
        device, gpus = resolve_gpu(gpu)
        budget, where = device.memory_bytes, f"{device.name} x {gpus}" if gpus > 1 else device.name
    elif gpu_file is not None:
        device, gpus = load_gpu_file(gpu_file), 1
        budget, where = device.memory_bytes, device.name
    else:
        budget, gpus = parse_bytes(memory or ""), 1
        where = memory
    quants = [q.strip() for q in quant.split(",")] if quant else None
    ctx = parse_count(context) if context else None
    if train is not None and quants:
        raise LlmarchError("--quant applies to inference; --train picks the base format")
    specs = [s for s in (load_preset(p) for p in preset_ids()) if matches(s, task, licence == "open", lang)]
    rows = fit_all(specs, budget, gpus=gpus, context=ctx, batch=batch, quants=quants, kv=kv_dtype,
                   train=train)
    if not rows:
        note(f"nothing fits {where} at this context and batch")
    emit(rows, fmt, columns=COLUMNS, output=output,
         title=f"Models that fit {where} ({'training ' + train if train else 'inference'}, per GPU, IEC units)")
    if explain and rows:
        from llmarch_cli.analysis.memory import Parallel, inference_memory
        from llmarch_cli.analysis.training import training_memory
        from llmarch_cli.cli.commands.memory import print_explanation

        top = rows[0]
        spec = load_preset(top.model)
        par = Parallel(gpus=gpus, tp=gpus)
        c = min(ctx or 4096, spec.max_context)
        result = (training_memory(spec, mode=train, context=c, batch=batch, par=par)
                  if train else inference_memory(spec, quant=top.weight_format, kv=kv_dtype, context=c,
                                                 batch=batch, par=par))
        print_explanation(result.terms, fmt, output)
