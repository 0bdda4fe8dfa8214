"""``llmarch memory MODEL``: per-GPU memory for inference or training, every term itemised."""

from __future__ import annotations

from llmarch_cli.cli.options import (
    BatchOpt,
    CheckpointingOpt,
    ContextOpt,
    EncoderLengthOpt,
    EngineOpt,
    ExplainOpt,
    GpusOpt,
    KvDtypeOpt,
    OptimizerOpt,
    Outputs,
    PpOpt,
    QuantOpt,
    RankOpt,
    Selected,
    TargetsOpt,
    TpOpt,
    TrainOpt,
    WhatIfs,
    ZeroOpt,
    shared,
)

EXAMPLES = (  # shown under --help
    "llmarch memory llama-2-7b",
    "llmarch memory llama-3-8b --quant q4_k_m -c 8k --batch 4",
    "llmarch memory t5-base -c 512 --encoder-length 2k",
    "llmarch memory llama-65b --train qlora --rank 64 --checkpointing full -c 512",
    "llmarch memory mixtral --tp 2 --explain",
)
RESULT = ("llmarch_cli.analysis.results", "MemoryResult", "each")  # `llmarch schema memory`


@shared
def memory(
    picked: Selected, quant: QuantOpt = None, kv_dtype: KvDtypeOpt = None, context: ContextOpt = None,
    batch: BatchOpt = "1", encoder_length: EncoderLengthOpt = None, train: TrainOpt = None,
    optimizer: OptimizerOpt = None, checkpointing: CheckpointingOpt = None, zero: ZeroOpt = None,
    tp: TpOpt = 1, pp: PpOpt = 1, gpus: GpusOpt = None, rank: RankOpt = None,
    targets: TargetsOpt = None, engine: EngineOpt = None, change: WhatIfs = None,
    explain: ExplainOpt = False, out: Outputs = None,
) -> None:
    """Per-GPU memory of MODEL for inference or training, every term itemised.

    Inference: weights by format, KV cache, activations and overhead. Training (--train
    full|lora|qlora): weights, gradients, optimizer state and activations; a training step keeps
    no KV cache. An option of the other mode is an error. Tables use IEC units (GiB); JSON is in
    bytes.
    """
    from llmarch_cli.analysis.estimates import Inference, Training, memory_estimates
    from llmarch_cli.analysis.memory import Parallel
    from llmarch_cli.cli.options import check_mode_options, report_notes, select_models
    from llmarch_cli.render.output import emit
    from llmarch_cli.render.views import memory_view

    check_mode_options(train, {"--quant": quant, "--kv-dtype": kv_dtype, "--engine": engine,
                               "--encoder-length": encoder_length},
                       {"--optimizer": optimizer, "--checkpointing": checkpointing, "--zero": zero},
                       {"--rank": rank, "--targets": targets})
    mode = (Training(train, optimizer, checkpointing, zero, rank, targets) if train is not None
            else Inference(quant, kv_dtype, engine, encoder_length))
    par = Parallel(gpus=gpus if gpus is not None else tp * pp, tp=tp, pp=pp)
    resolved = select_models(*picked, change)
    results = [r for m in resolved for r in memory_estimates(m.spec, context, batch, par, mode)]
    emit(memory_view(results, explain), *out)
    report_notes(resolved)
