"""Hugging Face checkpoints -> canonical weights (``forward.layout``), one name mapping per family.

Module paths inside a layer come from ``specs.families`` (shared with the LoRA targets). Each
family maps every canonical tensor to the on-disk tensors it comes from, their expected
on-disk shapes (from config.json through the spec) and a transform. All names and shapes are
checked against the safetensors headers before any tensor is read, so a missing tensor or a
shape that contradicts the config fails at once, naming the tensor. Layouts follow
transformers' save format (``save_pretrained`` writes the original hub names):

* nn.Linear stores ``[out, in]`` and is transposed to ``[in, out]``; GPT-2's Conv1D is already
  ``[in, out]``, and its fused ``c_attn`` columns are ``[q | k | v]`` blocks.
* GPT-NeoX and BLOOM fuse q, k, v per head: rows viewed ``[heads, 3, head_dim]``.
* Mixtral experts are stored one by one (``experts.{e}.w1|w3|w2``: gate, up, down).
* gpt-oss experts are ``gate_up_proj [E, H, 2I]`` applied as ``x @ W + b`` with gate and up
  interleaved along the last axis (even columns gate, odd columns up).
* T5 keeps each stack's relative-bias table in block 0; transformers 5 always ties its head
  to ``shared`` (v1.1's missing output scale is ``scale_decoder_outputs: false`` in config).
* BERT's MLM decoder bias is ``cls.predictions.bias``; BART's ``final_logits_bias [1, V]`` is a
  buffer the spec does not count (``Quirks.logits_bias``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from llmarch_cli.errors import LlmarchError
from llmarch_cli.forward.checkpoint import Checkpoint
from llmarch_cli.forward.model import Model, Quirks, check_tokens, expected_shapes
from llmarch_cli.specs.families import FAMILIES, Family
from llmarch_cli.specs.loader import ResolvedModel
from llmarch_cli.specs.model import ArchSpec


@dataclass(frozen=True)
class Source:
    """Canonical tensor = fn(*on-disk tensors); ``shapes`` are the shapes the config implies."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    fn: Callable[..., np.ndarray]


Mapping = dict[str, Source]
Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


def _same(a: np.ndarray) -> np.ndarray:
    return a


def _t(a: np.ndarray) -> np.ndarray:
    return a.T


def _src(name: str, shape: tuple[int, ...], fn=_same) -> Source:
    return Source((name,), (shape,), fn)


def _linear(m: Mapping, canon: str, disk: str, fan_in: int, fan_out: int) -> None:
    """nn.Linear ``disk`` ([out, in] + bias [out]) as canonical ``canon``."""
    m[f"{canon}.w"] = _src(f"{disk}.weight", (fan_out, fan_in), _t)
    m[f"{canon}.b"] = _src(f"{disk}.bias", (fan_out,))


def _norm(m: Mapping, canon: str, disk: str, width: int) -> None:
    m[f"{canon}.w"] = _src(f"{disk}.weight", (width,))
    m[f"{canon}.b"] = _src(f"{disk}.bias", (width,))


def _dims(spec: ArchSpec) -> tuple[int, int, int, int, int, int]:
    a = spec.attention
    return (spec.hidden_size, a.num_heads, a.num_kv_heads, a.head_dim,
            spec.ffn.intermediate_size, spec.embeddings.vocab_size)


def _head(m: Mapping, spec: ArchSpec, disk: str = "lm_head") -> None:
    h, *_, v = _dims(spec)
    _linear(m, "head", disk, h, v)


def _block_slice(i: int, width: int, axis: int):
    """Columns (axis 1) or entries (axis 0) ``[i*width, (i+1)*width)``."""
    if axis == 1:
        return lambda a: a[:, i * width:(i + 1) * width]
    return lambda a: a[i * width:(i + 1) * width]


def _per_head(i: int, heads: int, hd: int, weight: bool):
    """Part ``i`` (q=0, k=1, v=2) of a per-head fused QKV: rows viewed [heads, 3, hd]."""
    if weight:
        return lambda a: a.reshape(heads, 3, hd, -1)[:, i].reshape(heads * hd, -1).T
    return lambda a: a.reshape(heads, 3, hd)[:, i].reshape(heads * hd)


