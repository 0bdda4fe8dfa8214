"""Hugging Face checkpoints -> the forward pass's weights (``forward.layout``).

Every tensor comes from its ``specs.inventory`` entry: the on-disk name is the entry's
transformers name (``{i}`` filled in, the base-model prefix the checkpoint carries), the on-disk
shape is the entry's shape, and a matrix stored ``[out, in]`` is transposed to the forward's
``[in, out]``. All names and shapes are checked against the safetensors headers before any
tensor is read, so a missing tensor or a shape that contradicts the config fails at once,
naming the tensor. Checkpoints carry the names ``save_pretrained`` writes (the original hub
names), which differ from transformers 5's module names in a few families:

* GPT-2's Conv1D matrices are already ``[in, out]``; its fused ``c_attn`` columns are
  ``[q | k | v]`` blocks, as the forward keeps them.
* GPT-NeoX and BLOOM fuse q, k, v per head: rows viewed ``[heads, 3, head_dim]`` are regrouped
  into ``[q | k | v]`` blocks. GPT-NeoX's head is ``embed_out`` on disk.
* Mixtral is stored expert by expert (``block_sparse_moe.experts.{e}.w1|w3|w2``: gate, up,
  down) with its router at ``block_sparse_moe.gate``.
* gpt-oss experts are ``gate_up_proj [E, H, 2I]`` with gate and up interleaved along the last
  axis (even columns gate, odd columns up), regrouped into ``[gate | up]`` halves. Llama 4's
  ``feed_forward.experts.gate_up_proj [E, H, 2I]`` is already ``[gate | up]``; a ``llama4``
  (text + vision) checkpoint keeps its language model under ``language_model.``.
* T5 keeps each stack's relative-bias table in block 0; transformers 5 ties every T5 head to
  ``shared``, but v1.1 checkpoints (``tie_word_embeddings: false``) ship their own ``lm_head``.
* BERT's MLM decoder bias is ``cls.predictions.bias``; BART's ``final_logits_bias [1, V]`` is a
  buffer the spec does not count (``Quirks.logits_bias``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from llmarch_cli.checkpoints.hub_layout import EXPERT_PARTS
from llmarch_cli.errors import LlmarchError
from llmarch_cli.forward.checkpoint import Checkpoint
from llmarch_cli.forward.layout import entries
from llmarch_cli.forward.model import (
    LOGITS_BIAS,
    Model,
    Quirks,
    check_tokens,
    correction_bias_keys,
    expected_shapes,
)
from llmarch_cli.specs.families import FAMILIES
from llmarch_cli.specs.inventory import Weight
from llmarch_cli.specs.loader import ResolvedModel
from llmarch_cli.specs.model import ArchSpec

SUPPORTED = ("gpt2", "llama", "mistral", "qwen2", "mixtral", "gpt_oss", "gpt_neox", "gptj",
             "bloom", "t5", "bert", "bart", "qwen3", "qwen3_moe", "gemma2", "gemma3_text", "olmo2",
             "phi3", "deepseek_v2", "deepseek_v3", "falcon", "qwen3_next", "llama4_text", "llama4")


@dataclass(frozen=True)
class Source:
    """Forward tensor = fn(*on-disk tensors); ``shapes`` are the shapes the config implies."""

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    fn: Callable[..., np.ndarray]


Mapping = dict[str, Source]
Progress = Callable[[int, int], None]  # (bytes done, bytes in all)


def _same(a: np.ndarray) -> np.ndarray:
    return a


def _swap(a: np.ndarray) -> np.ndarray:
    """[.., out, in] -> [.., in, out]."""
    return np.swapaxes(a, -1, -2)


def _generic(w: Weight, name: str) -> Source:
    """The tensor as transformers names and stores it, made ``[in, out]`` where needed."""
    stored_out_in = w.in_out is not None and w.role != "embedding" and not w.stored_in_out
    return Source((name,), (w.shape,), _swap if stored_out_in else _same)


def _per_head_qkv(spec: ArchSpec, w: Weight, name: str) -> Source:
    """GPT-NeoX/BLOOM fused rows [heads, 3, head_dim] -> [q | k | v] blocks (columns for W)."""
    nh, hd = spec.attention.num_heads, spec.attention.head_dim
    if w.name.endswith(".weight"):
        fn = lambda a: a.reshape(nh, 3, hd, -1).transpose(1, 0, 2, 3).reshape(3 * nh * hd, -1).T  # noqa: E731
    else:
        fn = lambda a: a.reshape(nh, 3, hd).transpose(1, 0, 2).reshape(-1)  # noqa: E731
    return Source((name,), (w.shape,), fn)


def _neox(spec: ArchSpec, w: Weight, name: str) -> Source | None:
    if w.name.startswith("attn.qkv."):
        return _per_head_qkv(spec, w, name)
    if w.name == "lm_head.weight":
        return Source(("embed_out.weight",), (w.shape,), _swap)
    return None


def _grouped_qkv(spec: ArchSpec, w: Weight, name: str) -> Source:
    """Falcon's new decoder: rows [kv groups, g + 2, head_dim] (a group's g query heads, then
    its k and v) -> [q | k | v] blocks (columns for W)."""
    a = spec.attention
    nkv, hd = a.num_kv_heads, a.head_dim
    g = a.num_heads // nkv

    def regroup(x: np.ndarray) -> np.ndarray:  # [(nh + 2 nkv) hd, ...] -> same, q | k | v
        rows = x.reshape(nkv, g + 2, hd, -1)
        parts = (rows[:, :g], rows[:, g:g + 1], rows[:, g + 1:])
        return np.concatenate([p.reshape(-1, rows.shape[-1]) for p in parts]).reshape(x.shape)

    if w.name.endswith(".weight"):
        return Source((name,), (w.shape,), lambda x: np.ascontiguousarray(regroup(x).T))
    return Source((name,), (w.shape,), regroup)


def _falcon(spec: ArchSpec, w: Weight, name: str, grouped: bool = False) -> Source | None:
    """Falcon's fused query_key_value: grouped rows (new decoder), per-head rows [nh, 3, hd]
    (old decoder without multi-query), or [q heads | k | v] already (old multi-query)."""
    if not w.name.startswith("attn.qkv."):
        return None
    if grouped:
        return _grouped_qkv(spec, w, name)
    a = spec.attention
    return _per_head_qkv(spec, w, name) if a.num_kv_heads == a.num_heads > 1 else None


def _bloom(spec: ArchSpec, w: Weight, name: str) -> Source | None:
    return _per_head_qkv(spec, w, name) if w.name.startswith("attn.qkv.") else None


def _per_expert(spec: ArchSpec, w: Weight, block: str, router: str,
                parts: tuple[str, str, str]) -> Source | None:
    """Router and experts from tensors stored expert by expert under ``block``
    (``{block}experts.{e}.{gate|up|down}.weight``), the router at ``{block}{router}``."""
    if w.role not in ("router", "experts"):
        return None
    if w.role == "router":
        return Source((f"{block}{router}.weight",), (w.shape,), _swap)
    e, h, i = spec.moe.num_experts, spec.hidden_size, spec.ffn.intermediate_size
    gate, up, down = parts

    def expert_names(disk: str) -> tuple[str, ...]:
        return tuple(f"{block}experts.{x}.{disk}.weight" for x in range(e))

    if w.name == "experts.down":  # [H, I] each -> [E, I, H]
        return Source(expert_names(down), ((h, i),) * e, lambda *ws: np.stack([d.T for d in ws]))

    def gate_up(*ws: np.ndarray) -> np.ndarray:  # gate, up [I, H] each -> [E, H, 2I]
        return np.stack([np.concatenate((g.T, u.T), axis=1) for g, u in zip(ws[:e], ws[e:], strict=True)])

    return Source(expert_names(gate) + expert_names(up), ((i, h),) * (2 * e), gate_up)


def _mixtral(spec: ArchSpec, w: Weight, name: str) -> Source | None:
    """Mixtral: ``block_sparse_moe.experts.{e}.w1|w3|w2`` and ``block_sparse_moe.gate``."""
    block = name.rsplit("mlp.", 1)[0] + "block_sparse_moe."
    return _per_expert(spec, w, block, "gate", EXPERT_PARTS["mixtral"])


def _mlp_experts(spec: ArchSpec, w: Weight, name: str) -> Source | None:
    """Qwen3-MoE, DeepSeek-V2/V3: ``mlp.experts.{e}.gate_proj|up_proj|down_proj``, ``mlp.gate``."""
    block = name.rsplit("mlp.", 1)[0] + "mlp."
    return _per_expert(spec, w, block, "gate", EXPERT_PARTS["qwen3_moe"])


def _halves(a: np.ndarray) -> np.ndarray:
    """Interleaved last axis (even gate, odd up) -> [gate | up] halves."""
    return np.concatenate((a[..., 0::2], a[..., 1::2]), axis=-1)


def _gpt_oss(spec: ArchSpec, w: Weight, name: str) -> Source | None:
    if w.name in ("experts.gate_up", "experts.gate_up_bias"):
        return Source((name,), (w.shape,), _halves)
    return None


# model_type -> the tensors whose checkpoint form differs from transformers 5's (else None).
SPECIAL: dict[str, Callable[[ArchSpec, Weight, str], Source | None]] = {
    "gpt_neox": _neox,
    "bloom": _bloom,
    "mixtral": _mixtral,
    "qwen3_moe": _mlp_experts,
    "deepseek_v2": _mlp_experts,
    "deepseek_v3": _mlp_experts,
    "qwen3_next": _mlp_experts,
    "falcon": _falcon,
    "gpt_oss": _gpt_oss,
}


def mapping(spec: ArchSpec, prefix: str, quirks: Quirks = Quirks()) -> Mapping:
    """Forward key -> its on-disk source, for a checkpoint whose base-model prefix is ``prefix``."""
    canonical = FAMILIES[spec.model_type].prefixes[0]
    special = SPECIAL.get(spec.model_type)
    if spec.model_type == "falcon":
        special = partial(_falcon, grouped=quirks.grouped_qkv)
    m: Mapping = {}
    for key, w, layer in entries(spec):
        name = w.hf if layer is None else w.hf.replace("{i}", str(layer))
        if name.startswith(canonical):
            name = prefix + name[len(canonical):]
        m[key] = (special and special(spec, w, name)) or _generic(w, name)
    if quirks.logits_bias:  # BART's buffer
        vocab = spec.embeddings.vocab_size
        m[LOGITS_BIAS] = Source(("final_logits_bias",), ((1, vocab),), lambda a: a.reshape(-1))
    if quirks.correction_bias:  # DeepSeek-V3's router buffers, saved beside the router
        for key in correction_bias_keys(spec):
            layer = key.split(".")[1]
            m[key] = Source((f"{prefix}layers.{layer}.mlp.gate.e_score_correction_bias",),
                            ((spec.moe.num_experts,),), _same)
    return m


def quirks_from_config(config: dict) -> Quirks:
    """Behaviour outside the spec that a config switches on."""
    return Quirks(
        inverse_layer_scale=bool(config.get("scale_attn_by_inverse_layer_idx", False)),
        residual_from_normed=bool(config.get("apply_residual_connection_post_layernorm", False)),
        logits_bias=config.get("model_type") == "bart",
        grouped_qkv=config.get("model_type") == "falcon"
        and bool(config.get("new_decoder_architecture", False)),
        correction_bias=config.get("model_type") == "deepseek_v3"
        and config.get("topk_method", "noaux_tc") == "noaux_tc",
    )


def load_weights(spec: ArchSpec, folder: Path, quirks: Quirks = Quirks(),
                 progress: Progress | None = None) -> dict[str, np.ndarray]:
    """Forward float32 weights of ``spec`` from the safetensors checkpoint in ``folder``.

    ``progress(bytes_read, total_bytes)`` is called after each on-disk tensor is read.
    """
    if spec.model_type not in SUPPORTED:
        raise LlmarchError(
            f"forward cannot load {spec.model_type!r} weights",
            f"supported: {', '.join(SUPPORTED)}",
        )
    fam = FAMILIES[spec.model_type]
    ckpt = Checkpoint(folder)
    prefix = next((p for p in fam.prefixes if p + fam.probe in ckpt), fam.prefixes[0])
    sources = mapping(spec, prefix, quirks)
    wanted = {name: sources[name] for name in expected_shapes(spec, quirks)}
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
