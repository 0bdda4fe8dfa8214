"""Training memory per GPU: full fine-tuning, LoRA and QLoRA, with ZeRO/TP/PP splits.

Bytes per trainable parameter (mixed precision, Rajbhandari et al. 2020 "ZeRO" §3: 2 + 2 + 12):
bf16 weights 2, bf16 gradients 2, optimizer state = fp32 master copy 4 + moments
(AdamW: two fp32 moments, 8; AdamW 8-bit: two block-wise 8-bit moments with one fp32 absmax per
2048 values, Dettmers et al. 2022 "8-bit Optimizers"; SGD: one fp32 momentum, 4). QLoRA keeps
bf16 adapters without a master copy and a paged 32-bit AdamW (Dettmers et al. 2023 §3); we
count the paged states as resident (the worst case). LoRA/QLoRA freeze the base: bf16, or NF4
with double quantisation for QLoRA.

Activations follow Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large
Transformer Models") Table 2, per layer, with tensor + sequence parallelism over ``t``:
``none``: s*b*h*(34 + 5*a*s/h) / t; ``selective`` (attention recomputed): 34*s*b*h / t;
``full`` (only each layer's input kept): 2*s*b*h / t, plus once the working set of the layer being
recomputed in the backward pass (§4.1: its full activations are live again), 34*s*b*h / t with
fused attention as everywhere else here; plus fp32 logits 4*s*b*v / t. With
pipeline parallelism the first stage holds p micro-batches of L/p layers: L layers in all (§4.2.3).
The constants assume a GPT block (4h MLP, dropout masks); they are applied here as published.

Default checkpointing (``DEFAULT_CHECKPOINTING``) follows what each recipe's stack does out of the
box. ``full`` fine-tuning: ``selective``, because transformers' Trainer leaves activation
checkpointing off and its default attention (SDPA/FlashAttention) never stores the s x s scores,
which is what Korthikanti's selective recompute saves. ``lora``/``qlora``: ``full``, because the
QLoRA reference script defaults to ``gradient_checkpointing=True`` (artidoro/qlora ``qlora.py``)
and PEFT's ``prepare_model_for_kbit_training`` enables it by default
(``use_gradient_checkpointing=True``). ``none`` stores the s x s scores and is rarely what runs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Literal

from llmarch_cli.analysis.lora import ALL_LINEAR, lora_params
from llmarch_cli.analysis.memory import (
    DEFAULT_CONTEXT,
    Parallel,
    check_parallel,
    overhead_term,
    shard_fraction,
    weights_term,
)
from llmarch_cli.analysis.params import count_params
from llmarch_cli.analysis.quant_formats import weight_format
from llmarch_cli.analysis.results import MemoryResult, MemoryTerm
from llmarch_cli.analysis.units import ceil_div
from llmarch_cli.errors import LlmarchError, check_positive
from llmarch_cli.specs.model import ArchSpec

TrainMode = Literal["full", "lora", "qlora"]
TRAIN_MODES: tuple[str, ...] = ("full", "lora", "qlora")
CHECKPOINTING: tuple[str, ...] = ("none", "selective", "full")
# Recompute policy when none is given: see the module docstring for the sources.
DEFAULT_CHECKPOINTING: dict[str, str] = {"full": "selective", "lora": "full", "qlora": "full"}
# Optimizer state bytes per trainable parameter, moments only (the master copy is separate).
OPTIMIZER_MOMENT_BYTES: dict[str, Fraction] = {
    "adamw": Fraction(8),
    "adamw8bit": 2 * (1 + Fraction(4, 2048)),
    "sgd": Fraction(4),
}
MASTER_BYTES = 4
GRAD_BYTES = 2
ADAPTER_BYTES = 2
DEFAULT_RANK = 8  # PEFT LoraConfig's default r
# Bytes per s*b*h of one layer's activations with fused attention (Korthikanti Table 2,
# selective); full checkpointing holds this again for the one layer it recomputes.
LAYER_BYTES_PER_SBH = 34


def _choice(what: str, value: str, valid: Sequence[str]) -> str:
    if value not in valid:
        raise LlmarchError(f"unknown {what} {value!r} (valid: {', '.join(valid)})")
    return value


def activation_bytes(spec: ArchSpec, context: int, batch: int, checkpointing: str, tp: int = 1) -> int:
    """Korthikanti et al. 2022 activation bytes of one micro-batch on one GPU, logits included."""
    s, b, h, a = context, batch, spec.hidden_size, spec.attention.num_heads
    layers = spec.num_layers + (spec.num_decoder_layers or 0)
    per_layer = {
        "none": LAYER_BYTES_PER_SBH * s * b * h + 5 * a * s * s * b,
        "selective": LAYER_BYTES_PER_SBH * s * b * h,
        "full": 2 * s * b * h,
    }[checkpointing]
    recomputed = LAYER_BYTES_PER_SBH * s * b * h if checkpointing == "full" else 0
    logits = 4 * s * b * spec.embeddings.vocab_size
    return ceil_div(layers * per_layer + recomputed + logits, tp)


_ACT_FORMULAS = {
    "none": "L x s*b*h*(34 + 5*a*s/h) / t",
    "selective": "L x 34*s*b*h / t",
    "full": "L x 2*s*b*h / t + 34*s*b*h / t (the layer being recomputed)",
}
_ACT_ASSUMPTIONS = {
    "none": "nothing recomputed: the s x s attention scores are stored (eager attention)",
    "selective": "attention recomputed / fused (FlashAttention, SDPA): no s x s scores stored",
    "full": "only each layer's input kept; layers recomputed one at a time in the backward pass, "
            "so one layer's activations (34*s*b*h, fused attention) are live on top",
}


def activation_term(spec: ArchSpec, context: int, batch: int, checkpointing: str,
                    tp: int = 1, mode: str | None = None) -> MemoryTerm:
    """Korthikanti et al. 2022 activation memory for one micro-batch, per GPU."""
    layers = spec.num_layers + (spec.num_decoder_layers or 0)
    default = mode is not None and DEFAULT_CHECKPOINTING[mode] == checkpointing
    return MemoryTerm(
        name="activations", bytes=activation_bytes(spec, context, batch, checkpointing, tp),
        formula=f"{_ACT_FORMULAS[checkpointing]} + 4*s*b*v / t",
        inputs=f"L={layers}, s={context:,}, b={batch}, h={spec.hidden_size}, "
               f"a={spec.attention.num_heads}, v={spec.embeddings.vocab_size}, t={tp}",
        assumption=f"checkpointing={checkpointing}" + (f" (default for --train {mode})" if default else "")
                   + f": {_ACT_ASSUMPTIONS[checkpointing]}; Korthikanti et al. 2022 Table 2 with "
                   "sequence parallelism (GPT block constants); fp32 logits for the loss",
    )


def trainable_params(spec: ArchSpec, mode: str, rank: int = DEFAULT_RANK,
                     targets: Sequence[str] = (ALL_LINEAR,)) -> int:
    """Every parameter for full fine-tuning; the LoRA adapters otherwise."""
    if mode == "full":
        return count_params(spec).total_params
    return lora_params(spec, rank, targets)


def training_memory(spec: ArchSpec, *, mode: str = "full", optimizer: str = "adamw",
                    checkpointing: str | None = None, context: int = DEFAULT_CONTEXT, batch: int = 1,
                    zero: int = 0, par: Parallel = Parallel(), rank: int = DEFAULT_RANK,
                    targets: Sequence[str] = (ALL_LINEAR,)) -> MemoryResult:
    """Per-GPU training memory of one micro-batch of ``batch`` x ``context`` tokens.

    ``checkpointing=None`` takes ``DEFAULT_CHECKPOINTING[mode]``.
    """
    _choice("training mode", mode, TRAIN_MODES)
    checkpointing = checkpointing or DEFAULT_CHECKPOINTING[mode]
    _choice("optimizer", optimizer, tuple(OPTIMIZER_MOMENT_BYTES))
    _choice("checkpointing", checkpointing, CHECKPOINTING)
    check_positive("context", context)
    check_positive("batch", batch)
    if zero not in (0, 1, 2, 3):
        raise LlmarchError(f"--zero must be 0, 1, 2 or 3, got {zero}")
    check_parallel(spec, par)
    trainable = trainable_params(spec, mode, rank, targets)
    share = shard_fraction(spec, par)
    dp = par.dp
    zshard = {name: (dp if zero >= stage else 1) for name, stage in
              (("optimizer", 1), ("gradients", 2), ("weights", 3))}

    master = 0 if mode == "qlora" else MASTER_BYTES
    moments = OPTIMIZER_MOMENT_BYTES[optimizer]
    if mode == "full":
        base = weights_term(spec, weight_format("bf16"), par)
        weights_exact = Fraction(base.bytes)
        wformula, wfmt = base.formula, "bf16"
        wassume = "bf16 working weights (trainable)"
    else:
        wfmt = "nf4" if mode == "qlora" else "bf16"
        base = weights_term(spec, weight_format(wfmt), par)
        weights_exact = Fraction(base.bytes) + trainable * ADAPTER_BYTES * share
        wformula = f"frozen base ({base.formula}) + adapters x {ADAPTER_BYTES} B"
        wassume = f"frozen {wfmt} base; {base.assumption}; bf16 adapters"
    grads = Fraction(trainable * GRAD_BYTES) * share
    optim = trainable * (master + moments) * share

    terms = [
        MemoryTerm(name="weights", bytes=math.ceil(weights_exact / zshard["weights"]),
                   formula=wformula + (f" / dp={dp} (ZeRO-3)" if zero >= 3 else ""),
                   inputs=f"{base.inputs}, trainable={trainable:,}", assumption=wassume),
        MemoryTerm(name="gradients", bytes=math.ceil(grads / zshard["gradients"]),
                   formula=f"trainable x {GRAD_BYTES} B" + (f" / dp={dp} (ZeRO-2)" if zero >= 2 else ""),
                   inputs=f"trainable={trainable:,}", assumption="bf16 gradients of the trainable parameters"),
        MemoryTerm(name="optimizer", bytes=math.ceil(optim / zshard["optimizer"]),
                   formula=f"trainable x ({master} master + {float(moments):g} moments) B"
                   + (f" / dp={dp} (ZeRO-1)" if zero >= 1 else ""),
                   inputs=f"trainable={trainable:,}, optimizer={optimizer}",
                   assumption="fp32 master copy" if master else "no master copy (QLoRA: bf16 adapters, paged 32-bit AdamW, counted resident)"),
        activation_term(spec, context, batch, checkpointing, par.tp, mode),
        overhead_term(),
    ]
    w, g, o, act, over = (t.bytes for t in terms)
    return MemoryResult(
        model=spec.id, mode=f"train-{mode}", weight_format=wfmt, kv_dtype="-", context=context,
        batch=batch, gpus=par.gpus, weights_bytes=w, kv_cache_bytes=0, activation_bytes=act,
        overhead_bytes=over, total_bytes=w + g + o + act + over, trainable_params=trainable,
        gradient_bytes=g, optimizer_bytes=o, terms=terms,
    )
