"""FLOPs of a forward pass, from the weights a token multiplies and the keys it attends to.

A multiply-add is 2 FLOPs. For one token:

* linear: 2 x every matmul weight it uses (Kaplan et al. 2020, Table 1: C_forward = 2N). MoE
  layers count ``top_k`` of the routed experts, the shared experts and the router; the output
  head counts (a tied head multiplies the embedding matrix); embedding lookups are free.
* attention: Q·K^T and P·V, 2 multiply-adds per (query head, key, head-dim element):
  ``4 x heads x head_dim x keys seen`` per layer. A decoded token at context N sees N keys in a
  full layer, min(N, W) in a sliding one (``W`` keys, itself included), every encoder token in
  cross-attention; encoder tokens see the whole sequence.

Prefill of N tokens with the causal mask sums the keys over positions (N(N+1)/2 for a full
layer, not N x N), and computes logits at every position (as a transformers forward does).
Encoder-decoders decode with the decoder stack; their cross-attention K/V projections run once
per encoder token (at prefill), so they are not part of a decoded token's linear FLOPs; the
encoder length is taken equal to the context. Training: forward + backward = 3 x forward, 4 x
with full activation recomputation (Korthikanti et al. 2022, §5), beside 6ND (Kaplan et al.).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from llmarch_cli.analysis.compute_results import ComputeTerm, FlopsComponent, FlopsRow
from llmarch_cli.analysis.params import count_params
from llmarch_cli.errors import check_positive
from llmarch_cli.specs.inventory import inventory
from llmarch_cli.specs.model import ArchSpec

AttentionKind = Literal["causal", "bidirectional", "cross", "chunked", "recurrent"]
TRAINING_FACTOR = 3  # forward + backward (2 x forward)
RECOMPUTE_FACTOR = 4  # + one more forward with full activation recomputation


@dataclass(frozen=True)
class MatmulGroup:
    """Matmul weights one token multiplies in one component of one stack.

    ``per_encoder_token``: applied to encoder outputs once per encoder token (cross-attention
    K and V), not per decoded token.
    """

    stack: str
    component: str
    params: int
    per_encoder_token: bool = False


@dataclass(frozen=True)
class AttentionGroup:
    """``layers`` identical sequence-mixing layers: query heads, Q·K and V widths per head,
    ``window`` (sliding) or chunk (chunked) in tokens, and ``state_flops``: FLOPs per token and
    layer that do not depend on the context (the recurrence of linear-attention and Mamba
    layers, which see no keys)."""

    stack: str
    kind: AttentionKind
    layers: int
    heads: int = 0
    qk_dim: int = 0
    v_dim: int = 0
    window: int | None = None
    state_flops: int = 0

    @property
    def flops_per_key(self) -> int:
        """2 multiply-adds per head and element, Q·K^T then P·V, over every layer."""
        return 2 * self.layers * self.heads * (self.qk_dim + self.v_dim)

    def keys(self, position: int, sequence: int) -> int:
        """Keys the query at 1-based ``position`` sees in a ``sequence``-token input."""
        if self.kind in ("bidirectional", "cross"):
            return sequence
        if self.kind == "recurrent":
            return 0
        if self.kind == "chunked":
            return (position - 1) % self.window + 1
        return position if self.window is None else min(position, self.window)

    def prefill_keys(self, tokens: int) -> int:
        """Keys summed over every query of a ``tokens``-long input (causal mask honoured)."""
        if self.kind in ("bidirectional", "cross"):
            return tokens * tokens
        if self.kind == "recurrent":
            return 0
        if self.kind == "chunked":
            full, rest = divmod(tokens, self.window)
            return full * self.window * (self.window + 1) // 2 + rest * (rest + 1) // 2
        w = tokens if self.window is None else min(self.window, tokens)
        return w * (w + 1) // 2 + (tokens - w) * w

    def token_flops(self, position: int, sequence: int) -> int:
        """FLOPs of the query at ``position``: its keys, plus the recurrence."""
        return self.flops_per_key * self.keys(position, sequence) + self.layers * self.state_flops

    def prefill_flops(self, tokens: int) -> int:
        return self.flops_per_key * self.prefill_keys(tokens) + tokens * self.layers * self.state_flops


@cache
def matmul_groups(spec: ArchSpec) -> tuple[MatmulGroup, ...]:
    """The matmul weights one token uses, per stack and component, from the weight inventory:
    routed experts scaled by top_k / experts; the head (or the tied embedding it multiplies) and
    BERT's head transform count in the generating stack."""
    out = []
    for w in inventory(spec):
        if not w.matmul:
            continue
        params, stack, component = w.params, w.stack, w.role
        if w.experts and spec.moe is not None:
            params = params * spec.moe.top_k // w.experts
        if w.layers is None:  # the head, a tied embedding, BERT's head transform
            stack, component = decoding_stack(spec), "head"
        kv_cross = w.role == "cross_attention" and w.name in ("cross.k.weight", "cross.v.weight")
        out.append(MatmulGroup(stack, component, params, kv_cross))
    return tuple(out)


