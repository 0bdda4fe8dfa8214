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


def _qk_norm(spec: ArchSpec) -> int:
    """QK-norm weights of one layer: shared per-head, one per head, over the projection, or none."""
    a = spec.attention
    return {"head": 2 * a.head_dim, "heads": (a.num_heads + a.num_kv_heads) * a.head_dim,
            "projection": (a.num_heads + a.num_kv_heads) * a.head_dim}.get(a.qk_norm or "", 0)


def _attention_parts(spec: ArchSpec, prefix: str) -> list[tuple[str, int]]:
    a, h = spec.attention, spec.hidden_size
    if a.mla is not None and prefix == "attention":
        return _mla_parts(spec)
    q_out, kv_out = a.num_heads * a.head_dim, a.num_kv_heads * a.head_dim
    gate = q_out if a.output_gate and prefix == "attention" else 0  # q_proj also yields the gate
    parts = [
        (f"{prefix}.q", _linear(h, q_out + gate, a.q_bias)),
        (f"{prefix}.k", _linear(h, kv_out, a.k_bias)),
        (f"{prefix}.v", _linear(h, kv_out, a.v_bias)),
        (f"{prefix}.o", _linear(q_out, h, a.o_bias)),
    ]
    if prefix == "attention":
        parts.append(("attention.qk_norm", _qk_norm(spec)))
    return parts


def _mla_parts(spec: ArchSpec) -> list[tuple[str, int]]:
    """DeepSeek MLA: q (direct, or low-rank q_a -> norm -> q_b), kv_a to the latent + RoPE key,
    the latent norm, kv_b to per-head K (nope) and V, o. Biases follow attention_bias (q_a,
    kv_a, o); q_b, kv_b and a direct q_proj have none."""
    a, h = spec.attention, spec.hidden_size
    m = a.mla
    assert m is not None
    heads, bias = a.num_heads, a.o_bias
    if m.q_lora_rank is None:
        q = _linear(h, heads * a.head_dim, False)
        q_norm = 0
    else:
        q = _linear(h, m.q_lora_rank, bias) + _linear(m.q_lora_rank, heads * a.head_dim, False)
        q_norm = m.q_lora_rank
    return [
        ("attention.q", q),
        ("attention.kv_a", _linear(h, m.kv_lora_rank + m.qk_rope_head_dim, bias)),
        ("attention.kv_b", _linear(m.kv_lora_rank, heads * (m.qk_nope_head_dim + m.v_head_dim), False)),
        ("attention.o", _linear(heads * m.v_head_dim, h, bias)),
        ("attention.latent_norms", q_norm + m.kv_lora_rank),
    ]


def _linear_attention_parts(spec: ArchSpec) -> list[tuple[str, int]]:
    """Gated DeltaNet (Qwen3-Next): in_proj_qkvz, in_proj_ba, depthwise conv over q/k/v,
    dt_bias and A_log per value head, a gated RMSNorm over the value head, out_proj."""
    la, h = spec.linear_attention, spec.hidden_size
    assert la is not None
    kd, vd = la.num_key_heads * la.key_head_dim, la.num_value_heads * la.value_head_dim
    return [
        ("linear_attention.in_proj", _linear(h, 2 * kd + 2 * vd, False) + _linear(h, 2 * la.num_value_heads, False)),
        ("linear_attention.conv", la.conv_channels * la.conv_kernel),
        ("linear_attention.other", 2 * la.num_value_heads + la.value_head_dim),
        ("linear_attention.out_proj", _linear(vd, h, False)),
    ]


def _mamba_parts(spec: ArchSpec) -> list[tuple[str, int]]:
    """Selective SSM mixer: in_proj to x and z, depthwise conv, x_proj to (dt, B, C), dt_proj,
    A_log [inner, d_state], D [inner], out_proj; Jamba adds RMSNorms on dt, B and C."""
    m, h = spec.mamba, spec.hidden_size
    assert m is not None
    inner = m.inner_size
    norms = m.dt_rank + 2 * m.d_state if m.inner_norms else 0
    return [
        ("mamba.in_proj", _linear(h, 2 * inner, m.proj_bias)),
        ("mamba.conv", inner * m.d_conv + (inner if m.conv_bias else 0)),
        ("mamba.x_proj", _linear(inner, m.dt_rank + 2 * m.d_state, False)),
        ("mamba.dt_proj", _linear(m.dt_rank, inner, True)),
        ("mamba.state", inner * m.d_state + inner + norms),
        ("mamba.out_proj", _linear(inner, h, m.proj_bias)),
    ]


