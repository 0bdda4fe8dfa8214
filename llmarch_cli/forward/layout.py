"""The canonical weight layout of a runnable model: every tensor's name and shape from a spec.

Random replicas and loaded checkpoints both fill this layout, so the model code reads one set
of names whatever the family. Matrices are stored ``[in, out]`` and applied as ``x @ W + b``.

Global names: ``embed [V, H]``, ``token_type [types, H]``, ``head.w [H, V]`` (untied),
``head.b [V]``, ``head.transform.{w,b}`` and ``head.transform_norm.{w,b}`` (BERT). Per stack
(``dec`` for decoders, ``enc`` for encoders, both for encoder-decoders): ``{stack}.pos [rows,
H]`` (learned; rows = max_positions + offset), ``{stack}.embed_norm.{w,b}``, ``{stack}.rel_bias
[buckets, heads]`` (T5), ``{stack}.norm.{w,b}`` (the final norm).
Per layer, under ``{stack}.{layer}.``: ``attn_norm``, ``ffn_norm`` and ``cross_norm`` (``.w``,
``.b``); ``q``, ``k``, ``v``, ``o`` and the cross-attention ``xq``, ``xk``, ``xv``, ``xo``
(``.w``, ``.b``); ``sinks [heads]``; a dense FFN ``up``, ``gate``, ``down``; or experts
``router.{w [H, E], b [E]}``, ``experts.{gate,up}.w [E, H, I]``, ``experts.down.w [E, I, H]``
with biases ``[E, I]`` / ``[E, H]``.
"""

from __future__ import annotations

from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.model import ArchSpec

Shapes = dict[str, tuple[int, ...]]


def stacks(spec: ArchSpec) -> list[tuple[str, int]]:
    """(stack name, layer count): 'dec' for decoders, 'enc' for encoders, both for seq2seq."""
    if spec.architecture == "decoder":
        return [("dec", spec.num_layers)]
    if spec.architecture == "encoder":
        return [("enc", spec.num_layers)]
    return [("enc", spec.num_layers), ("dec", spec.num_decoder_layers or spec.num_layers)]


def check_supported(spec: ArchSpec) -> None:
    """LlmarchError for spec features the forward pass does not implement."""
    a, moe = spec.attention, spec.moe
    unsupported = {
        "QK-norm": a.qk_norm is not None,
        "shared experts": moe is not None and moe.num_shared_experts > 0,
        "MLA": a.mla is not None,
        "attention soft-capping": a.softcap is not None or spec.head.softcap is not None,
        "gated attention output": a.output_gate,
        "chunked, linear-attention or Mamba layers": bool(
            set(spec.layer_kinds()) - {"full", "sliding"}),
        "layers without RoPE": bool(a.nope_layers),
        "per-layer-kind RoPE": spec.positions.local_rope is not None,
        f"{spec.norm.placement} norms": spec.norm.placement in ("sandwich", "sublayer_post"),
        "(1 + w) norms": spec.norm.unit_offset,
        "residual scaling": spec.residual_scale is not None,
        "sigmoid or group-limited routing": moe is not None and moe.routing.startswith(
            ("sigmoid", "softmax_group")),
        "routed scaling": moe is not None and moe.routed_scaling != 1.0,
        "a dense FFN width different from the experts'": moe is not None
        and moe.dense_intermediate_size is not None,
    }
    missing = [name for name, used in unsupported.items() if used]
    if missing:
        raise LlmarchError(f"{spec.id}: forward does not implement {', '.join(missing)} yet")


def is_moe_layer(spec: ArchSpec, stack: str, layer: int) -> bool:
    return spec.moe is not None and stack != "enc" and layer not in spec.moe.dense_layers


def _norm(shapes: Shapes, name: str, spec: ArchSpec, width: int) -> None:
    shapes[f"{name}.w"] = (width,)
    if spec.norm.kind == "layernorm" and spec.norm.bias:
        shapes[f"{name}.b"] = (width,)


def _linear(shapes: Shapes, name: str, fan_in: int, fan_out: int, bias: bool) -> None:
    shapes[f"{name}.w"] = (fan_in, fan_out)
    if bias:
        shapes[f"{name}.b"] = (fan_out,)


def layer_shapes(spec: ArchSpec, stack: str, layer: int) -> Shapes:
    """Canonical tensors of one layer, named without the ``{stack}.{layer}.`` prefix."""
    a, f, h = spec.attention, spec.ffn, spec.hidden_size
    q_width, kv_width = a.num_heads * a.head_dim, spec.kv_dim
    shapes: Shapes = {}
    _norm(shapes, "attn_norm", spec, h)
    if not (spec.residual == "parallel" and spec.parallel_norms == 1):
        _norm(shapes, "ffn_norm", spec, h)
    _linear(shapes, "q", h, q_width, a.q_bias)
    _linear(shapes, "k", h, kv_width, a.k_bias)
    _linear(shapes, "v", h, kv_width, a.v_bias)
    _linear(shapes, "o", q_width, h, a.o_bias)
    if a.sinks:
        shapes["sinks"] = (a.num_heads,)
    if stack == "dec" and spec.architecture == "encoder-decoder":
        _norm(shapes, "cross_norm", spec, h)
        _linear(shapes, "xq", h, q_width, a.q_bias)
        _linear(shapes, "xk", h, kv_width, a.k_bias)
        _linear(shapes, "xv", h, kv_width, a.v_bias)
        _linear(shapes, "xo", q_width, h, a.o_bias)
    i = f.intermediate_size
    if is_moe_layer(spec, stack, layer):
        e = spec.moe.num_experts
        _linear(shapes, "router", h, e, spec.moe.router_bias)
        for part in ("gate", "up"):
            shapes[f"experts.{part}.w"] = (e, h, i)
            if f.bias:
                shapes[f"experts.{part}.b"] = (e, i)
        shapes["experts.down.w"] = (e, i, h)
        if f.bias:
            shapes["experts.down.b"] = (e, h)
    else:
        if f.kind == "gated":
            _linear(shapes, "gate", h, i, f.bias)
        _linear(shapes, "up", h, i, f.bias)
        _linear(shapes, "down", i, h, f.bias)
    return shapes


def model_shapes(spec: ArchSpec) -> Shapes:
    """Every canonical tensor of the model with its shape."""
    check_supported(spec)
    h, v, p = spec.hidden_size, spec.embeddings.vocab_size, spec.positions
    shapes: Shapes = {"embed": (v, h)}
    if spec.embeddings.token_types:
        shapes["token_type"] = (spec.embeddings.token_types, h)
    for stack, layers in stacks(spec):
        if p.kind == "learned":
            shapes[f"{stack}.pos"] = (p.max_positions + p.offset, h)
        if spec.norm.embedding_norm:
            _norm(shapes, f"{stack}.embed_norm", spec, h)
        if p.kind == "relative_buckets":
            shapes[f"{stack}.rel_bias"] = (p.relative.num_buckets, spec.attention.num_heads)
        for layer in range(layers):
            for name, shape in layer_shapes(spec, stack, layer).items():
                shapes[f"{stack}.{layer}.{name}"] = shape
        if spec.norm.final_norm:
            _norm(shapes, f"{stack}.norm", spec, h)
    if spec.head.transform:
        _linear(shapes, "head.transform", h, h, True)
        _norm(shapes, "head.transform_norm", spec, h)
    if not spec.head.tied:
        shapes["head.w"] = (h, v)
    if spec.head.bias:
        shapes["head.b"] = (v,)
    return shapes