def _conv1d(m: Mapping, canon: str, disk: str, fan_in: int, fan_out: int) -> None:
    """GPT-2's Conv1D ``disk`` ([in, out] + bias [out]): already canonical, no transpose."""
    m[f"{canon}.w"] = _src(f"{disk}.weight", (fan_in, fan_out))
    m[f"{canon}.b"] = _src(f"{disk}.bias", (fan_out,))


def _gpt2(spec: ArchSpec, p: str, n: Family) -> Mapping:
    h, nh, _, hd, inner, v = _dims(spec)
    m: Mapping = {"embed": _src(f"{p}wte.weight", (v, h)),
                  "dec.pos": _src(f"{p}wpe.weight", (spec.positions.max_positions, h))}
    for layer in range(spec.num_layers):
        d, c = f"{p}{n.layers}.{layer}.", f"dec.{layer}."
        _norm(m, f"{c}attn_norm", f"{d}ln_1", h)
        _norm(m, f"{c}ffn_norm", f"{d}ln_2", h)
        for i, part in enumerate("qkv"):  # [q | k | v] column blocks
            m[f"{c}{part}.w"] = _src(f"{d}{n.qkv}.weight", (h, 3 * h), _block_slice(i, h, 1))
            m[f"{c}{part}.b"] = _src(f"{d}{n.qkv}.bias", (3 * h,), _block_slice(i, h, 0))
        _conv1d(m, f"{c}o", f"{d}{n.o}", nh * hd, h)
        _conv1d(m, f"{c}up", f"{d}{n.up}", h, inner)
        _conv1d(m, f"{c}down", f"{d}{n.down}", inner, h)
    _norm(m, "dec.norm", f"{p}ln_f", h)
    _head(m, spec)
    return m


def _attention(m: Mapping, spec: ArchSpec, d: str, c: str, paths: tuple[str, str, str, str]) -> None:
    """Separate q, k, v, o projections ``{d}{paths[i]}`` as canonical ``{c}q|k|v|o``."""
    h, nh, nkv, hd, _, _ = _dims(spec)
    q, k, v, o = paths
    _linear(m, f"{c}q", f"{d}{q}", h, nh * hd)
    _linear(m, f"{c}k", f"{d}{k}", h, nkv * hd)
    _linear(m, f"{c}v", f"{d}{v}", h, nkv * hd)
    _linear(m, f"{c}o", f"{d}{o}", nh * hd, h)


def _llama(spec: ArchSpec, p: str, n: Family) -> Mapping:
    """llama, mistral, qwen2, mixtral and gpt_oss: the same skeleton, different FFNs."""
    h, nh, _, _, inner, v = _dims(spec)
    m: Mapping = {"embed": _src(f"{p}embed_tokens.weight", (v, h)),
                  "dec.norm.w": _src(f"{p}norm.weight", (h,))}
    for layer in range(spec.num_layers):
        d, c = f"{p}{n.layers}.{layer}.", f"dec.{layer}."
        _attention(m, spec, d, c, n.attention())
        m[f"{c}attn_norm.w"] = _src(f"{d}input_layernorm.weight", (h,))
        m[f"{c}ffn_norm.w"] = _src(f"{d}post_attention_layernorm.weight", (h,))
        m[f"{c}sinks"] = _src(f"{d}self_attn.sinks", (nh,))
        _linear(m, f"{c}gate", f"{d}{n.gate}", h, inner)
        _linear(m, f"{c}up", f"{d}{n.up}", h, inner)
        _linear(m, f"{c}down", f"{d}{n.down}", inner, h)
        if spec.moe is not None and spec.model_type == "mixtral":
            _mixtral_experts(m, spec, d, c)
        elif spec.moe is not None:
            _gpt_oss_experts(m, spec, d, c, n)
    _head(m, spec)
    return m


def _mixtral_experts(m: Mapping, spec: ArchSpec, d: str, c: str) -> None:
    h, *_, inner, _ = _dims(spec)
    e = spec.moe.num_experts
    m[f"{c}router.w"] = _src(f"{d}block_sparse_moe.gate.weight", (e, h), _t)
    for part, disk, shape in (("gate", "w1", (inner, h)), ("up", "w3", (inner, h)),
                              ("down", "w2", (h, inner))):
        names = tuple(f"{d}block_sparse_moe.experts.{i}.{disk}.weight" for i in range(e))
        m[f"{c}experts.{part}.w"] = Source(
            names, (shape,) * e, lambda *ws: np.stack([w.T for w in ws])
        )


