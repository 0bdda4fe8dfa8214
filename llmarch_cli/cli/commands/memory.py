"""``llmarch memory MODEL``: per-GPU memory for inference or training, every term itemised."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from llmarch_cli.cli.options import (
    AllOpt,
    BatchOpt,
    ContextOpt,
    EncoderLengthOpt,
    EngineOpt,
    ExplainOpt,
    FamilyOpt,
    FeatureOpt,
    Format,
    FormatOpt,
    GqaOpt,
    KvDtypeOpt,
    MhaOpt,
    MqaOpt,
    NoColorOpt,
    OutputOpt,
    QuantOpt,
    SelectModelsArg,
    SetOpt,
    TrainOpt,
    WindowOpt,
    one_of,
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
RESULT = ("llmarch_cli.analysis.results", "MemoryResult", "each")  # `llmarch schema memory`
# Options that apply to one mode only: (option, given?) pairs are checked against the mode.
INFERENCE_ONLY = ("--quant", "--kv-dtype", "--engine", "--encoder-length")
TRAINING_ONLY = ("--optimizer", "--checkpointing", "--zero")
ADAPTER_ONLY = ("--rank", "--targets")


def memory(
    models: SelectModelsArg = None,
    all_presets: AllOpt = False,
    family: FamilyOpt = None,
    feature: FeatureOpt = None,
    quant: QuantOpt = None,
    kv_dtype: KvDtypeOpt = None,
    context: ContextOpt = None,
    batch: BatchOpt = "1",
    encoder_length: EncoderLengthOpt = None,
    train: TrainOpt = None,
    optimizer: Annotated[Any, typer.Option(
        "--optimizer", show_default=False, metavar="NAME",
        parser=one_of("--optimizer", "llmarch_cli.analysis.training", "OPTIMIZER_MOMENT_BYTES"),
        help="Training: adamw (default), adamw8bit or sgd (momentum).")] = None,
    checkpointing: Annotated[Any, typer.Option(
        "--checkpointing", show_default=False, metavar="KIND",
        parser=one_of("--checkpointing", "llmarch_cli.analysis.training", "CHECKPOINTING"),
        help="Training: activation recomputation, none, selective or full. Default: selective for "
             "--train full (FlashAttention/SDPA stores no s x s scores), full for lora/qlora (the "
             "QLoRA recipe and PEFT's prepare_model_for_kbit_training enable gradient "
             "checkpointing).")] = None,
    zero: Annotated[int | None, typer.Option(
        "--zero", min=0, max=3, show_default=False, help="Training: ZeRO stage 0-3 over the data-parallel GPUs (default 0).")] = None,
    tp: Annotated[int, typer.Option("--tp", help="Tensor-parallel GPUs.")] = 1,
    pp: Annotated[int, typer.Option("--pp", help="Pipeline-parallel stages.")] = 1,
    gpus: Annotated[int | None, typer.Option(
        "--gpus", show_default=False, help="GPUs in all (default tp x pp); the rest is data parallel.")] = None,
    rank: Annotated[int | None, typer.Option(
        "--rank", show_default=False, help="--train lora/qlora: LoRA rank r (default 8, PEFT's).")] = None,
    targets: TargetsOpt = None,
    engine: EngineOpt = None,
    sets: SetOpt = None,
    gqa: GqaOpt = None,
    mqa: MqaOpt = False,
    mha: MhaOpt = False,
    window: WindowOpt = None,
    explain: ExplainOpt = False,
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
    from llmarch_cli.analysis.kvcache import FP16, Engine
    from llmarch_cli.analysis.lora import ALL_LINEAR
    from llmarch_cli.analysis.memory import Parallel, default_context, inference_memory
    from llmarch_cli.analysis.quant_formats import BF16
    from llmarch_cli.analysis.training import DEFAULT_RANK, training_memory
    from llmarch_cli.cli.options import report_notes, select_models, what_if
    from llmarch_cli.errors import LlmarchError
    from llmarch_cli.render.output import emit
    from llmarch_cli.render.views import memory_view

    given = {"--quant": quant, "--kv-dtype": kv_dtype, "--engine": engine,
             "--encoder-length": encoder_length, "--optimizer": optimizer,
             "--checkpointing": checkpointing, "--zero": zero, "--rank": rank, "--targets": targets}
    wrong = (INFERENCE_ONLY if train else TRAINING_ONLY + ADAPTER_ONLY) + (
        ADAPTER_ONLY if train == "full" else ())
    for option in wrong:
        if given[option] is not None:
            applies = ("--train lora|qlora" if option in ADAPTER_ONLY
                       else "--train" if option in TRAINING_ONLY else "inference (without --train)")
            why = "; a training step keeps no KV cache" if option in ("--kv-dtype", "--engine") else ""
            raise LlmarchError(f"{option} applies to {applies} only{why}")
    resolved = select_models(models, all_presets, family, feature, what_if(sets, gqa, mqa, mha, window))
    results = []
    for model in resolved:
        spec = model.spec
        par = Parallel(gpus=gpus if gpus is not None else tp * pp, tp=tp, pp=pp)
        for ctx in context or (default_context(spec),):
            for size in batch:
                if train is not None:
                    results.append(training_memory(
                        spec, mode=train, optimizer=optimizer or "adamw", checkpointing=checkpointing,
                        context=ctx, batch=size, zero=zero or 0, par=par,
                        rank=DEFAULT_RANK if rank is None else rank, targets=targets or [ALL_LINEAR]))
                    continue
                results += [inference_memory(spec, quant=fmt, kv=kv_dtype or FP16, context=ctx,
                                             batch=size, par=par, engine=engine or Engine.minimal,
                                             encoder_length=encoder_length)
                            for fmt in quant or (BF16,)]
    emit(memory_view(results, explain), fmt, output)
    report_notes(resolved)
