"""Exact parameter counts of a spec, per component and in total (pure Python integers).

What is counted is the model transformers builds for the family, tied weights once:
decoder LMs as the causal-LM model with its head; encoder-decoders as the conditional-generation
model (T5ForConditionalGeneration, BartForConditionalGeneration; BART's ``final_logits_bias``
is a buffer, not a parameter); BERT as BertForMaskedLM (the MLM transform dense + LayerNorm and
the decoder's vocabulary bias, no pooler). Encoder-decoders share one token embedding; each
stack has its own learned position table, embedding norm, T5 relative-bias table (in its first
block only) and final norm; decoder blocks add cross-attention.

MoE: the total counts every expert and the router; a token uses ``top_k`` experts per MoE
layer, so active = total - MoE layers x (experts - top_k) x one expert's parameters
(embeddings and head count as active).
"""

from __future__ import annotations

from llmarch_cli.analysis.results import ParamGroup, ParamsResult, Stack
from llmarch_cli.specs.model import ArchSpec

EMBEDDING_COMPONENTS = ("embeddings.token", "embeddings.position", "embeddings.token_type")


def _linear(n_in: int, n_out: int, bias: bool) -> int:
    """Weight [n_out, n_in] plus an optional bias [n_out]."""
    return n_in * n_out + (n_out if bias else 0)


def _norm(spec: ArchSpec) -> int:
    """One norm over the hidden size: a weight, plus a bias for LayerNorm with bias."""
    n = spec.norm
    return spec.hidden_size * (2 if n.kind == "layernorm" and n.bias else 1)


def _ffn_parts(spec: ArchSpec, width: int) -> list[tuple[str, int]]:
    """(component, params) of one FFN of inner width ``width``: up/down, plus gate if gated."""
    h, bias = spec.hidden_size, spec.ffn.bias
    parts = [("ffn.up", _linear(h, width, bias)), ("ffn.down", _linear(width, h, bias))]
    if spec.ffn.kind == "gated":
        parts.insert(0, ("ffn.gate", _linear(h, width, bias)))
    return parts


def expert_params(spec: ArchSpec) -> int:
    """Parameters of one routed expert (an FFN of ``ffn.intermediate_size``)."""
    return sum(p for _, p in _ffn_parts(spec, spec.ffn.intermediate_size))


def _attention_parts(spec: ArchSpec, prefix: str) -> list[tuple[str, int]]:
    a, h = spec.attention, spec.hidden_size
    q_out, kv_out = a.num_heads * a.head_dim, a.num_kv_heads * a.head_dim
    return [
        (f"{prefix}.q", _linear(h, q_out, a.q_bias)),
        (f"{prefix}.k", _linear(h, kv_out, a.k_bias)),
        (f"{prefix}.v", _linear(h, kv_out, a.v_bias)),
        (f"{prefix}.o", _linear(q_out, h, a.o_bias)),
    ]


def _norms_per_layer(spec: ArchSpec, stack: Stack) -> int:
    if stack == "decoder":
        return 3  # self-attention, cross-attention, FFN
    if spec.residual == "parallel":
        return spec.parallel_norms
    return 2


class _Tally:
    def __init__(self) -> None:
        self.groups: list[ParamGroup] = []

    def add(self, stack: Stack, component: str, per_layer: int, layers: int = 1) -> None:
        if per_layer and layers:
            self.groups.append(ParamGroup(stack=stack, component=component, per_layer=per_layer,
                                          layers=layers, total=per_layer * layers))

    def total(self, components: tuple[str, ...] | None = None) -> int:
        return sum(g.total for g in self.groups if components is None or g.component in components)


def _stack(spec: ArchSpec, tally: _Tally, stack: Stack, layers: int) -> int:
    """Add one stack of blocks; return its MoE layer count."""
    a, pos, h = spec.attention, spec.positions, spec.hidden_size
    if pos.kind == "learned":
        tally.add(stack, "embeddings.position", ((pos.max_positions or 0) + pos.offset) * h)
    for component, params in _attention_parts(spec, "attention"):
        tally.add(stack, component, params, layers)
    if a.sinks:
        tally.add(stack, "attention.sinks", a.num_heads, layers)
    if pos.relative is not None:  # one bias table per stack, held by its first block
        tally.add(stack, "attention.relative_bias", pos.relative.num_buckets * a.num_heads)
    if stack == "decoder":
        for component, params in _attention_parts(spec, "cross_attention"):
            tally.add(stack, component, params, layers)
    moe_layers = 0
    if spec.moe is None:
        for component, params in _ffn_parts(spec, spec.ffn.intermediate_size):
            tally.add(stack, component, params, layers)
    else:
        moe = spec.moe
        dense = len(moe.dense_layers)
        moe_layers = layers - dense
        for component, params in _ffn_parts(spec, spec.ffn.intermediate_size):
            tally.add(stack, component, params, dense)
        router = _linear(h, moe.num_experts, moe.router_bias)
        tally.add(stack, "moe.router", router, moe_layers)
        tally.add(stack, "moe.experts", moe.num_experts * expert_params(spec), moe_layers)
        if moe.num_shared_experts and moe.shared_intermediate_size:
            shared = sum(p for _, p in _ffn_parts(spec, moe.shared_intermediate_size))
            tally.add(stack, "moe.shared_experts", moe.num_shared_experts * shared, moe_layers)
    tally.add(stack, "norms", _norms_per_layer(spec, stack) * _norm(spec), layers)
    if spec.norm.embedding_norm:
        tally.add(stack, "norms.embedding", _norm(spec))
    if spec.norm.final_norm:
        tally.add(stack, "norms.final", _norm(spec))
    return moe_layers


def count_params(spec: ArchSpec) -> ParamsResult:
    """Exact total and active parameter counts of ``spec`` with a per-component breakdown."""
    h, vocab, head = spec.hidden_size, spec.embeddings.vocab_size, spec.head
    tally = _Tally()
    tally.add("model", "embeddings.token", vocab * h)
    tally.add("model", "embeddings.token_type", spec.embeddings.token_types * h)
    if spec.architecture == "encoder-decoder":
        moe_layers = _stack(spec, tally, "encoder", spec.num_layers)
        moe_layers += _stack(spec, tally, "decoder", spec.num_decoder_layers or 0)
    else:
        moe_layers = _stack(spec, tally, "model", spec.num_layers)
    if head.transform:  # BERT's MLM transform: dense H->H with bias, then a LayerNorm
        tally.add("model", "head.transform", _linear(h, h, True) + _norm(spec))
    if not head.tied:
        tally.add("model", "head", _linear(h, vocab, head.bias))
    elif head.bias:
        tally.add("model", "head.bias", vocab)

    total = tally.total()
    embedding = tally.total(EMBEDDING_COMPONENTS)
    lm_head = tally.total(("head",))
    inactive = 0
    if spec.moe is not None:
        inactive = moe_layers * (spec.moe.num_experts - spec.moe.top_k) * expert_params(spec)
    return ParamsResult(
        model=spec.id,
        total_params=total,
        active_params=total - inactive,
        embedding_params=embedding,
        lm_head_params=lm_head,
        non_embedding_params=total - embedding - lm_head,
        breakdown=tally.groups,
    )