def _columns(start: int):
    """Every other entry of the last axis from ``start``, made contiguous for BLAS."""
    return lambda a: np.ascontiguousarray(a[..., start::2])


def _gpt_oss_experts(m: Mapping, spec: ArchSpec, d: str, c: str, n: Family) -> None:
    h, *_, inner, _ = _dims(spec)
    e = spec.moe.num_experts
    x = f"{d}{n.experts}."
    _linear(m, f"{c}router", f"{d}{n.router}", h, e)
    for i, part in enumerate(("gate", "up")):  # interleaved: even columns gate, odd up
        m[f"{c}experts.{part}.w"] = _src(f"{x}gate_up_proj", (e, h, 2 * inner), _columns(i))
        m[f"{c}experts.{part}.b"] = _src(f"{x}gate_up_proj_bias", (e, 2 * inner), _columns(i))
    m[f"{c}experts.down.w"] = _src(f"{x}down_proj", (e, inner, h))
    m[f"{c}experts.down.b"] = _src(f"{x}down_proj_bias", (e, h))


def _fused_per_head(m: Mapping, spec: ArchSpec, c: str, disk: str) -> None:
    h, nh, _, hd, _, _ = _dims(spec)
    for i, part in enumerate("qkv"):
        m[f"{c}{part}.w"] = _src(f"{disk}.weight", (3 * nh * hd, h), _per_head(i, nh, hd, True))
        m[f"{c}{part}.b"] = _src(f"{disk}.bias", (3 * nh * hd,), _per_head(i, nh, hd, False))


def _neox_layer(m: Mapping, spec: ArchSpec, d: str, c: str, n: Family) -> None:
    """GPT-NeoX and BLOOM: LayerNorms, per-head fused QKV, dense out, dense_h_to_4h MLP."""
    h, nh, _, hd, inner, _ = _dims(spec)
    _norm(m, f"{c}attn_norm", f"{d}input_layernorm", h)
    _norm(m, f"{c}ffn_norm", f"{d}post_attention_layernorm", h)
    _fused_per_head(m, spec, c, f"{d}{n.qkv}")
    _linear(m, f"{c}o", f"{d}{n.o}", nh * hd, h)
    _linear(m, f"{c}up", f"{d}{n.up}", h, inner)
    _linear(m, f"{c}down", f"{d}{n.down}", inner, h)


def _gpt_neox(spec: ArchSpec, p: str, n: Family) -> Mapping:
    h, *_, v = _dims(spec)
    m: Mapping = {"embed": _src(f"{p}embed_in.weight", (v, h))}
    for layer in range(spec.num_layers):
        _neox_layer(m, spec, f"{p}{n.layers}.{layer}.", f"dec.{layer}.", n)
    _norm(m, "dec.norm", f"{p}final_layer_norm", h)
    _head(m, spec, "embed_out")
    return m


def _gptj(spec: ArchSpec, p: str, n: Family) -> Mapping:
    h, *_, inner, v = _dims(spec)
    m: Mapping = {"embed": _src(f"{p}wte.weight", (v, h))}
    for layer in range(spec.num_layers):
        d, c = f"{p}{n.layers}.{layer}.", f"dec.{layer}."
        _norm(m, f"{c}attn_norm", f"{d}ln_1", h)
        _attention(m, spec, d, c, n.attention())
        _linear(m, f"{c}up", f"{d}{n.up}", h, inner)
        _linear(m, f"{c}down", f"{d}{n.down}", inner, h)
    _norm(m, "dec.norm", f"{p}ln_f", h)
    _head(m, spec)
    return m


def _bloom(spec: ArchSpec, p: str, n: Family) -> Mapping:
    h, *_, v = _dims(spec)
    m: Mapping = {"embed": _src(f"{p}word_embeddings.weight", (v, h))}
    _norm(m, "dec.embed_norm", f"{p}word_embeddings_layernorm", h)
    for layer in range(spec.num_layers):
        _neox_layer(m, spec, f"{p}{n.layers}.{layer}.", f"dec.{layer}.", n)
    _norm(m, "dec.norm", f"{p}ln_f", h)
    return m


