"""``llmarch memory MODEL``: per-GPU memory for inference or training, every term itemised."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llmarch_cli.cli.options import (
    Format,
    FormatOpt,
    GqaOpt,
    ModelArg,
    NoColorOpt,
    OutputOpt,
    SetOpt,
)

TargetsOpt = Annotated[list[str] | None, typer.Option(
    "--targets", metavar="NAMES", show_default=False,
    help="LoRA targets: HF module names (q_proj, c_attn, query_key_value, ...), short names "
         "q,k,v,o,gate,up,down, or all-linear (default).")]


EXAMPLES = (  # shown under --help
    "llmarch memory llama-2-7b",
    "llmarch memory llama-3-8b --quant q4_k_m -c 8k --batch 4",
    "llmarch memory llama-65b --train qlora --rank 64 --checkpointing full -c 512",
    "llmarch memory mixtral --tp 2 --explain",
)

def memory(
    model: ModelArg,
    quant: Annotated[str | None, typer.Option(
        "--quant", show_default=False,
        help="Inference weight format: fp32, bf16 (default), fp16, fp8, int8, int4, nf4, q8_0, "
             "q6_k, q5_k_m, q4_k_m, q4_0, q3_k_m, q2_k.")] = None,
    kv_dtype: Annotated[str, typer.Option("--kv-dtype", help="KV cache dtype (fp32 fp16 bf16 fp8 int8 int4).")] = "bf16",
    context: Annotated[str | None, typer.Option(
        "--context", "-c", metavar="N", show_default=False,
        help="Tokens per sequence (4k, 32k); default min(4k, model maximum).")] = None,
    batch: Annotated[int, typer.Option("--batch", "-b", help="Sequences (micro-batch when training).")] = 1,
    train: Annotated[str | None, typer.Option(
        "--train", show_default=False, help="Training instead of inference: full, lora or qlora.")] = None,
    optimizer: Annotated[str, typer.Option("--optimizer", help="adamw, adamw8bit or sgd (momentum).")] = "adamw",
    checkpointing: Annotated[str | None, typer.Option(
        "--checkpointing", show_default=False,
        help="Activation recomputation: none, selective or full. Default: selective for --train "
             "full (FlashAttention/SDPA stores no s x s scores), full for lora/qlora (the QLoRA "
             "recipe and PEFT's prepare_model_for_kbit_training enable gradient checkpointing).")] = None,
    zero: Annotated[int, typer.Option("--zero", help="ZeRO stage 0-3 over the data-parallel GPUs.")] = 0,
    tp: Annotated[int, typer.Option("--tp", help="Tensor-parallel GPUs.")] = 1,
    pp: Annotated[int, typer.Option("--pp", help="Pipeline-parallel stages.")] = 1,
    gpus: Annotated[int | None, typer.Option(
        "--gpus", show_default=False, help="GPUs in all (default tp x pp); the rest is data parallel.")] = None,
    rank: Annotated[int, typer.Option("--rank", help="LoRA rank r.")] = 8,
    targets: TargetsOpt = None,
    engine: Annotated[str, typer.Option("--engine", help="KV engine: minimal or full.")] = "minimal",
    sets: SetOpt = None,
    gqa: GqaOpt = None,
    explain: Annotated[bool, typer.Option("--explain", help="Print every term with its formula.")] = False,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Per-GPU memory of MODEL for inference or training, every term itemised.

    Inference: weights by format, KV cache, activations and overhead. Training (--train
    full|lora|qlora): weights, gradients, optimizer state and activations. Tables use IEC
    units (GiB); JSON is in bytes.
    """
    from llmarch_cli.analysis.memory import Parallel, inference_memory
    from llmarch_cli.analysis.training import training_memory
    from llmarch_cli.cli.options import load_spec
    from llmarch_cli.cli.sizes import parse_count
    from llmarch_cli.errors import LlmarchError

    spec = load_spec(model, sets, gqa)
    ctx = parse_count(context) if context else min(4096, spec.max_context)
    par = Parallel(gpus=gpus if gpus is not None else tp * pp, tp=tp, pp=pp)
    if train is None:
        result = inference_memory(spec, quant=quant or "bf16", kv=kv_dtype, context=ctx, batch=batch,
                                  par=par, engine=engine)
    else:
        if quant is not None:
            raise LlmarchError("--quant applies to inference; --train picks the base format "
                               "(full/lora: bf16, qlora: nf4)")
        result = training_memory(spec, mode=train, optimizer=optimizer, checkpointing=checkpointing,
                                 context=ctx, batch=batch, zero=zero, par=par, rank=rank,
                                 targets=targets or ["all-linear"])
    emit_memory(result, fmt, output, explain)


def emit_memory(result, fmt: str, output: Path | None, explain: bool) -> None:
    """JSON: the result in bytes; tables: one row per term plus the total, in IEC units."""
    from llmarch_cli.render.output import emit, resolve_format

    concrete = resolve_format(fmt, output)
    if concrete in ("json", "jsonl"):
        emit(result.model_dump(mode="json", exclude_none=True), concrete, output=output)
    else:
        rows = [{"term": t.name, "memory_bytes": t.bytes} for t in result.terms]
        rows.append({"term": "total", "memory_bytes": result.total_bytes})
        title = (f"{result.model}: {result.mode}, {result.weight_format}, context {result.context:,}, "
                 f"batch {result.batch}, per GPU of {result.gpus} (IEC units)")
        emit(rows, concrete, columns={"term": "Term", "memory_bytes": "Memory (IEC)"}, title=title,
             output=output)
    if explain:
        print_explanation(result.terms, concrete, output)


def print_explanation(terms, fmt: str, output: Path | None) -> None:
    """Every term's formula, inputs and assumption: on stdout beside a table, on stderr beside
    machine formats (so piped data stays clean)."""
    import sys

    from llmarch_cli.render.output import resolve_format
    from llmarch_cli.render.units import format_bytes

    lines = []
    for t in terms:
        lines.append(f"{t.name}: {format_bytes(t.bytes)} ({t.bytes:,} B)")
        lines.append(f"  formula: {t.formula}")
        lines.append(f"  inputs: {t.inputs}")
        if t.assumption:
            lines.append(f"  assumption: {t.assumption}")
    stream = sys.stdout if resolve_format(fmt, output) in ("table", "md") and output is None else sys.stderr
    stream.write("\n".join(lines) + "\n")
