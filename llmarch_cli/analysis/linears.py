"""Every weight matrix of a spec, named as Hugging Face transformers names its modules.

Used for LoRA targets (adapter sizes need in/out features) and for weight quantisation (which
matrices a format quantises). Module names follow each family's modeling code in transformers
5.x (see /work/shared/reference/semantics.md); a spec without a known ``model_type`` gets
Llama-style names. MoE experts in transformers 5 are 3-D parameters, not ``nn.Linear``
modules (``mlp.experts.gate_up_proj``), and the routers are custom modules: PEFT's
``all-linear`` does not reach them, so they are listed with ``is_linear=False``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from llmarch_cli.specs.model import ArchSpec

Role = Literal["attention", "cross_attention", "ffn", "experts", "router", "head", "other"]
SHORT_NAMES: tuple[str, ...] = ("q", "k", "v", "o", "gate", "up", "down")


@dataclass(frozen=True)
class Linear:
    """One kind of weight matrix, repeated ``count`` times (layers x experts).

    ``path``: module path below the layer (``self_attn.q_proj``); ``name``: its last part,
    which PEFT matches; ``shorts``: the short names (q, k, v, o, gate, up, down) it serves.
    """

    stack: str
    path: str
    in_features: int
    out_features: int
    count: int
    role: Role
    shorts: tuple[str, ...] = ()
    bias: bool = False
    is_linear: bool = True

    @property
    def name(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    @property
    def weight_params(self) -> int:
        return self.in_features * self.out_features * self.count


@dataclass(frozen=True)
class _Names:
    """Per-family module paths: attention q/k/v/o (or fused qkv), FFN up/gate/down."""

    q: str = "self_attn.q_proj"
    k: str = "self_attn.k_proj"
    v: str = "self_attn.v_proj"
    o: str = "self_attn.o_proj"
    qkv: str | None = None
    up: str = "mlp.up_proj"
    gate: str = "mlp.gate_proj"
    down: str = "mlp.down_proj"
    cross: str | None = None  # prefix of the cross-attention q/k/v/o


_LLAMA = _Names()
FAMILY_NAMES: dict[str, _Names] = {
    "gpt2": _Names(o="attn.c_proj", qkv="attn.c_attn", up="mlp.c_fc", down="mlp.c_proj"),
    "gpt_neox": _Names(
        o="attention.dense", qkv="attention.query_key_value",
        up="mlp.dense_h_to_4h", down="mlp.dense_4h_to_h",
    ),
    "bloom": _Names(
        o="self_attention.dense", qkv="self_attention.query_key_value",
        up="mlp.dense_h_to_4h", down="mlp.dense_4h_to_h",
    ),
    "gptj": _Names(
        q="attn.q_proj", k="attn.k_proj", v="attn.v_proj", o="attn.out_proj",
        up="mlp.fc_in", down="mlp.fc_out",
    ),
    "t5": _Names(
        q="SelfAttention.q", k="SelfAttention.k", v="SelfAttention.v", o="SelfAttention.o",
        up="DenseReluDense.wi", gate="DenseReluDense.wi_0", down="DenseReluDense.wo",
        cross="EncDecAttention",
    ),
    "bert": _Names(
        q="attention.self.query", k="attention.self.key", v="attention.self.value",
        o="attention.output.dense", up="intermediate.dense", down="output.dense",
    ),
    "bart": _Names(
        o="self_attn.out_proj", up="fc1", down="fc2", cross="encoder_attn",
    ),
}


def _names(spec: ArchSpec) -> _Names:
    return FAMILY_NAMES.get(spec.model_type or "", _LLAMA)


def _attention(spec: ArchSpec, n: _Names, stack: str, layers: int, prefix: str | None) -> list[Linear]:
    a, h = spec.attention, spec.hidden_size
    q_out, kv_out = a.num_heads * a.head_dim, a.num_kv_heads * a.head_dim
    bias = a.q_bias or a.k_bias or a.v_bias
    role: Role = "attention" if prefix is None else "cross_attention"

    def path(p: str) -> str:
        if prefix is None:
            return p
        # T5: SelfAttention.q -> EncDecAttention.q; BART: self_attn.q_proj -> encoder_attn.q_proj
        return f"{prefix}.{p.split('.', 1)[1]}"

    if n.qkv is not None and prefix is None:
        qkv = Linear(stack, n.qkv, h, q_out + 2 * kv_out, layers, role, ("q", "k", "v"), bias)
        out = Linear(stack, n.o, q_out, h, layers, role, ("o",), a.o_bias)
        return [qkv, out]
    return [
        Linear(stack, path(n.q), h, q_out, layers, role, ("q",), a.q_bias),
        Linear(stack, path(n.k), h, kv_out, layers, role, ("k",), a.k_bias),
        Linear(stack, path(n.v), h, kv_out, layers, role, ("v",), a.v_bias),
        Linear(stack, path(n.o), q_out, h, layers, role, ("o",), a.o_bias),
    ]


def _ffn(spec: ArchSpec, n: _Names, stack: str, layers: int, width: int, role: Role,
         is_linear: bool = True) -> list[Linear]:
    h, f = spec.hidden_size, spec.ffn

    def lin(path: str, i: int, o: int, short: str) -> Linear:
        return Linear(stack, path, i, o, layers, role, (short,) if is_linear else (), f.bias, is_linear)

    if f.kind == "gated":
        up_path = "DenseReluDense.wi_1" if spec.model_type == "t5" else n.up
        return [lin(n.gate, h, width, "gate"), lin(up_path, h, width, "up"), lin(n.down, width, h, "down")]
    return [lin(n.up, h, width, "up"), lin(n.down, width, h, "down")]


_EXPERTS = _Names(up="mlp.experts.up", gate="mlp.experts.gate", down="mlp.experts.down")
_SHARED = _Names(
    up="mlp.shared_expert.up_proj", gate="mlp.shared_expert.gate_proj", down="mlp.shared_expert.down_proj"
)


def _moe(spec: ArchSpec, n: _Names, stack: str) -> list[Linear]:
    moe = spec.moe
    assert moe is not None
    width = spec.ffn.intermediate_size
    sparse = spec.num_layers - len(moe.dense_layers)
    out: list[Linear] = []
    if moe.dense_layers:
        out += _ffn(spec, n, stack, len(moe.dense_layers), width, "ffn")
    out += _ffn(spec, _EXPERTS, stack, sparse * moe.num_experts, width, "experts", is_linear=False)
    out.append(Linear(stack, "mlp.router", spec.hidden_size, moe.num_experts, sparse, "router",
                      (), moe.router_bias, False))
    if moe.num_shared_experts and moe.shared_intermediate_size:
        shared = moe.shared_intermediate_size * moe.num_shared_experts
        out += _ffn(spec, _SHARED, stack, sparse, shared, "ffn")
    return out


@cache
def linears(spec: ArchSpec) -> tuple[Linear, ...]:
    """Every weight matrix of the spec, per stack, with its HF module path."""
    n = _names(spec)
    out: list[Linear] = []
    if spec.architecture == "encoder-decoder":
        enc, dec = spec.num_layers, spec.num_decoder_layers or 0
        out += _attention(spec, n, "encoder", enc, None)
        out += _ffn(spec, n, "encoder", enc, spec.ffn.intermediate_size, "ffn")
        out += _attention(spec, n, "decoder", dec, None)
        out += _attention(spec, n, "decoder", dec, n.cross or "encoder_attn")
        out += _ffn(spec, n, "decoder", dec, spec.ffn.intermediate_size, "ffn")
    else:
        stack = "model"
        out += _attention(spec, n, stack, spec.num_layers, None)
        if spec.moe is not None:
            out += _moe(spec, n, stack)
        else:
            out += _ffn(spec, n, stack, spec.num_layers, spec.ffn.intermediate_size, "ffn")
    if spec.head.transform:
        h = spec.hidden_size
        out.append(Linear("head", "predictions.transform.dense", h, h, 1, "other", (), True))
    head = "decoder" if spec.head.kind == "masked_lm" else "lm_head"
    out.append(Linear("head", head, spec.hidden_size, spec.embeddings.vocab_size, 1, "head"))
    return tuple(out)