def _t5(spec: ArchSpec, p: str, n: Family) -> Mapping:
    """T5 v1.0 (relu, tied, scaled) and v1.1 (gated-gelu ``wi_0``/``wi_1``, ``lm_head``).

    Each stack's relative-bias table lives in its block 0 and serves every layer; the decoder's
    sublayers are self-attention (layer.0), cross-attention (layer.1) and FFN (layer.2).
    """
    h, nh, _, _, inner, v = _dims(spec)
    buckets = spec.positions.relative.num_buckets
    m: Mapping = {"embed": _src(f"{p}shared.weight", (v, h))}
    for stack, disk, layers in (("enc", "encoder", spec.num_layers),
                                ("dec", "decoder", spec.num_decoder_layers or spec.num_layers)):
        m[f"{stack}.rel_bias"] = _src(
            f"{p}{disk}.{n.layers}.0.layer.0.SelfAttention.relative_attention_bias.weight", (buckets, nh))
        m[f"{stack}.norm.w"] = _src(f"{p}{disk}.final_layer_norm.weight", (h,))
        for layer in range(layers):
            d, c = f"{p}{disk}.{n.layers}.{layer}.layer.", f"{stack}.{layer}."
            m[f"{c}attn_norm.w"] = _src(f"{d}0.layer_norm.weight", (h,))
            _attention(m, spec, f"{d}0.", c, n.attention())
            ff = 1
            if stack == "dec":
                m[f"{c}cross_norm.w"] = _src(f"{d}1.layer_norm.weight", (h,))
                _attention(m, spec, f"{d}1.", f"{c}x", n.attention(cross=True))
                ff = 2
            m[f"{c}ffn_norm.w"] = _src(f"{d}{ff}.layer_norm.weight", (h,))
            f = f"{d}{ff}."
            _linear(m, f"{c}up", f"{f}{n.up_path(spec.ffn.kind == 'gated')}", h, inner)
            _linear(m, f"{c}gate", f"{f}{n.gate}", h, inner)
            _linear(m, f"{c}down", f"{f}{n.down}", inner, h)
    _head(m, spec)
    return m


def _bert(spec: ArchSpec, p: str, n: Family) -> Mapping:
    """BertForMaskedLM: post-LN encoder, MLM transform and tied decoder with its own bias."""
    h, *_, inner, v = _dims(spec)
    e = f"{p}embeddings."
    m: Mapping = {
        "embed": _src(f"{e}word_embeddings.weight", (v, h)),
        "enc.pos": _src(f"{e}position_embeddings.weight", (spec.positions.max_positions, h)),
        "token_type": _src(f"{e}token_type_embeddings.weight", (spec.embeddings.token_types, h)),
    }
    _norm(m, "enc.embed_norm", f"{e}LayerNorm", h)
    for layer in range(spec.num_layers):
        d, c = f"{p}{n.layers}.{layer}.", f"enc.{layer}."
        _attention(m, spec, d, c, n.attention())
        _norm(m, f"{c}attn_norm", f"{d}attention.output.LayerNorm", h)
        _linear(m, f"{c}up", f"{d}{n.up}", h, inner)
        _linear(m, f"{c}down", f"{d}{n.down}", inner, h)
        _norm(m, f"{c}ffn_norm", f"{d}output.LayerNorm", h)
    _linear(m, "head.transform", "cls.predictions.transform.dense", h, h)
    _norm(m, "head.transform_norm", "cls.predictions.transform.LayerNorm", h)
    _head(m, spec, "cls.predictions.decoder")
    m["head.b"] = _src("cls.predictions.bias", (v,))  # the decoder's bias, stored beside it
    return m


def _bart(spec: ArchSpec, p: str, n: Family) -> Mapping:
    """BartForConditionalGeneration: learned positions (2 extra rows), post-LN, logits bias."""
    h, *_, inner, v = _dims(spec)
    rows = spec.positions.max_positions + spec.positions.offset
    m: Mapping = {"embed": _src(f"{p}shared.weight", (v, h))}
    for stack, disk, layers in (("enc", "encoder", spec.num_layers),
                                ("dec", "decoder", spec.num_decoder_layers or spec.num_layers)):
        m[f"{stack}.pos"] = _src(f"{p}{disk}.embed_positions.weight", (rows, h))
        _norm(m, f"{stack}.embed_norm", f"{p}{disk}.layernorm_embedding", h)
        for layer in range(layers):
            d, c = f"{p}{disk}.{n.layers}.{layer}.", f"{stack}.{layer}."
            _attention(m, spec, d, c, n.attention())
            _norm(m, f"{c}attn_norm", f"{d}self_attn_layer_norm", h)
            if stack == "dec":
                _attention(m, spec, d, f"{c}x", n.attention(cross=True))
                _norm(m, f"{c}cross_norm", f"{d}encoder_attn_layer_norm", h)
            _linear(m, f"{c}up", f"{d}{n.up}", h, inner)
            _linear(m, f"{c}down", f"{d}{n.down}", inner, h)
            _norm(m, f"{c}ffn_norm", f"{d}final_layer_norm", h)
    _head(m, spec)
    m["head.b"] = _src("final_logits_bias", (1, v), lambda a: a.reshape(-1))  # a buffer
    return m


