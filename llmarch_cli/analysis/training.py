"""Training memory per GPU: full fine-tuning, LoRA and QLoRA, with ZeRO/TP/PP splits.

Bytes per trainable parameter (mixed precision, Rajbhandari et al. 2020 "ZeRO" §3: 2 + 2 + 12):
bf16 weights 2, bf16 gradients 2, optimizer state = fp32 master copy 4 + moments
(AdamW: two fp32 moments, 8; AdamW 8-bit: two block-wise 8-bit moments with one fp32 absmax per
2048 values, Dettmers et al. 2022 "8-bit Optimizers"; SGD: one fp32 momentum, 4). QLoRA keeps
bf16 adapters without a master copy and a paged 32-bit AdamW (Dettmers et al. 2023 §3); we
count the paged states as resident (the worst case). LoRA/QLoRA freeze the base: bf16, or NF4
with double quantisation for QLoRA.

Activations are the tensors autograd keeps for the backward pass, derived from the spec with
bf16 activations (2 B), per layer, per token (s*b tokens), as transformers' modules save them:

- each norm keeps its input (LayerNorm: 2h B; RMSNorm as transformers writes it, unfused and
  upcast: an fp32 copy of the input and the normalised values before the gain, 6h B); its output
  is kept once by the matmuls it feeds (2h B). Per-token statistics (mean, rstd) are left out.
- attention keeps Q and the attention output (o_proj input), 2*a*d B each, and K and V, 2*k*d B
  each with a fused kernel (SDPA/FlashAttention with native GQA; its fp32 logsumexp, 4*a B per
  token, is left out) or 2*a*d B each with eager attention, which repeats K/V to every query head.
  Eager attention also keeps, per score (a*s^2*b of them), the softmax output (fp32, 4 B, plus the
  bf16 probabilities for the A.V matmul, 2 B; 2 B in all where transformers' eager path keeps
  the activation dtype: ``SOFTMAX_IN_ACT_DTYPE``).
- the FFN keeps the activation's input and output (plain: 2*2*I B) or gate output, up output,
  act(gate) and their product (gated: 4*2*I B); ReLU keeps only its output, which the next matmul
  keeps anyway (one I-wide tensor less). MoE layers count the k routed experts' and the shared
  experts' widths; dispatch copies and router logits are left out.
- residual adds keep nothing. Dropout keeps a 1 B mask per element (attention probabilities and
  the two residual branches) and the dropped-out probabilities (2 B per score); ArchSpec has no
  dropout rate and training here assumes none (Llama-family configs set 0.0).

For a GPT block (LayerNorm, 4h GELU MLP, MHA, dropout) this is exactly Korthikanti et al. 2022
("Reducing Activation Recomputation in Large Transformer Models") Eq. (1): 34*s*b*h + 5*a*s^2*b
bytes per layer. ``none``: nothing recomputed, eager attention (the paper's setting);
``selective``: fused attention, no s x s term (what the paper's selective recompute leaves);
``full``: only each layer's input kept (2*s*b*h B) plus, once, the fused working set of the
layer being recomputed in the backward pass (§4.1). Tensor + sequence parallelism divides by
``t``; fp32 logits add 4*s*b*v / t. With pipeline parallelism the first stage holds p micro-batches
of L/p layers: L layers in all (§4.2.3). Cross-attention of decoder layers is not counted.
tests/parity/test_activation_memory_parity.py measures a layer's saved tensors with torch.

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
    ACT_BYTES,
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
from llmarch_cli.errors import check_positive
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
FP32_BYTES = 4
MASK_BYTES = 1  # a dropout mask element (bool)
# Bytes a norm keeps per element of its input: LayerNorm its bf16 input; transformers' RMSNorm an
# fp32 copy of the input (4) and the normalised values before the gain (2).
NORM_SAVED_BYTES: dict[str, int] = {"layernorm": ACT_BYTES, "rmsnorm": FP32_BYTES + ACT_BYTES}
# model_types whose eager attention softmaxes in the activation dtype (transformers' gpt2, gptj,
# codegen, bert, bart, t5); every other family upcasts (``softmax(..., dtype=torch.float32)``).
SOFTMAX_IN_ACT_DTYPE = frozenset({"gpt2", "gptj", "codegen", "bert", "bart", "t5"})


def _ffn_widths(spec: ArchSpec) -> list[tuple[int, int]]:
    """(FFN features a token passes through, number of layers) for each kind of layer."""
    layers = spec.num_layers + (spec.num_decoder_layers or 0)
    dense = spec.ffn.intermediate_size
    moe = spec.moe
    if moe is None:
        return [(dense, layers)]
    routed = dense * moe.top_k + moe.num_shared_experts * (moe.shared_intermediate_size or 0)
    return [(dense, len(moe.dense_layers)), (routed, layers - len(moe.dense_layers))]


def _token_bytes(spec: ArchSpec, ffn_width: int, eager: bool, dropout: bool) -> int:
    """Bytes one layer keeps per token, apart from the s x s scores."""
    a, h = spec.attention, spec.hidden_size
    q = a.num_heads * a.head_dim
    kv = q if eager else a.num_kv_heads * a.head_dim
    norms = 1 if spec.residual == "parallel" and spec.parallel_norms == 1 else 2
    relu = spec.ffn.activation == "relu"
    ffn_tensors = (4 if spec.ffn.kind == "gated" else 2) - relu
    return (norms * (NORM_SAVED_BYTES[spec.norm.kind] + ACT_BYTES) * h
            + ACT_BYTES * 2 * (q + kv)
            + ACT_BYTES * ffn_tensors * ffn_width
            + (MASK_BYTES * 2 * h if dropout else 0))


def score_bytes(spec: ArchSpec, dropout: bool = False) -> int:
    """Bytes eager attention keeps per score (a*s^2*b scores per layer)."""
    upcast = spec.model_type not in SOFTMAX_IN_ACT_DTYPE
    softmax = FP32_BYTES + ACT_BYTES if upcast else ACT_BYTES
    return softmax + (MASK_BYTES + ACT_BYTES if dropout else 0)


def layer_activation_bytes(spec: ArchSpec, context: int, batch: int, *, eager: bool,
                           dropout: bool = False) -> int:
    """Bytes autograd keeps for the backward pass of the widest layer, nothing recomputed.

    ``eager``: attention materialises the s x s scores (else a fused kernel with native GQA).
    """
    width = max(w for w, _ in _ffn_widths(spec))
    scores = spec.attention.num_heads * context * context * batch * score_bytes(spec, dropout)
    return context * batch * _token_bytes(spec, width, eager, dropout) + (scores if eager else 0)


def activation_bytes(spec: ArchSpec, context: int, batch: int, checkpointing: str, tp: int = 1) -> int:
    """Stored activation bytes of one micro-batch on one GPU, logits included (module docstring)."""
    s, b, h = context, batch, spec.hidden_size
    if checkpointing == "full":
        layers = spec.num_layers + (spec.num_decoder_layers or 0)
        stored = layers * ACT_BYTES * s * b * h + layer_activation_bytes(spec, s, b, eager=False)
    else:
        eager = checkpointing == "none"
        scores = spec.attention.num_heads * s * s * b * score_bytes(spec) if eager else 0
        stored = sum(n * (s * b * _token_bytes(spec, w, eager, False) + scores) for w, n in _ffn_widths(spec))
    logits = FP32_BYTES * s * b * spec.embeddings.vocab_size
    return ceil_div(stored + logits, tp)


_ACT_FORMULAS = {
    "none": "L x (s*b x per-token bytes + a*s^2*b x score bytes) / t",
    "selective": "L x s*b x per-token bytes / t",
    "full": "(L x 2*s*b*h + s*b x per-token bytes (the layer being recomputed)) / t",
}
_ACT_ASSUMPTIONS = {
    "none": "nothing recomputed, eager attention: K/V repeated to every query head and the "
            "s x s softmax output kept",
    "selective": "fused attention (SDPA/FlashAttention, native GQA): no s x s scores stored",
    "full": "only each layer's input kept; layers recomputed one at a time in the backward pass, "
            "so one layer's fused-attention working set is live on top",
}


def activation_term(spec: ArchSpec, context: int, batch: int, checkpointing: str,
                    tp: int = 1, mode: str | None = None) -> MemoryTerm:
    """Stored activations for one micro-batch, per GPU, derived from the spec's layer."""
    layers = spec.num_layers + (spec.num_decoder_layers or 0)
    default = mode is not None and DEFAULT_CHECKPOINTING[mode] == checkpointing
    width = max(w for w, _ in _ffn_widths(spec))
    eager = checkpointing == "none"
    per_token = _token_bytes(spec, width, eager, False)
    return MemoryTerm(
        name="activations", bytes=activation_bytes(spec, context, batch, checkpointing, tp),
        formula=f"{_ACT_FORMULAS[checkpointing]} + 4*s*b*v / t",
        inputs=f"L={layers}, s={context:,}, b={batch}, h={spec.hidden_size}, "
               f"a={spec.attention.num_heads}, per-token bytes={per_token:,}"
               + (f", score bytes={score_bytes(spec)}" if eager else "")
               + f", v={spec.embeddings.vocab_size}, t={tp}",
        assumption=f"checkpointing={checkpointing}" + (f" (default for --train {mode})" if default else "")
                   + f": {_ACT_ASSUMPTIONS[checkpointing]}; bf16 tensors autograd keeps per layer "
                   "(norms, Q/K/V, attention output, FFN intermediates; no dropout), as transformers' "
                   "modules save them; fp32 logits for the loss",
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
    checkpointing = checkpointing or DEFAULT_CHECKPOINTING[mode]
    check_positive("context", context)
    check_positive("batch", batch)
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
