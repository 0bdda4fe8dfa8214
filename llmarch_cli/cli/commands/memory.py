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
    help="--train lora/qlora: LoRA targets, HF module names (q_proj, c_attn, query_key_value, "
         "...), short names q,k,v,o,gate,up,down, or all-linear (default).")]


EXAMPLES = (  # shown under --help
    "llmarch memory llama-2-7b",
    "llmarch memory llama-3-8b --quant q4_k_m -c 8k --batch 4",
    "llmarch memory t5-base -c 512 --encoder-length 2k",
    "llmarch memory llama-65b --train qlora --rank 64 --checkpointing full -c 512",
    "llmarch memory mixtral --tp 2 --explain",
)
# Options that apply to one mode only: (option, given?) pairs are checked against the mode.
INFERENCE_ONLY = ("--quant", "--kv-dtype", "--engine", "--encoder-length")
TRAINING_ONLY = ("--optimizer", "--checkpointing", "--zero")
ADAPTER_ONLY = ("--rank", "--targets")


def memory(
    model: ModelArg,
    quant: Annotated[str | None, typer.Option(
        "--quant", show_default=False,
        help="Inference weight format: fp32, bf16 (default), fp16, fp8, int8, int4, nf4, q8_0, "
             "q6_k, q5_k_m, q4_k_m, q4_0, q3_k_m, q2_k.")] = None,
    kv_dtype: Annotated[str | None, typer.Option(
        "--kv-dtype", show_default=False,
        help="Inference: KV cache dtype, fp32, fp16 (default), bf16, fp8, int8, int4.")] = None,
    context: Annotated[str | None, typer.Option(
        "--context", "-c", metavar="N", show_default=False,
        help="Tokens per sequence (4k, 32k); default min(4k, model maximum).")] = None,
    batch: Annotated[str, typer.Option(
        "--batch", "-b", metavar="B", help="Sequences (micro-batch when training).")] = "1",
    encoder_tokens: Annotated[str | None, typer.Option(
        "--encoder-length", metavar="N", show_default=False,
        help="Inference, encoder-decoders: encoder tokens in the cross-attention cache, e.g. 512 "
             "or 1k (default: context).")] = None,
    train: Annotated[str | None, typer.Option(
        "--train", show_default=False, help="Training instead of inference: full, lora or qlora.")] = None,
    optimizer: Annotated[str | None, typer.Option(
        "--optimizer", show_default=False,
        help="Training: adamw (default), adamw8bit or sgd (momentum).")] = None,
    checkpointing: Annotated[str | None, typer.Option(
        "--checkpointing", show_default=False,
        help="Training: activation recomputation, none, selective or full. Default: selective for "
             "--train full (FlashAttention/SDPA stores no s x s scores), full for lora/qlora (the "
             "QLoRA recipe and PEFT's prepare_model_for_kbit_training enable gradient "
             "checkpointing).")] = None,
    zero: Annotated[int | None, typer.Option(
        "--zero", show_default=False, help="Training: ZeRO stage 0-3 over the data-parallel GPUs (default 0).")] = None,
    tp: Annotated[int, typer.Option("--tp", help="Tensor-parallel GPUs.")] = 1,
    pp: Annotated[int, typer.Option("--pp", help="Pipeline-parallel stages.")] = 1,
    gpus: Annotated[int | None, typer.Option(
        "--gpus", show_default=False, help="GPUs in all (default tp x pp); the rest is data parallel.")] = None,
    rank: Annotated[int | None, typer.Option(
        "--rank", show_default=False, help="--train lora/qlora: LoRA rank r (default 8, PEFT's).")] = None,
    targets: TargetsOpt = None,
    engine: Annotated[str | None, typer.Option(
        "--engine", show_default=False, help="Inference: KV engine, minimal (default) or full.")] = None,
    sets: SetOpt = None,
    gqa: GqaOpt = None,
    explain: Annotated[bool, typer.Option("--explain", help="Print every term with its formula.")] = False,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Per-GPU memory of MODEL for inference or training, every term itemised.

    Inference: weights by format, KV cache, activations and overhead. Training (--train
    full|lora|qlora): weights, gradients, optimizer state and activations; a training step keeps
    no KV cache. An option of the other mode is an error. Tables use IEC units (GiB); JSON is in
    bytes.
    """
    from llmarch_cli.analysis.kvcache import DEFAULT_KV_DTYPE, check_engine
    from llmarch_cli.analysis.kvcache import kv_dtype as find_kv_dtype
    from llmarch_cli.analysis.lora import ALL_LINEAR
    from llmarch_cli.analysis.memory import Parallel, default_context, inference_memory
    from llmarch_cli.analysis.training import DEFAULT_RANK, training_memory
    from llmarch_cli.cli.options import load_spec
    from llmarch_cli.cli.sizes import parse_count
    from llmarch_cli.errors import LlmarchError

    kvd = find_kv_dtype(kv_dtype or DEFAULT_KV_DTYPE)
    check_engine(engine or "minimal")
    given = {"--quant": quant, "--kv-dtype": kv_dtype, "--engine": engine,
             "--encoder-length": encoder_tokens, "--optimizer": optimizer,
             "--checkpointing": checkpointing, "--zero": zero, "--rank": rank, "--targets": targets}
    wrong = (INFERENCE_ONLY if train else TRAINING_ONLY + ADAPTER_ONLY) + (
        ADAPTER_ONLY if train == "full" else ())
    for option in wrong:
        if given[option] is not None:
            applies = ("--train lora|qlora" if option in ADAPTER_ONLY
                       else "--train" if option in TRAINING_ONLY else "inference (without --train)")
            why = "; a training step keeps no KV cache" if option in ("--kv-dtype", "--engine") else ""
            raise LlmarchError(f"{option} applies to {applies} only{why}")
    spec = load_spec(model, sets, gqa)
    ctx = parse_count(context, "--context") if context else default_context(spec)
    size = parse_count(batch, "--batch")
    par = Parallel(gpus=gpus if gpus is not None else tp * pp, tp=tp, pp=pp)
    if train is None:
        encoder_length = None if encoder_tokens is None else parse_count(encoder_tokens, "--encoder-length")
        result = inference_memory(spec, quant=quant or "bf16", kv=kvd.name, context=ctx, batch=size,
                                  par=par, engine=engine or "minimal", encoder_length=encoder_length)
    else:
        result = training_memory(spec, mode=train, optimizer=optimizer or "adamw",
                                 checkpointing=checkpointing, context=ctx, batch=size, zero=zero or 0,
                                 par=par, rank=DEFAULT_RANK if rank is None else rank,
                                 targets=targets or [ALL_LINEAR])
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
        from llmarch_cli.render.explain import print_explanation

        print_explanation(result.terms, concrete, output)