# model_type -> the builder of its name mapping (prefixes and module paths: specs.families).
BUILDERS: dict[str, Callable[[ArchSpec, str, Family], Mapping]] = {
    "gpt2": _gpt2,
    **dict.fromkeys(("llama", "mistral", "qwen2", "mixtral", "gpt_oss"), _llama),
    "gpt_neox": _gpt_neox,
    "gptj": _gptj,
    "bloom": _bloom,
    "t5": _t5,
    "bert": _bert,
    "bart": _bart,
}


def quirks_from_config(config: dict) -> Quirks:
    """Behaviour outside the spec that a config switches on."""
    return Quirks(
        inverse_layer_scale=bool(config.get("scale_attn_by_inverse_layer_idx", False)),
        residual_from_normed=bool(config.get("apply_residual_connection_post_layernorm", False)),
        logits_bias=config.get("model_type") == "bart",
    )


def load_weights(spec: ArchSpec, folder: Path, quirks: Quirks = Quirks(),
                 progress: Progress | None = None) -> dict[str, np.ndarray]:
    """Canonical float32 weights of ``spec`` from the safetensors checkpoint in ``folder``.

    ``progress(bytes_read, total_bytes)`` is called after each on-disk tensor is read.
    """
    if spec.model_type not in BUILDERS:
        raise LlmarchError(
            f"forward cannot load {spec.model_type!r} weights",
            f"supported: {', '.join(BUILDERS)}",
        )
    fam = FAMILIES[spec.model_type]
    ckpt = Checkpoint(folder)
    prefix = next((p for p in fam.prefixes if p + fam.probe in ckpt), fam.prefixes[0])
    mapping = BUILDERS[spec.model_type](spec, prefix, fam)
    wanted = {name: mapping[name] for name in expected_shapes(spec, quirks)}
    _check(wanted, ckpt)
    cache: dict[str, np.ndarray] = {}
    total = sum(ckpt.nbytes(n) for n in {n for src in wanted.values() for n in src.names})
    done = 0
    weights = {}
    for canon, src in wanted.items():
        arrays = []
        for name in src.names:
            if name not in cache:
                cache[name] = ckpt.get(name)
                done += ckpt.nbytes(name)
                if progress is not None:
                    progress(done, total)
            arrays.append(cache[name])
        weights[canon] = src.fn(*arrays)  # views of the read tensors where possible
    return weights


def _check(wanted: Mapping, ckpt: Checkpoint) -> None:
    """Every on-disk tensor present with the shape the config implies, else LlmarchError."""
    missing: list[str] = []
    for src in wanted.values():
        for name, shape in zip(src.names, src.shapes, strict=True):
            if name not in ckpt:
                if name not in missing:
                    missing.append(name)
            elif ckpt.shape(name) != shape:
                raise LlmarchError(
                    f"checkpoint tensor {name} has shape {list(ckpt.shape(name))} "
                    f"but config.json implies {list(shape)}"
                )
    if missing:
        more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
        raise LlmarchError(f"checkpoint is missing {', '.join(missing[:3])}{more}")


def load_hf_model(model: ResolvedModel, dtype: str = "fp32", tokens: list[int] | None = None,
                  progress: Progress | None = None) -> Model:
    """A Model with the resolved spec of a checkpoint folder (its config.json, read once by
    the loader) and the weights beside it.

    ``tokens``, when given, are checked against the config before any weight is read;
    ``progress`` is passed to ``load_weights``.
    """
    if model.folder is None or model.config is None:
        raise LlmarchError(f"{model.ref}: not a folder with config.json and safetensors weights")
    spec = model.spec
    if tokens is not None:
        check_tokens(spec, tokens)
    quirks = quirks_from_config(model.config)
    return Model(spec, load_weights(spec, model.folder, quirks, progress), dtype=dtype, quirks=quirks)
