"""``llmarch memory``'s estimates: one per context, batch and weight format for inference, one
per context and batch for training, with the defaults for what was not asked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from llmarch_cli.analysis.kvcache import FP16, Engine, KvDtype
from llmarch_cli.analysis.lora import ALL_LINEAR
from llmarch_cli.analysis.memory import Parallel, default_context, inference_memory
from llmarch_cli.analysis.quant_formats import BF16, QuantFormat
from llmarch_cli.analysis.results import MemoryResult
from llmarch_cli.analysis.training import DEFAULT_RANK, training_memory
from llmarch_cli.specs.model import ArchSpec


@dataclass(frozen=True)
class Inference:
    """Inference choices; None: bf16 weights, an fp16 cache, the minimal engine."""

    quants: Sequence[QuantFormat] | None = None
    kv: KvDtype | None = None
    engine: Engine | None = None
    encoder_length: int | None = None


@dataclass(frozen=True)
class Training:
    """Training choices (``mode`` full, lora or qlora); None: AdamW, the mode's checkpointing,
    ZeRO 0, rank 8 on every linear layer."""

    mode: str
    optimizer: str | None = None
    checkpointing: str | None = None
    zero: int | None = None
    rank: int | None = None
    targets: Sequence[str] | None = None


def memory_estimates(spec: ArchSpec, contexts: Sequence[int] | None, batches: Sequence[int],
                     par: Parallel, mode: Inference | Training) -> list[MemoryResult]:
    """Per-GPU memory of ``spec`` for each context (default: ``default_context``) and batch."""
    results = []
    for ctx in contexts or (default_context(spec),):
        for size in batches:
            if isinstance(mode, Training):
                results.append(training_memory(
                    spec, mode=mode.mode, optimizer=mode.optimizer or "adamw",
                    checkpointing=mode.checkpointing, context=ctx, batch=size, zero=mode.zero or 0,
                    par=par, rank=DEFAULT_RANK if mode.rank is None else mode.rank,
                    targets=mode.targets or [ALL_LINEAR]))
                continue
            results += [inference_memory(spec, quant=fmt, kv=mode.kv or FP16, context=ctx,
                                         batch=size, par=par, engine=mode.engine or Engine.minimal,
                                         encoder_length=mode.encoder_length)
                        for fmt in mode.quants or (BF16,)]
    return results
