"""Every weight matrix of a spec, named as its family's modeling code names the module.

Used for LoRA targets (adapter sizes need in/out features) and for weight quantisation (which
matrices a format quantises). Module paths come from ``specs.families`` (transformers 5.x, or
Qwen 1's own ``modeling_qwen.py``); a spec without a known ``model_type`` gets Llama's names.
Whether q, k and v are one matrix follows ``spec.attention.fused_qkv``. MoE experts in
transformers 5 are 3-D parameters, not ``nn.Linear`` modules: ``mlp.experts.gate_up_proj``
(listed twice, once for its gate half and once for its up half, each ``[H -> I]`` per expert)
and ``mlp.experts.down_proj``; routers (``mlp.gate`` in Mixtral, ``mlp.router`` in gpt-oss)
are custom modules. PEFT's ``all-linear`` reaches neither, so they have ``is_linear=False``.
Shared experts use Qwen2-MoE's ``mlp.shared_expert.*`` names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from llmarch_cli.specs.families import Family, family
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


def _attention(spec: ArchSpec, fam: Family, stack: str, layers: int, cross: bool) -> list[Linear]:
    """q, k, v, o of one stack's (cross-)attention; one fused qkv when the spec fuses them."""
    a, h = spec.attention, spec.hidden_size
    q_out, kv_out = a.num_heads * a.head_dim, a.num_kv_heads * a.head_dim
    role: Role = "cross_attention" if cross else "attention"
    q, k, v, o = fam.attention(cross)
    out = Linear(stack, o, q_out, h, layers, role, ("o",), a.o_bias)
    if a.fused_qkv:
        bias = a.q_bias or a.k_bias or a.v_bias
        return [Linear(stack, fam.qkv, h, q_out + 2 * kv_out, layers, role, ("q", "k", "v"), bias), out]
    return [
        Linear(stack, q, h, q_out, layers, role, ("q",), a.q_bias),
        Linear(stack, k, h, kv_out, layers, role, ("k",), a.k_bias),
        Linear(stack, v, h, kv_out, layers, role, ("v",), a.v_bias),
        out,
    ]


def _ffn(spec: ArchSpec, paths: tuple[str, str, str], stack: str, layers: int, width: int,
         role: Role, is_linear: bool = True) -> list[Linear]:
    """gate (if gated), up and down of an FFN of inner ``width``; ``paths``: (gate, up, down)."""
    h, f = spec.hidden_size, spec.ffn
    gate, up, down = paths

    def lin(path: str, i: int, o: int, short: str) -> Linear:
        return Linear(stack, path, i, o, layers, role, (short,) if is_linear else (), f.bias, is_linear)

    pair = [lin(up, h, width, "up"), lin(down, width, h, "down")]
    return [lin(gate, h, width, "gate"), *pair] if f.kind == "gated" else pair


def _dense_paths(spec: ArchSpec, fam: Family) -> tuple[str, str, str]:
    return fam.gate, fam.up_path(spec.ffn.kind == "gated"), fam.down


_SHARED = ("mlp.shared_expert.gate_proj", "mlp.shared_expert.up_proj", "mlp.shared_expert.down_proj")


def _moe(spec: ArchSpec, fam: Family, stack: str) -> list[Linear]:
    moe = spec.moe
    assert moe is not None
    width = spec.ffn.intermediate_size
    sparse = spec.num_layers - len(moe.dense_layers)
    out: list[Linear] = []
    if moe.dense_layers:
        out += _ffn(spec, _dense_paths(spec, fam), stack, len(moe.dense_layers), width, "ffn")
    gate_up, down = f"{fam.experts}.gate_up_proj", f"{fam.experts}.down_proj"
    out += _ffn(spec, (gate_up, gate_up, down), stack, sparse * moe.num_experts, width, "experts",
                is_linear=False)
    out.append(Linear(stack, fam.router, spec.hidden_size, moe.num_experts, sparse, "router",
                      (), moe.router_bias, False))
    if moe.num_shared_experts and moe.shared_intermediate_size:
        shared = moe.shared_intermediate_size * moe.num_shared_experts
        out += _ffn(spec, _SHARED, stack, sparse, shared, "ffn")
    return out


@cache
def linears(spec: ArchSpec) -> tuple[Linear, ...]:
    """Every weight matrix of the spec, per stack, with its HF module path."""
    fam = family(spec.model_type)
    dense, width = _dense_paths(spec, fam), spec.ffn.intermediate_size
    out: list[Linear] = []
    if spec.architecture == "encoder-decoder":
        enc, dec = spec.num_layers, spec.num_decoder_layers or 0
        out += _attention(spec, fam, "encoder", enc, cross=False)
        out += _ffn(spec, dense, "encoder", enc, width, "ffn")
        out += _attention(spec, fam, "decoder", dec, cross=False)
        out += _attention(spec, fam, "decoder", dec, cross=True)
        out += _ffn(spec, dense, "decoder", dec, width, "ffn")
    else:
        stack = "model"
        out += _attention(spec, fam, stack, spec.num_layers, cross=False)
        if spec.moe is not None:
            out += _moe(spec, fam, stack)
        else:
            out += _ffn(spec, dense, stack, spec.num_layers, width, "ffn")
    if spec.head.transform:
        h = spec.hidden_size
        out.append(Linear("head", "predictions.transform.dense", h, h, 1, "other", (), True))
    head = "decoder" if spec.head.kind == "masked_lm" else "lm_head"
    out.append(Linear("head", head, spec.hidden_size, spec.embeddings.vocab_size, 1, "head"))
    return tuple(out)