def _recurrent_flops(spec: ArchSpec, kind: str) -> int:
    """FLOPs per token of one linear-attention or Mamba layer's recurrence (its projections are
    matmul weights, counted as linear FLOPs).

    Gated DeltaNet (Qwen3-Next): per value head a key_dim x value_dim state is read with k,
    written with the delta rule and read out with q, 3 multiply-adds per state element, after a
    depthwise causal conv of ``conv_kernel`` taps over the q, k, v channels. Mamba: per channel
    and state element the discretised update h = exp(dt A) h + dt B x and the readout C h, 3
    multiply-adds, after a conv of ``d_conv`` taps (Gu & Dao 2023, §3.3: O(L D N)).
    """
    if kind == "linear":
        la = spec.linear_attention
        state = la.num_value_heads * la.key_head_dim * la.value_head_dim
        return 2 * (3 * state + la.conv_channels * la.conv_kernel)
    m = spec.mamba
    return 2 * (3 * m.inner_size * m.d_state + m.inner_size * m.d_conv)


def _head_shape(spec: ArchSpec, naive: bool) -> dict[str, int]:
    """Heads and per-head Q·K / V widths. MLA as engines run it (DeepSeek-V2 §2.1.3, weights
    absorbed): scores over the cached latent plus the RoPE key, values in the latent; naive: the
    decompressed heads of (nope + rope) and v_head_dim."""
    a = spec.attention
    if a.mla is not None and not naive:
        m = a.mla
        return dict(heads=a.num_heads, qk_dim=m.kv_lora_rank + m.qk_rope_head_dim, v_dim=m.kv_lora_rank)
    v_dim = a.mla.v_head_dim if a.mla is not None else a.head_dim
    return dict(heads=a.num_heads, qk_dim=a.head_dim, v_dim=v_dim)


@cache
def attention_groups(spec: ArchSpec, naive: bool = False) -> tuple[AttentionGroup, ...]:
    """Every sequence-mixing layer of the spec, identical ones grouped (``naive``: MLA
    decompressed, as transformers runs it)."""
    a = spec.attention
    shape = _head_shape(spec, naive)
    if spec.architecture == "encoder":
        return (AttentionGroup("model", "bidirectional", spec.num_layers, **shape),)
    if spec.architecture == "encoder-decoder":
        dec = spec.num_decoder_layers or 0
        return (AttentionGroup("encoder", "bidirectional", spec.num_layers, **shape),
                AttentionGroup("decoder", "causal", dec, **shape),
                AttentionGroup("decoder", "cross", dec, **shape))
    counts: dict[tuple[str, int | None], int] = {}
    for i in range(spec.num_layers):
        kind = a.layer_type(i)
        key = (kind, a.sliding_window if kind == "sliding" else a.chunk_size if kind == "chunked" else None)
        counts[key] = counts.get(key, 0) + 1
    groups = []
    for (kind, span), n in counts.items():
        if kind in ("linear", "mamba"):
            groups.append(AttentionGroup("model", "recurrent", n, state_flops=_recurrent_flops(spec, kind)))
        else:
            groups.append(AttentionGroup("model", "chunked" if kind == "chunked" else "causal", n,
                                         window=span, **shape))
    return tuple(groups)


def decoding_stack(spec: ArchSpec) -> str:
    """The stack that generates tokens: the decoder of an encoder-decoder, else the model."""
    return "decoder" if spec.architecture == "encoder-decoder" else "model"


def _component(group: AttentionGroup) -> str:
    if group.kind == "recurrent":
        return "recurrence"
    return "cross_attention.scores" if group.kind == "cross" else "attention.scores"


def token_breakdown(spec: ArchSpec, context: int) -> list[FlopsComponent]:
    """FLOPs of one token at ``context`` per component: matmuls by role, then attention scores."""
    check_positive("context", context)
    stack = decoding_stack(spec)
    totals: dict[str, int] = {}
    for g in matmul_groups(spec):
        if g.stack == stack and not g.per_encoder_token:
            totals[g.component] = totals.get(g.component, 0) + 2 * g.params
    for g in attention_groups(spec):
        if g.stack == stack:
            name = _component(g)
            totals[name] = totals.get(name, 0) + g.token_flops(context, context)
    return [FlopsComponent(component=k, flops_per_token=v) for k, v in totals.items()]


def linear_flops_per_token(spec: ArchSpec) -> int:
    """2 x the matmul weights a decoded token multiplies."""
    stack = decoding_stack(spec)
    return sum(2 * g.params for g in matmul_groups(spec) if g.stack == stack and not g.per_encoder_token)


def attention_flops_per_token(spec: ArchSpec, context: int, naive: bool = False) -> int:
    """Q·K^T and P·V of one token decoded with ``context`` tokens in context, plus the
    recurrence of linear-attention and Mamba layers (``naive``: MLA decompressed)."""
    check_positive("context", context)
    stack = decoding_stack(spec)
    return sum(g.token_flops(context, context) for g in attention_groups(spec, naive) if g.stack == stack)