def _norms_per_layer(spec: ArchSpec, stack: Stack, kind: str = "full") -> int:
    if stack == "decoder":
        return 3  # self-attention, cross-attention, FFN
    if kind == "mamba" and spec.mamba is not None and not spec.mamba.with_ffn:
        return 1
    if spec.residual == "parallel":
        return spec.parallel_norms
    return spec.norm.per_layer


class _Tally:
    def __init__(self) -> None:
        self.groups: list[ParamGroup] = []

    def add(self, stack: Stack, component: str, per_layer: int, layers: int = 1) -> None:
        if per_layer and layers:
            self.groups.append(ParamGroup(stack=stack, component=component, per_layer=per_layer,
                                          layers=layers, total=per_layer * layers))

    def total(self, components: tuple[str, ...] | None = None) -> int:
        return sum(g.total for g in self.groups if components is None or g.component in components)


def _layer_parts(spec: ArchSpec, stack: Stack, kind: str, moe_layer: bool) -> list[tuple[str, int]]:
    """(component, params) of one layer of ``kind`` (full/sliding/chunked/linear/mamba)."""
    a, h = spec.attention, spec.hidden_size
    if kind == "linear":
        parts = _linear_attention_parts(spec)
    elif kind == "mamba":
        parts = _mamba_parts(spec)
    else:
        parts = _attention_parts(spec, "attention")
        if a.sinks:
            parts.append(("attention.sinks", a.num_heads))
    if stack == "decoder":
        parts += _attention_parts(spec, "cross_attention")
    moe = spec.moe
    if kind == "mamba" and spec.mamba is not None and not spec.mamba.with_ffn:
        pass
    elif not moe_layer:
        width = spec.ffn.intermediate_size
        if moe is not None and moe.dense_intermediate_size is not None:
            width = moe.dense_intermediate_size
        parts += _ffn_parts(spec, width)
    else:
        assert moe is not None
        parts.append(("moe.router", _linear(h, moe.num_experts, moe.router_bias)))
        parts.append(("moe.experts", moe.num_experts * expert_params(spec)))
        if moe.num_shared_experts and moe.shared_intermediate_size:
            shared = sum(p for _, p in _ffn_parts(spec, moe.shared_intermediate_size))
            parts.append(("moe.shared_experts", moe.num_shared_experts * shared))
            if moe.shared_gate:
                parts.append(("moe.shared_experts", h))
    parts.append(("norms", _norms_per_layer(spec, stack, kind) * _norm(spec)))
    return parts


def _stack(spec: ArchSpec, tally: _Tally, stack: Stack, layers: int) -> int:
    """Add one stack of blocks; return its MoE layer count."""
    a, pos, h = spec.attention, spec.positions, spec.hidden_size
    if pos.kind == "learned":
        tally.add(stack, "embeddings.position", ((pos.max_positions or 0) + pos.offset) * h)
    moe = spec.moe
    kinds = spec.layer_kinds() if stack == "model" else ("full",) * layers
    per_layer: dict[tuple[str, int], int] = {}
    moe_layers = 0
    for i, kind in enumerate(kinds):
        moe_layer = moe is not None and stack != "encoder" and i not in moe.dense_layers
        moe_layers += moe_layer
        merged: dict[str, int] = {}
        for component, params in _layer_parts(spec, stack, kind, moe_layer):
            merged[component] = merged.get(component, 0) + params
        for component, params in merged.items():
            per_layer[(component, params)] = per_layer.get((component, params), 0) + 1
    for (component, params), count in per_layer.items():
        tally.add(stack, component, params, count)
    if pos.relative is not None:  # one bias table per stack, held by its first block
        tally.add(stack, "attention.relative_bias", pos.relative.num_buckets * a.num_heads)
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
