"""What architecture a checkpoint holds: an ArchSpec where llmarch can build one.

Safetensors weights: the ``config.json`` beside them (``specs.hf``). GGUF: ``general.architecture``
and its hyper-parameters (``{arch}.block_count``, ``{arch}.embedding_length`` ...) rewritten as
the Hugging Face config keys that ``specs.hf`` reads, for every GGUF architecture whose
transformers ``model_type`` llmarch reads (llama.cpp writes Mistral as ``llama`` and Mixtral as
``llama`` with experts). Without either, the family and sizes are guessed from tensor names and
shapes, with no spec.
"""

from __future__ import annotations

import re
from typing import Any

from llmarch_cli.checkpoints.checkpoint import Checkpoint
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.model import ArchSpec

# GGUF general.architecture -> transformers model_type, where the names differ.
GGUF_MODEL_TYPES = {"gptneox": "gpt_neox", "gpt-oss": "gpt_oss"}
# GGUF hyper-parameter (after "{arch}.") -> the config.json keys specs.hf reads.
GGUF_KEYS: dict[str, tuple[str, ...]] = {
    "block_count": ("num_hidden_layers",),
    "embedding_length": ("hidden_size",),
    "feed_forward_length": ("intermediate_size", "n_inner"),
    "context_length": ("max_position_embeddings", "n_positions", "seq_length"),
    "attention.head_count": ("num_attention_heads",),
    "attention.head_count_kv": ("num_key_value_heads",),
    "attention.key_length": ("head_dim",),
    "attention.layer_norm_rms_epsilon": ("rms_norm_eps",),
    "attention.layer_norm_epsilon": ("layer_norm_eps", "layer_norm_epsilon"),
    "attention.sliding_window": ("sliding_window",),
    "rope.freq_base": ("rope_theta",),
    "expert_count": ("num_local_experts",),
    "expert_used_count": ("num_experts_per_tok",),
    "vocab_size": ("vocab_size",),
    "use_parallel_residual": ("use_parallel_residual",),
}
LAYER = re.compile(r"\.(\d+)\.")


def gguf_config(metadata: dict[str, Any], tensor_names: set[str]) -> dict[str, Any]:
    """A config.json mapping equivalent to a GGUF file's hyper-parameters."""
    arch = metadata.get("general.architecture")
    if not isinstance(arch, str):
        raise LlmarchError("GGUF file has no general.architecture")
    config: dict[str, Any] = {"model_type": GGUF_MODEL_TYPES.get(arch, arch)}
    for key, targets in GGUF_KEYS.items():
        value = metadata.get(f"{arch}.{key}")
        if isinstance(value, list):
            raise LlmarchError(f"GGUF {arch}.{key} varies per layer; llmarch reads one value")
        if value is not None:
            config.update(dict.fromkeys(targets, value))
    if "vocab_size" not in config:
        tokens = metadata.get("tokenizer.ggml.tokens")
        length = getattr(tokens, "length", None) or (len(tokens) if isinstance(tokens, list) else None)
        if length:
            config["vocab_size"] = length
    if arch == "llama" and config.get("num_local_experts"):
        config["model_type"] = "mixtral"
    if config["model_type"] == "gpt_neox" and f"{arch}.rope.dimension_count" in metadata:
        hidden, heads = config.get("hidden_size"), config.get("num_attention_heads")
        rotary = metadata[f"{arch}.rope.dimension_count"]
        if not all(type(v) is int and v > 0 for v in (hidden, heads, rotary)) or hidden < heads:
            raise LlmarchError(f"GGUF {arch}.rope.dimension_count needs positive integer "
                               f"{arch}.embedding_length and {arch}.attention.head_count")
        config["rotary_pct"] = rotary / (hidden // heads)
    if config["model_type"] == "gptj" and f"{arch}.rope.dimension_count" in metadata:
        config["rotary_dim"] = metadata[f"{arch}.rope.dimension_count"]
    config["tie_word_embeddings"] = "output.weight" not in tensor_names
    if "blk.0.attn_q.bias" in tensor_names and config["model_type"] == "llama":
        config["attention_bias"] = True
    return config


def infer(ckpt: Checkpoint, spec_id: str) -> tuple[dict[str, Any], ArchSpec | None]:
    """(Architecture fields, spec or None) of a checkpoint."""
    from llmarch_cli.specs.hf import SUPPORTED_MODEL_TYPES, spec_from_hf_config

    names = {t.name for t in ckpt.tensors}
    if ckpt.format == "gguf":
        source, meta = "gguf metadata", ckpt.metadata
        fields = {"name": meta.get("general.name") if isinstance(meta.get("general.name"), str) else None}
        try:
            config = gguf_config(meta, names)
        except LlmarchError as exc:
            return {"source": source, "model_type": None, **fields, "note": exc.message}, None
    elif ckpt.config is not None:
        source, config, fields = "config.json", ckpt.config, {}
    else:
        return _from_names(ckpt), None
    model_type = config.get("model_type") if isinstance(config.get("model_type"), str) else None
    if source == "gguf metadata" and model_type not in SUPPORTED_MODEL_TYPES:
        note = (f"llmarch has no spec reader for GGUF architecture "
                f"{ckpt.metadata.get('general.architecture')!r} (it reads {', '.join(SUPPORTED_MODEL_TYPES)})")
        return {"source": source, "model_type": model_type, **fields, "note": note}, None
    try:
        spec = spec_from_hf_config(config, spec_id=spec_id)
    except LlmarchError as exc:
        return {"source": source, "model_type": model_type, **fields, "note": exc.message}, None
    return {"source": source, "model_type": model_type, **fields, **summary(spec)}, spec


def summary(spec: ArchSpec) -> dict[str, Any]:
    return {"num_layers": spec.num_layers, "hidden_size": spec.hidden_size,
            "num_heads": spec.attention.num_heads, "num_kv_heads": spec.attention.num_kv_heads,
            "vocab_size": spec.embeddings.vocab_size,
            "num_experts": spec.moe.num_experts if spec.moe else None}


def _from_names(ckpt: Checkpoint) -> dict[str, Any]:
    """Family from the tensor that reveals it (``specs.families`` probes), sizes from shapes."""
    from llmarch_cli.specs.families import FAMILIES

    names = {t.name: t for t in ckpt.tensors}
    layers = {int(m.group(1)) for n in names if (m := LAYER.search(n))}
    fields: dict[str, Any] = {"source": "tensor names", "model_type": None,
                              "num_layers": max(layers) + 1 if layers else None,
                              "note": "no config.json beside the weights: no spec, no memory figures"}
    for model_type, fam in FAMILIES.items():
        for prefix in fam.prefixes:
            embed = names.get(prefix + fam.probe)
            if embed is not None and len(embed.shape) == 2:
                fields.update(model_type=model_type, vocab_size=embed.shape[0],
                              hidden_size=embed.shape[1])
                return fields
    return fields