def prefill_flops(spec: ArchSpec, tokens: int, mla_naive: bool = True) -> int:
    """One forward pass over ``tokens`` tokens (every stack; the causal mask honoured; logits
    at every position). For an encoder-decoder: the encoder over ``tokens`` and the decoder
    over ``tokens``, cross-attending to all of them. MLA prefills decompressed, as engines do
    where compute, not the cache read, is the bound (``mla_naive=False``: in the latent, as
    llmarch's forward runs it; the linear part is the same in both forms, since absorbing
    ``kv_b`` into each query costs what decompressing each key does)."""
    check_positive("tokens", tokens)
    linear = sum(2 * g.params for g in matmul_groups(spec)) * tokens
    attention = sum(g.prefill_flops(tokens) for g in attention_groups(spec, naive=mla_naive))
    return linear + attention


def flops_row(spec: ArchSpec, context: int, batch: int = 1) -> FlopsRow:
    """Every figure of ``llmarch flops`` for one model and context."""
    check_positive("batch", batch)
    linear = linear_flops_per_token(spec)
    attention = attention_flops_per_token(spec, context)
    prefill = prefill_flops(spec, context)
    per_token = prefill // context
    naive = attention_flops_per_token(spec, context, naive=True) if spec.attention.mla else None
    return FlopsRow(
        model=spec.id, context=context, batch=batch,
        linear_flops_per_token=linear, attention_flops_per_token=attention,
        attention_naive_flops_per_token=naive,
        forward_flops_per_token=linear + attention, prefill_flops=batch * prefill,
        training_flops_per_token=TRAINING_FACTOR * per_token,
        training_recompute_flops_per_token=RECOMPUTE_FACTOR * per_token,
        six_nd_flops_per_token=6 * count_params(spec).active_params,
        breakdown=token_breakdown(spec, context),
    )


def _group_inputs(g: AttentionGroup) -> str:
    span = "chunk" if g.kind == "chunked" else "window"
    window = f", {span}={g.window:,}" if g.window else ""
    return f"layers={g.layers}, heads={g.heads}, qk_dim={g.qk_dim}, v_dim={g.v_dim}{window}"


def flops_terms(spec: ArchSpec, context: int, batch: int = 1) -> list[ComputeTerm]:
    """``--explain`` for ``flops``: each component of a decoded token, then prefill and training."""
    stack = decoding_stack(spec)
    terms = []
    for c in token_breakdown(spec, context):
        if c.component == "recurrence":
            groups = [g for g in attention_groups(spec) if g.kind == "recurrent"]
            terms.append(ComputeTerm(
                name=c.component, value=c.flops_per_token, unit="FLOP/token",
                formula="sum over layers of the state update and readout, constant in the context",
                inputs=", ".join(f"{g.layers} layers x {g.state_flops:,} FLOP" for g in groups),
                assumption="3 multiply-adds per state element (Gated DeltaNet: read, delta write, "
                           "readout; Mamba: decay, input, readout) plus the causal conv"))
        elif c.component.endswith(".scores"):
            groups = [g for g in attention_groups(spec) if g.stack == stack and _component(g) == c.component]
            keys = ", ".join(f"{g.keys(context, context):,} keys ({_group_inputs(g)})" for g in groups)
            terms.append(ComputeTerm(
                name=c.component, value=c.flops_per_token, unit="FLOP/token",
                formula="sum over layers of 2 x heads x (qk_dim + v_dim) x keys seen (Q·K^T, P·V)",
                inputs=keys,
                assumption="a full layer sees every token so far, a sliding layer min(context, "
                           "window), a chunked layer the tokens of its chunk so far, cross-attention "
                           "every encoder token (encoder length = context); MLA in the absorbed "
                           "form engines run (scores over the latent + RoPE key)"))
        else:
            params = c.flops_per_token // 2
            terms.append(ComputeTerm(
                name=c.component, value=c.flops_per_token, unit="FLOP/token",
                formula="2 x matmul weights the token multiplies", inputs=f"weights={params:,}",
                assumption=("routed experts scaled by top_k / experts" if c.component == "experts"
                            else "embedding lookups are free; biases and norms are not counted")))
    terms.append(ComputeTerm(
        name="prefill", value=batch * prefill_flops(spec, context), unit="FLOP",
        formula="batch x (tokens x 2 x all matmul weights + sum over layers and queries of "
                "2 x heads x (qk_dim + v_dim) x keys seen)",
        inputs=f"batch={batch}, tokens={context:,}",
        assumption="causal mask: query i sees min(i, window) keys; logits at every position"))
    per_token = prefill_flops(spec, context) // context
    terms.append(ComputeTerm(
        name="training", value=TRAINING_FACTOR * per_token, unit="FLOP/token",
        formula="3 x forward per token (4 x with full recomputation); 6ND = 6 x active params",
        inputs=f"forward per token over {context:,} tokens={per_token:,}",
        assumption="backward = 2 x forward (Kaplan et al. 2020); recomputation reruns the forward"))
    return terms
