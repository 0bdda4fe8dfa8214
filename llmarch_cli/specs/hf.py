"""Hugging Face ``config.json`` -> ArchSpec, one reader per ``model_type``.

Each reader applies the family's transformers class defaults (transformers 5.x) to missing keys
and accepts both RoPE schemas: transformers 5's nested ``rope_parameters`` and the 4.x keys
(``rope_theta``, ``rope_scaling`` with ``type`` or ``rope_type``, GPT-NeoX/Qwen's ``rotary_pct``
and ``rotary_emb_base``). When both appear, ``rope_parameters`` wins over ``rope_scaling``, which
wins over top-level keys, which win over defaults. Qwen 1 (``qwen``) has no transformers class;
its reader follows the checkpoint's own ``modeling_qwen.py``. Every bad value is an
``LlmarchError`` with one line naming the key.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial
from typing import Any

from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.families import FAMILY_OF_MODEL_TYPE
from llmarch_cli.specs.model import ArchSpec, head_dim_for
from llmarch_cli.specs.validation import validate_spec

# transformers' ACT2FN names -> ArchSpec activations (gelu_new/fast/pytorch_tanh are one function).
_ACTIVATIONS = {
    "silu": "silu",
    "swish": "silu",
    "gelu": "gelu",
    "gelu_new": "gelu_tanh",
    "gelu_fast": "gelu_tanh",
    "gelu_pytorch_tanh": "gelu_tanh",
    "quick_gelu": "quick_gelu",
    "relu": "relu",
}

_LAYER_TYPES = {
    "full_attention": "full",
    "sliding_attention": "sliding",
    "chunked_attention": "chunked",
    "linear_attention": "linear",
    "mamba": "mamba",
}
_SCALED_ROPE = ("linear", "dynamic", "yarn", "llama3", "longrope")
# rope_parameters keys that RopeScaling holds under the same name.
_SCALING_KEYS = (
    "low_freq_factor", "high_freq_factor", "beta_fast", "beta_slow", "truncate",
    "attention_factor", "mscale", "mscale_all_dim", "short_factor", "long_factor",
)
_MISSING = object()


class _Config:
    """Typed, validated access to a config.json mapping; errors name the key."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def raw(self, *keys: str, default: Any = _MISSING) -> Any:
        """The value of the first key present (null included), else ``default``."""
        for key in keys:
            if key in self.data:
                return self.data[key]
        if default is _MISSING:
            raise LlmarchError(f"config.json has no {keys[0]!r}")
        return default

    def size(self, *keys: str, default: Any = _MISSING) -> int:
        """A positive integer (integral floats accepted)."""
        return _positive_int(keys[0], self.raw(*keys, default=default))

    def opt_size(self, *keys: str) -> int | None:
        """A positive integer, or None when the key is missing or null."""
        value = self.raw(*keys, default=None)
        return None if value is None else _positive_int(keys[0], value)

    def number(self, *keys: str, default: Any = _MISSING) -> float:
        return _finite(keys[0], self.raw(*keys, default=default))

    def flag(self, key: str, default: bool) -> bool:
        value = self.raw(key, default=default)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise LlmarchError(f"config.json: {key} must be true or false, got {value!r}")
        return value

    def text(self, key: str, default: str) -> str:
        value = self.raw(key, default=default)
        if not isinstance(value, str):
            raise LlmarchError(f"config.json: {key} must be a string, got {value!r}")
        return value


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise LlmarchError(f"config.json: {key} must be a positive integer, got {value!r}")
    return value


def _finite(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LlmarchError(f"config.json: {key} must be a finite number, got {value!r}")
    return float(value)


def _activation(key: str, name: Any) -> str:
    if not isinstance(name, str) or name not in _ACTIVATIONS:
        known = ", ".join(sorted(_ACTIVATIONS))
        raise LlmarchError(f"config.json: {key} {name!r} is not supported (known: {known})")
    return _ACTIVATIONS[name]


def _split_heads(hidden: int, heads: int) -> int:
    """hidden / heads, or an LlmarchError when the heads do not divide the hidden size."""
    try:
        return head_dim_for(hidden, heads)
    except ValueError as exc:
        raise LlmarchError(f"config.json: {exc}") from None


def _mha(heads: int, head_dim: int, bias: bool, **extra: Any) -> dict[str, Any]:
    """attention for multi-head families: as many KV heads as query heads, one bias flag."""
    biases = dict.fromkeys(("q_bias", "k_bias", "v_bias", "o_bias"), bias)
    return {"num_heads": heads, "num_kv_heads": heads, "head_dim": head_dim, **biases, **extra}


def _plain_ffn(cfg: _Config, act_key: str, default_act: str, width: int) -> dict[str, Any]:
    """ffn for act(x W1 + b1) W2 + b2 families."""
    act = _activation(act_key, cfg.raw(act_key, default=default_act))
    return {"kind": "plain", "activation": act, "intermediate_size": width, "bias": True}


def _kv_heads(cfg: _Config, heads: int, default: int | None = None) -> int:
    """num_key_value_heads; null (and, by default, missing) -> MHA."""
    value = cfg.raw("num_key_value_heads", default=default)
    return heads if value is None else _positive_int("num_key_value_heads", value)


# ---------------------------------------------------------------------------- RoPE


def _rope_settings(
    cfg: _Config, default_theta: float, default_scaling: dict[str, Any] | None = None
) -> dict[str, Any]:
    """RoPE keys merged by priority: rope_parameters > rope_scaling > top-level > defaults."""
    settings: dict[str, Any] = {"rope_theta": default_theta}
    nested = {key: cfg.raw(key, default=None) for key in ("rope_scaling", "rope_parameters")}
    for key, value in nested.items():
        if value is not None and not isinstance(value, dict):
            raise LlmarchError(f"config.json: {key} must be an object or null, got {value!r}")
    if default_scaling and not any(nested.values()):
        settings.update(default_scaling)
    for key, name in (
        ("rotary_emb_base", "rope_theta"),
        ("rope_theta", "rope_theta"),
        ("rotary_pct", "partial_rotary_factor"),
        ("partial_rotary_factor", "partial_rotary_factor"),
    ):
        if cfg.raw(key, default=None) is not None:
            settings[name] = cfg.raw(key)
    for part in nested.values():  # rope_scaling first, so rope_parameters wins
        if part:
            part = dict(part)
            if "type" in part:
                part.setdefault("rope_type", part.pop("type"))
            settings.update({k: v for k, v in part.items() if v is not None})
    settings.setdefault("rope_type", "default")
    return settings


def _rope(
    settings: dict[str, Any],
    head_dim: int,
    max_positions: int,
    *,
    default_fraction: float = 1.0,
    fraction_always: bool = False,
) -> dict[str, Any]:
    """positions.rope from merged settings. The Llama family's default RoPE rotates the whole
    head and ignores partial_rotary_factor; scaled types (and NeoX/Qwen 1) honour it."""
    kind = settings["rope_type"]
    if kind != "default" and (not isinstance(kind, str) or kind not in _SCALED_ROPE):
        known = ", ".join(("default", *_SCALED_ROPE))
        raise LlmarchError(f"config.json: rope_type {kind!r} is not supported (known: {known})")
    fraction = _finite("partial_rotary_factor", settings.get("partial_rotary_factor", default_fraction))
    if kind == "default" and not fraction_always:
        fraction = 1.0
    rope: dict[str, Any] = {
        "theta": _finite("rope_theta", settings["rope_theta"]),
        "rotary_dim": int(head_dim * fraction),
    }
    if kind != "default":
        rope["scaling"] = _rope_scaling(kind, settings, max_positions)
    return rope


def _rope_scaling(kind: str, s: dict[str, Any], max_positions: int) -> dict[str, Any]:
    original = s.get("original_max_position_embeddings")
    if original is None and kind in ("llama3", "yarn", "longrope"):
        original = max_positions
    factor = s.get("factor")
    if factor is None and kind in ("yarn", "longrope"):
        factor = max_positions / _positive_int("original_max_position_embeddings", original)
    if factor is None:
        raise LlmarchError(f"config.json: rope scaling {kind!r} needs a factor")
    scaling = {"kind": kind, "factor": factor, "original_max_positions": original}
    scaling.update({key: s[key] for key in _SCALING_KEYS if s.get(key) is not None})
    return scaling


def _window(
    layers: int, window: int | None, hf_types: Any = None
) -> tuple[int | None, tuple[str, ...] | None]:
    """(sliding_window, layer_types) with all-full -> (None, None), all-sliding -> (W, None)."""
    if window is None:
        return None, None
    if hf_types is None:
        return window, None
    local_global = ("full_attention", "sliding_attention")
    if not isinstance(hf_types, list) or any(
        not isinstance(t, str) or t not in local_global for t in hf_types
    ):
        raise LlmarchError(f"config.json: layer_types must be a list of {', '.join(local_global)}")
    types = tuple(_LAYER_TYPES[t] for t in hf_types)
    if "sliding" not in types:
        return None, None
    if "full" not in types and len(types) == layers:
        return window, None
    return window, types


def _opt_window(cfg: _Config, default: int | None) -> int | None:
    value = cfg.raw("sliding_window", default=default)
    return None if value is None else _positive_int("sliding_window", value)


# ---------------------------------------------------------------------------- families


def _llama_family(cfg: _Config, model_type: str) -> dict[str, Any]:
    """llama, mistral, mixtral, qwen2, gpt_oss: pre-RMSNorm, SwiGLU (or MoE), RoPE."""
    d = _LLAMA_DEFAULTS[model_type]
    hidden = cfg.size("hidden_size", default=d["hidden_size"])
    layers = cfg.size("num_hidden_layers", default=d["num_hidden_layers"])
    heads = cfg.size("num_attention_heads", default=d["num_attention_heads"])
    kv = _kv_heads(cfg, heads, d["num_key_value_heads"])
    head_dim = cfg.opt_size("head_dim")
    if head_dim is None:  # gpt-oss's class default is 64; null means hidden / heads
        missing_oss = model_type == "gpt_oss" and "head_dim" not in cfg.data
        head_dim = 64 if missing_oss else _split_heads(hidden, heads)
    max_pos = cfg.size("max_position_embeddings", default=d["max_position_embeddings"])
    eps = cfg.number("rms_norm_eps", default=d["rms_norm_eps"])

    if model_type == "qwen2":
        biases = {"q_bias": True, "k_bias": True, "v_bias": True, "o_bias": False}
    else:
        has_key = model_type in ("llama", "gpt_oss")
        bias = cfg.flag("attention_bias", model_type == "gpt_oss") if has_key else False
        biases = dict.fromkeys(("q_bias", "k_bias", "v_bias", "o_bias"), bias)

    if model_type == "qwen2":
        window = _opt_window(cfg, 4096) if cfg.flag("use_sliding_window", False) else None
        types = cfg.raw("layer_types", default=None)
        if types is None and window is not None:
            first = cfg.size("max_window_layers", default=28)
            types = ["sliding_attention" if i >= first else "full_attention" for i in range(layers)]
        window, layer_types = _window(layers, window, types)
    elif model_type == "gpt_oss":
        types = cfg.raw("layer_types", default=None)
        if types is None:
            types = ["sliding_attention" if i % 2 == 0 else "full_attention" for i in range(layers)]
        window, layer_types = _window(layers, _opt_window(cfg, 128), types)
    else:
        window, layer_types = _opt_window(cfg, d["sliding_window"]), None

    settings = _rope_settings(cfg, d["rope_theta"], d.get("rope_scaling"))
    ffn: dict[str, Any] = {
        "kind": "gated",
        "activation": _activation("hidden_act", cfg.raw("hidden_act", default="silu")),
        "intermediate_size": cfg.size("intermediate_size", default=d["intermediate_size"]),
        "bias": cfg.flag("mlp_bias", False) if model_type == "llama" else model_type == "gpt_oss",
    }
    moe = None
    if model_type in ("mixtral", "gpt_oss"):
        moe = {
            "num_experts": cfg.size("num_local_experts", "num_experts", default=d["experts"]),
            "top_k": cfg.size("num_experts_per_tok", default=d["top_k"]),
            "routing": "topk_softmax" if model_type == "gpt_oss" else "softmax_topk_renorm",
            "router_bias": model_type == "gpt_oss",
        }
    if model_type == "gpt_oss":
        ffn["glu_limit"] = cfg.number("swiglu_limit", default=7.0)
        ffn["glu_alpha"] = cfg.number("swiglu_alpha", default=1.702)
    return {
        "architecture": "decoder",
        "hidden_size": hidden,
        "num_layers": layers,
        "attention": {
            "num_heads": heads,
            "num_kv_heads": kv,
            "head_dim": head_dim,
            **biases,
            "sliding_window": window,
            "layer_types": layer_types,
            "sinks": model_type == "gpt_oss",
        },
        "positions": {"kind": "rope", "rope": _rope(settings, head_dim, max_pos)},
        "norm": {"kind": "rmsnorm", "eps": eps, "bias": False},
        "ffn": ffn,
        "moe": moe,
        "embeddings": {"vocab_size": cfg.size("vocab_size", default=d["vocab_size"])},
        "head": {"tied": cfg.flag("tie_word_embeddings", False)},
        "max_context": max_pos,
    }


_LLAMA_COMMON = {
    "hidden_size": 4096,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "vocab_size": 32000,
    "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "sliding_window": None,
}
_LLAMA_DEFAULTS: dict[str, dict[str, Any]] = {
    "llama": {**_LLAMA_COMMON, "num_key_value_heads": None, "intermediate_size": 11008,
              "max_position_embeddings": 2048},
    "mistral": {**_LLAMA_COMMON, "num_key_value_heads": 8, "intermediate_size": 14336,
                "max_position_embeddings": 4096 * 32, "sliding_window": 4096},
    "mixtral": {**_LLAMA_COMMON, "num_key_value_heads": 8, "intermediate_size": 14336,
                "max_position_embeddings": 4096 * 32, "rms_norm_eps": 1e-5, "rope_theta": 1e6,
                "experts": 8, "top_k": 2},
    "qwen2": {**_LLAMA_COMMON, "num_key_value_heads": 32, "intermediate_size": 22016,
              "max_position_embeddings": 32768, "vocab_size": 151936},
    "gpt_oss": {**_LLAMA_COMMON, "hidden_size": 2880, "num_hidden_layers": 36,
                "num_attention_heads": 64, "num_key_value_heads": 8,
                "intermediate_size": 2880, "max_position_embeddings": 131072,
                "vocab_size": 201088, "rms_norm_eps": 1e-5, "rope_theta": 150000.0,
                "experts": 128, "top_k": 4,
                "rope_scaling": {"rope_type": "yarn", "factor": 32.0, "beta_fast": 32.0,
                                 "beta_slow": 1.0, "truncate": False,
                                 "original_max_position_embeddings": 4096}},
}


def _qwen(cfg: _Config) -> dict[str, Any]:
    """Qwen 1 (QWenLMHeadModel): fused c_attn with bias, SwiGLU of intermediate_size / 2."""
    hidden = cfg.size("hidden_size", default=4096)
    heads = cfg.size("num_attention_heads", default=32)
    head_dim = cfg.size("kv_channels", default=128)
    max_pos = cfg.size("max_position_embeddings", default=8192)
    context = cfg.opt_size("seq_length") or max_pos
    settings = _rope_settings(cfg, 10000.0)
    inner = cfg.size("intermediate_size", default=22016)
    if inner % 2:
        raise LlmarchError(f"config.json: Qwen intermediate_size ({inner}) must be even")
    proj_bias = not cfg.flag("no_bias", True)
    return {
        "architecture": "decoder",
        "hidden_size": hidden,
        "num_layers": cfg.size("num_hidden_layers", default=32),
        "attention": {
            "num_heads": heads,
            "num_kv_heads": heads,
            "head_dim": head_dim,
            "q_bias": True,
            "k_bias": True,
            "v_bias": True,
            "o_bias": proj_bias,
            "fused_qkv": True,
        },
        "positions": {
            "kind": "rope",
            "rope": _rope(settings, head_dim, max_pos, fraction_always=True),
        },
        "norm": {"kind": "rmsnorm", "eps": cfg.number("layer_norm_epsilon", default=1e-6),
                 "bias": False},
        "ffn": {"kind": "gated", "activation": "silu", "intermediate_size": inner // 2,
                "bias": proj_bias},
        "embeddings": {"vocab_size": cfg.size("vocab_size", default=151936)},
        "head": {"tied": cfg.flag("tie_word_embeddings", False)},
        "max_context": context,
    }


def _gpt2(cfg: _Config) -> dict[str, Any]:
    hidden = cfg.size("n_embd", "hidden_size", default=768)
    heads = cfg.size("n_head", "num_attention_heads", default=12)
    positions = cfg.size("n_positions", "max_position_embeddings", default=1024)
    return {
        "architecture": "decoder",
        "hidden_size": hidden,
        "num_layers": cfg.size("n_layer", "num_hidden_layers", default=12),
        "attention": _mha(heads, _split_heads(hidden, heads), True, fused_qkv=True,
                          scale=None if cfg.flag("scale_attn_weights", True) else 1.0),
        "positions": {"kind": "learned", "max_positions": positions},
        "norm": {"kind": "layernorm", "eps": cfg.number("layer_norm_epsilon", default=1e-5)},
        "ffn": _plain_ffn(cfg, "activation_function", "gelu_new",
                          cfg.opt_size("n_inner") or 4 * hidden),
        "embeddings": {"vocab_size": cfg.size("vocab_size", default=50257)},
        "head": {"tied": cfg.flag("tie_word_embeddings", True)},
        "max_context": positions,
    }


def _gptj(cfg: _Config) -> dict[str, Any]:
    hidden = cfg.size("n_embd", "hidden_size", default=4096)
    heads = cfg.size("n_head", "num_attention_heads", default=16)
    head_dim = _split_heads(hidden, heads)
    positions = cfg.size("n_positions", "max_position_embeddings", default=2048)
    rotary = cfg.raw("rotary_dim", default=64)
    rotary = head_dim if rotary is None else _positive_int("rotary_dim", rotary)
    return {
        "architecture": "decoder",
        "hidden_size": hidden,
        "num_layers": cfg.size("n_layer", "num_hidden_layers", default=28),
        "attention": _mha(heads, head_dim, False),
        "positions": {
            "kind": "rope",
            "rope": {"theta": 10000.0, "rotary_dim": rotary, "pairing": "interleaved"},
        },
        "norm": {"kind": "layernorm", "eps": cfg.number("layer_norm_epsilon", default=1e-5)},
        "ffn": _plain_ffn(cfg, "activation_function", "gelu_new",
                          cfg.opt_size("n_inner") or 4 * hidden),
        "residual": "parallel",
        "parallel_norms": 1,
        "embeddings": {"vocab_size": cfg.size("vocab_size", default=50400)},
        "head": {"tied": cfg.flag("tie_word_embeddings", False), "bias": True},
        "max_context": positions,
    }


def _gpt_neox(cfg: _Config) -> dict[str, Any]:
    hidden = cfg.size("hidden_size", default=6144)
    heads = cfg.size("num_attention_heads", default=64)
    head_dim = _split_heads(hidden, heads)
    max_pos = cfg.size("max_position_embeddings", default=2048)
    settings = _rope_settings(cfg, 10000.0)
    bias = cfg.flag("attention_bias", True)
    parallel = cfg.flag("use_parallel_residual", True)
    return {
        "architecture": "decoder",
        "hidden_size": hidden,
        "num_layers": cfg.size("num_hidden_layers", default=44),
        "attention": _mha(heads, head_dim, bias, fused_qkv=True),
        "positions": {
            "kind": "rope",
            "rope": _rope(settings, head_dim, max_pos, default_fraction=0.25, fraction_always=True),
        },
        "norm": {"kind": "layernorm", "eps": cfg.number("layer_norm_eps", default=1e-5)},
        "ffn": _plain_ffn(cfg, "hidden_act", "gelu", cfg.size("intermediate_size", default=24576)),
        "residual": "parallel" if parallel else "sequential",
        "embeddings": {"vocab_size": cfg.size("vocab_size", default=50432)},
        "head": {"tied": cfg.flag("tie_word_embeddings", False)},
        "max_context": max_pos,
    }


def _bloom(cfg: _Config) -> dict[str, Any]:
    """BLOOM: ALiBi, so no position table; max_context is the trained length (seq_length,
    else 2048 as in the BLOOM paper)."""
    hidden = cfg.size("n_embed", "hidden_size", default=64)
    heads = cfg.size("n_head", "num_attention_heads", default=8)
    return {
        "architecture": "decoder",
        "hidden_size": hidden,
        "num_layers": cfg.size("n_layer", "num_hidden_layers", default=2),
        "attention": _mha(heads, _split_heads(hidden, heads), True, fused_qkv=True),
        "positions": {"kind": "alibi"},
        "norm": {
            "kind": "layernorm",
            "eps": cfg.number("layer_norm_epsilon", default=1e-5),
            "embedding_norm": True,
        },
        "ffn": {"kind": "plain", "activation": "gelu_tanh", "intermediate_size": 4 * hidden,
                "bias": True},
        "embeddings": {"vocab_size": cfg.size("vocab_size", default=250880)},
        "head": {"tied": cfg.flag("tie_word_embeddings", True)},
        "max_context": cfg.opt_size("seq_length") or 2048,
    }


def _t5(cfg: _Config) -> dict[str, Any]:
    """T5 v1.0 (tied head, decoder output scaled by d_model^-0.5) and v1.1/flan
    (``tie_word_embeddings: false``: separate lm_head, no scaling)."""
    d_model = cfg.size("d_model", "hidden_size", default=512)
    heads = cfg.size("num_heads", "num_attention_heads", default=8)
    layers = cfg.size("num_layers", "num_hidden_layers", default=6)
    proj = cfg.text("feed_forward_proj", "relu")
    parts = proj.split("-")
    if len(parts) > 2 or (len(parts) == 2 and parts[0] != "gated"):
        raise LlmarchError(f"config.json: feed_forward_proj {proj!r} is not 'ACT' or 'gated-ACT'")
    act = "gelu_new" if proj == "gated-gelu" else parts[-1]
    tied = cfg.raw("tie_word_embeddings", default=None) is not False
    # transformers 5 saves every T5 with tie_word_embeddings true and records v1.1's unscaled
    # output as scale_decoder_outputs: false.
    scaled = cfg.raw("scale_decoder_outputs", default=tied) is not False
    return {
        "architecture": "encoder-decoder",
        "hidden_size": d_model,
        "num_layers": layers,
        "num_decoder_layers": cfg.opt_size("num_decoder_layers") or layers,
        "attention": _mha(heads, cfg.size("d_kv", "head_dim", default=64), False, scale=1.0),
        "positions": {
            "kind": "relative_buckets",
            "relative": {
                "num_buckets": cfg.size("relative_attention_num_buckets", default=32),
                "max_distance": cfg.size("relative_attention_max_distance", default=128),
            },
        },
        "norm": {"kind": "rmsnorm", "eps": cfg.number("layer_norm_epsilon", default=1e-6),
                 "bias": False},
        "ffn": {
            "kind": "gated" if len(parts) == 2 else "plain",
            "activation": _activation("feed_forward_proj", act),
            "intermediate_size": cfg.size("d_ff", default=2048),
        },
        "embeddings": {"vocab_size": cfg.size("vocab_size", default=32128)},
        "head": {"kind": "seq2seq_lm", "tied": tied,
                 "output_scale": d_model**-0.5 if scaled else None},
        "max_context": cfg.opt_size("n_positions") or 512,
    }


def _bert(cfg: _Config) -> dict[str, Any]:
    """BERT as BertForMaskedLM: post-LN encoder, MLM transform + tied decoder with a bias."""
    hidden = cfg.size("hidden_size", default=768)
    heads = cfg.size("num_attention_heads", default=12)
    max_pos = cfg.size("max_position_embeddings", default=512)
    types = cfg.raw("type_vocab_size", default=2)
    return {
        "architecture": "encoder",
        "hidden_size": hidden,
        "num_layers": cfg.size("num_hidden_layers", default=12),
        "attention": _mha(heads, _split_heads(hidden, heads), True),
        "positions": {"kind": "learned", "max_positions": max_pos},
        "norm": {
            "kind": "layernorm",
            "eps": cfg.number("layer_norm_eps", default=1e-12),
            "placement": "post",
            "final_norm": False,
            "embedding_norm": True,
        },
        "ffn": _plain_ffn(cfg, "hidden_act", "gelu", cfg.size("intermediate_size", default=3072)),
        "embeddings": {
            "vocab_size": cfg.size("vocab_size", default=30522),
            "token_types": 0 if types == 0 else _positive_int("type_vocab_size", types),
        },
        "head": {
            "kind": "masked_lm",
            "tied": cfg.flag("tie_word_embeddings", True),
            "bias": True,
            "transform": True,
        },
        "max_context": max_pos,
    }


def _bart(cfg: _Config) -> dict[str, Any]:
    """BART as BartForConditionalGeneration (final_logits_bias is a buffer, not a parameter)."""
    d_model = cfg.size("d_model", "hidden_size", default=1024)
    pairs = {
        "attention_heads": ("encoder_attention_heads", "decoder_attention_heads", 16),
        "ffn_dim": ("encoder_ffn_dim", "decoder_ffn_dim", 4096),
    }
    sizes = {}
    for name, (enc_key, dec_key, default) in pairs.items():
        enc, dec = cfg.size(enc_key, default=default), cfg.size(dec_key, default=default)
        if enc != dec:
            raise LlmarchError(
                f"config.json: {enc_key} ({enc}) differs from {dec_key} ({dec}); "
                "llmarch describes both stacks with one size"
            )
        sizes[name] = enc
    heads = sizes["attention_heads"]
    max_pos = cfg.size("max_position_embeddings", default=1024)
    return {
        "architecture": "encoder-decoder",
        "hidden_size": d_model,
        "num_layers": cfg.size("encoder_layers", default=12),
        "num_decoder_layers": cfg.size("decoder_layers", default=12),
        "attention": _mha(heads, _split_heads(d_model, heads), True),
        "positions": {"kind": "learned", "max_positions": max_pos, "offset": 2},
        "norm": {"kind": "layernorm", "eps": 1e-5, "placement": "post", "final_norm": False,
                 "embedding_norm": True},
        "ffn": _plain_ffn(cfg, "activation_function", "gelu", sizes["ffn_dim"]),
        "embeddings": {
            "vocab_size": cfg.size("vocab_size", default=50265),
            "scale": math.sqrt(d_model) if cfg.flag("scale_embedding", False) else None,
        },
        "head": {"kind": "seq2seq_lm", "tied": cfg.flag("tie_word_embeddings", True)},
        "max_context": max_pos,
    }


# ---------------------------------------------------------------------------- families since 2024


def _kinds(hf_types: Any, layers: int) -> tuple[str, ...] | None:
    """layer_types as llmarch kinds; None when every layer is full attention."""
    if hf_types is None:
        return None
    if not isinstance(hf_types, list) or any(
        not isinstance(t, str) or t not in _LAYER_TYPES for t in hf_types
    ):
        raise LlmarchError(f"config.json: layer_types must be a list of {', '.join(_LAYER_TYPES)}")
    if len(hf_types) != layers:
        raise LlmarchError(
            f"config.json: layer_types has {len(hf_types)} entries for {layers} layers"
        )
    kinds = tuple(_LAYER_TYPES[t] for t in hf_types)
    return None if set(kinds) == {"full"} else kinds


def _pattern(layers: int, every: int, inside: str, outside: str) -> list[str]:
    """Layer i is ``outside`` when (i + 1) % every == 0, else ``inside`` (Gemma 3, Cohere 2)."""
    return [outside if (i + 1) % every == 0 else inside for i in range(layers)]


def _dense_upto(cfg: _Config, key: str, layers: int, default: int) -> tuple[int, ...]:
    """The first ``cfg[key]`` layers are dense (DeepSeek first_k_dense_replace)."""
    value = cfg.raw(key, default=default)
    first = 0 if value is None else value
    if isinstance(first, bool) or not isinstance(first, int) or first < 0:
        raise LlmarchError(f"config.json: {key} must be a non-negative integer, got {value!r}")
    if first > layers:
        raise LlmarchError(f"config.json: {key} ({first}) exceeds num_hidden_layers ({layers})")
    return tuple(range(first))


def _sparse_step(cfg: _Config, layers: int) -> tuple[int, ...]:
    """Qwen-MoE dense layers: mlp_only_layers, plus those with (i + 1) % decoder_sparse_step != 0."""
    only = cfg.raw("mlp_only_layers", default=[]) or []
    if not isinstance(only, list) or any(not isinstance(i, int) or not 0 <= i < layers for i in only):
        raise LlmarchError(f"config.json: mlp_only_layers must list layers in 0..{layers - 1}")
    step = cfg.size("decoder_sparse_step", default=1)
    return tuple(i for i in range(layers) if i in only or (i + 1) % step)


def _base(cfg: _Config, d: dict[str, Any], *, eps_key: str = "rms_norm_eps") -> dict[str, Any]:
    """The sizes every decoder family shares, with the family's class defaults ``d``."""
    hidden = cfg.size("hidden_size", default=d["hidden_size"])
    heads = cfg.size("num_attention_heads", default=d["num_attention_heads"])
    head_dim = cfg.opt_size("head_dim") or d.get("head_dim") or _split_heads(hidden, heads)
    return {
        "hidden": hidden,
        "layers": cfg.size("num_hidden_layers", default=d["num_hidden_layers"]),
        "heads": heads,
        "kv": _kv_heads(cfg, heads, d.get("num_key_value_heads")),
        "head_dim": head_dim,
        "max_pos": cfg.size("max_position_embeddings", default=d["max_position_embeddings"]),
        "eps": cfg.number(eps_key, default=d.get("eps", 1e-6)),
        "vocab": cfg.size("vocab_size", default=d["vocab_size"]),
        "inner": cfg.size("intermediate_size", default=d["intermediate_size"]),
        "act": _activation("hidden_act", cfg.raw("hidden_activation", "hidden_act",
                                                 default=d.get("act", "silu"))),
        "tied": cfg.flag("tie_word_embeddings", d.get("tied", False)),
    }


def _spec(b: dict[str, Any], attention: dict[str, Any], rope: dict[str, Any] | None,
          **parts: Any) -> dict[str, Any]:
    """A decoder spec from ``_base`` sizes: RMSNorm pre-norm and SwiGLU unless ``parts`` say so."""
    spec: dict[str, Any] = {
        "architecture": "decoder",
        "hidden_size": b["hidden"],
        "num_layers": b["layers"],
        "attention": {"num_heads": b["heads"], "num_kv_heads": b["kv"], "head_dim": b["head_dim"],
                      **attention},
        "positions": {"kind": "rope", "rope": rope} if rope else {"kind": "none"},
        "norm": {"kind": "rmsnorm", "eps": b["eps"], "bias": False},
        "ffn": {"kind": "gated", "activation": b["act"], "intermediate_size": b["inner"]},
        "embeddings": {"vocab_size": b["vocab"]},
        "head": {"tied": b["tied"]},
        "max_context": b["max_pos"],
    }
    for key, value in parts.items():
        if isinstance(value, dict) and isinstance(spec.get(key), dict):
            spec[key] = {**spec[key], **value}
        else:
            spec[key] = value
    return spec


def _biases(q: bool, k: bool, v: bool, o: bool) -> dict[str, bool]:
    return {"q_bias": q, "k_bias": k, "v_bias": v, "o_bias": o}


def _all_bias(flag: bool) -> dict[str, bool]:
    return _biases(flag, flag, flag, flag)


def _moe(cfg: _Config, experts_keys: tuple[str, ...], d: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "num_experts": cfg.size(*experts_keys, default=d["experts"]),
        "top_k": cfg.size("num_experts_per_tok", default=d["top_k"]),
        **extra,
    }


_QWEN3 = {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
          "num_key_value_heads": 32, "head_dim": 128, "intermediate_size": 22016,
          "vocab_size": 151936, "max_position_embeddings": 32768, "rope_theta": 10000.0}
_QWEN_MOE = {
    "qwen3_moe": {**_QWEN3, "hidden_size": 2048, "num_hidden_layers": 24, "num_key_value_heads": 4,
                  "head_dim": None,
                  "intermediate_size": 6144, "experts": 128, "top_k": 8, "moe_width": 768},
    "qwen2_moe": {**_QWEN3, "hidden_size": 2048, "num_hidden_layers": 24, "num_attention_heads": 16,
                  "num_key_value_heads": 16, "head_dim": None, "intermediate_size": 5632,
                  "experts": 60, "top_k": 4, "moe_width": 1408, "shared_width": 5632},
    "qwen3_next": {**_QWEN3, "hidden_size": 2048, "num_hidden_layers": 48,
                   "num_attention_heads": 16, "num_key_value_heads": 2, "head_dim": 256,
                   "intermediate_size": 5632, "experts": 512, "top_k": 10, "moe_width": 512,
                   "shared_width": 512},
}


def _qwen_sliding(cfg: _Config, layers: int) -> dict[str, Any]:
    """Qwen2/3 sliding window: only with use_sliding_window, on layers >= max_window_layers."""
    if not cfg.flag("use_sliding_window", False):
        return {}
    window = _opt_window(cfg, 4096)
    types = cfg.raw("layer_types", default=None)
    if types is None:
        first = cfg.size("max_window_layers", default=28)
        types = ["sliding_attention" if i >= first else "full_attention" for i in range(layers)]
    window, layer_types = _window(layers, window, types)
    return {"sliding_window": window, "layer_types": layer_types}


def _qwen3(cfg: _Config, model_type: str) -> dict[str, Any]:
    """qwen3, qwen3_moe, qwen2_moe, qwen3_next: Qwen2's skeleton with per-head QK-norm (3),
    MoE with an optional gated shared expert, and (Next) gated DeltaNet + gated attention."""
    d = _QWEN_MOE.get(model_type, _QWEN3)
    b = _base(cfg, d)
    rope = _rope(_rope_settings(cfg, d["rope_theta"]), b["head_dim"], b["max_pos"],
                 default_fraction=0.25 if model_type == "qwen3_next" else 1.0,
                 fraction_always=model_type == "qwen3_next")
    if model_type == "qwen2_moe":
        bias = cfg.flag("qkv_bias", True)
        attention = {**_biases(bias, bias, bias, False), **_qwen_sliding(cfg, b["layers"])}
    else:
        attention = {**_all_bias(cfg.flag("attention_bias", False)), "qk_norm": "head"}
        if model_type != "qwen3_next":
            attention.update(_qwen_sliding(cfg, b["layers"]))
    parts: dict[str, Any] = {}
    if model_type != "qwen3":
        shared = cfg.raw("shared_expert_intermediate_size", default=d.get("shared_width"))
        moe = _moe(cfg, ("num_experts", "num_local_experts"), d,  # transformers 5 saves the latter
                   routing="softmax_topk_renorm" if cfg.flag("norm_topk_prob", model_type == "qwen3_next")
                   else "softmax_topk",
                   dense_layers=_sparse_step(cfg, b["layers"]))
        if shared:
            moe.update(num_shared_experts=1, shared_intermediate_size=_positive_int(
                "shared_expert_intermediate_size", shared), shared_gate=True)
        if moe["dense_layers"]:
            moe["dense_intermediate_size"] = b["inner"]
        b["inner"] = cfg.size("moe_intermediate_size", default=d["moe_width"])
        parts["moe"] = moe
    if model_type == "qwen3_next":
        layers = b["layers"]
        types = cfg.raw("layer_types", default=None) or _pattern(
            layers, cfg.size("full_attention_interval", default=4), "linear_attention",
            "full_attention")
        attention.update(layer_types=_kinds(types, layers), output_gate=True)
        parts["linear_attention"] = {
            "num_key_heads": cfg.size("linear_num_key_heads", default=16),
            "num_value_heads": cfg.size("linear_num_value_heads", default=32),
            "key_head_dim": cfg.size("linear_key_head_dim", default=128),
            "value_head_dim": cfg.size("linear_value_head_dim", default=128),
            "conv_kernel": cfg.size("linear_conv_kernel_dim", default=4),
        }
        parts["norm"] = {"unit_offset": True}
    return _spec(b, attention, rope, **parts)


_DEEPSEEK = {
    "deepseek_v2": {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
                    "num_key_value_heads": 32, "intermediate_size": 11008, "vocab_size": 102400,
                    "max_position_embeddings": 2048, "experts": 64, "top_k": None, "shared": 2,
                    "moe_width": 1407, "first_dense": 0, "q_lora": 1536, "scaling": 1.0,
                    "groups": None, "topk_groups": None},
    "deepseek_v3": {"hidden_size": 7168, "num_hidden_layers": 61, "num_attention_heads": 128,
                    "num_key_value_heads": 128, "intermediate_size": 18432, "vocab_size": 129280,
                    "max_position_embeddings": 4096, "experts": 256, "top_k": 8, "shared": 1,
                    "moe_width": 2048, "first_dense": 3, "q_lora": 1536, "scaling": 2.5,
                    "groups": 8, "topk_groups": 4},
}


def _deepseek(cfg: _Config, model_type: str) -> dict[str, Any]:
    """DeepSeek-V2/V3 (and Kimi K2): MLA, dense first layers, shared + routed experts.
    Multi-token-prediction layers (num_nextn_predict_layers) are not built by transformers,
    nor does it read moe_layer_freq (every layer from first_k_dense_replace on is MoE; the
    official configs all have 1)."""
    d = _DEEPSEEK[model_type]
    nope = cfg.size("qk_nope_head_dim", default=128)
    rope_dim = cfg.size("qk_rope_head_dim", default=64)
    b = _base(cfg, {**d, "head_dim": nope + rope_dim})
    b["head_dim"], b["kv"] = nope + rope_dim, b["heads"]
    q_lora = cfg.raw("q_lora_rank", default=d["q_lora"])
    mla = {"q_lora_rank": None if q_lora is None else _positive_int("q_lora_rank", q_lora),
           "kv_lora_rank": cfg.size("kv_lora_rank", default=512),
           "qk_nope_head_dim": nope, "qk_rope_head_dim": rope_dim,
           "v_head_dim": cfg.size("v_head_dim", default=128)}
    settings = _rope_settings(cfg, 10000.0)
    rope = _rope({**settings, "partial_rotary_factor": 1.0}, rope_dim, b["max_pos"])
    v3 = model_type == "deepseek_v3"
    # transformers rotates (x_2i, x_2i+1) pairs: V2 always (complex products of adjacent
    # pairs), V3 unless rope_interleave is false
    if not v3 or cfg.flag("rope_interleave", True):
        rope["pairing"] = "interleaved"
    attention: dict[str, Any] = {}
    yarn = rope.get("scaling") or {}
    if yarn.get("kind") == "yarn" and yarn.get("mscale_all_dim") and yarn["factor"] > 1:
        mscale = 0.1 * yarn["mscale_all_dim"] * math.log(yarn["factor"]) + 1.0  # yarn_get_mscale
        attention["scale"] = (nope + rope_dim) ** -0.5 * mscale * mscale
    method = cfg.raw("topk_method", default="noaux_tc" if v3 else "greedy")
    # transformers' DeepseekV2 router always takes a softmax, never renormalises the top k
    # (scoring_func and norm_topk_prob are ignored) and scales by routed_scaling_factor
    scoring = cfg.raw("scoring_func", default="sigmoid") if v3 else "softmax"
    groups = cfg.raw("n_group", default=d["groups"]) or 1
    topk_groups = cfg.raw("topk_group", default=d["topk_groups"]) or 1
    grouped = method in ("noaux_tc", "group_limited_greedy") and groups > 1
    routing = ("sigmoid" if scoring == "sigmoid" else "softmax") + ("_group_topk" if grouped else "_topk")
    if routing == "softmax_topk" and v3 and cfg.flag("norm_topk_prob", False):
        routing = "softmax_topk_renorm"
    if d["top_k"] is None and cfg.raw("num_experts_per_tok", default=None) is None:
        raise LlmarchError("config.json: deepseek_v2 needs num_experts_per_tok")
    moe = _moe(cfg, ("n_routed_experts",), d,
               routing=routing, num_groups=_positive_int("n_group", groups),
               topk_groups=_positive_int("topk_group", topk_groups),
               correction_bias=method == "noaux_tc",
               routed_scaling=cfg.number("routed_scaling_factor", default=d["scaling"]),
               dense_layers=_dense_upto(cfg, "first_k_dense_replace", b["layers"], d["first_dense"]))
    _deepseek_widths(cfg, b, moe, d["moe_width"], d["shared"])
    return _spec(b, {**_all_bias(cfg.flag("attention_bias", False)), "mla": mla, **attention},
                 rope, moe=moe)


def _deepseek_widths(cfg: _Config, b: dict[str, Any], moe: dict[str, Any], width: int,
                     shared: int) -> None:
    """DeepSeek-style widths (also GLM-4.5): routed and each of ``n_shared_experts`` shared
    experts are moe_intermediate_size wide; the dense first layers keep intermediate_size."""
    width = cfg.size("moe_intermediate_size", default=width)
    shared = cfg.raw("n_shared_experts", default=shared) or 0
    if shared:
        moe.update(num_shared_experts=_positive_int("n_shared_experts", shared),
                   shared_intermediate_size=width)
    if moe["dense_layers"]:
        moe["dense_intermediate_size"] = b["inner"]
    b["inner"] = width


_GEMMA = {
    "gemma": {"hidden_size": 3072, "num_hidden_layers": 28, "num_attention_heads": 16,
              "num_key_value_heads": 16, "head_dim": 256, "intermediate_size": 24576,
              "vocab_size": 256000, "max_position_embeddings": 8192, "act": "gelu_pytorch_tanh",
              "tied": True},
}
_GEMMA["gemma2"] = {**_GEMMA["gemma"], "hidden_size": 2304, "num_hidden_layers": 26,
                    "num_attention_heads": 8, "num_key_value_heads": 4, "intermediate_size": 9216}
_GEMMA["gemma3_text"] = {**_GEMMA["gemma2"], "vocab_size": 262208, "max_position_embeddings": 131072}


def _gemma(cfg: _Config, model_type: str) -> dict[str, Any]:
    """Gemma 1/2/3: (1 + w) RMSNorms, embeddings x sqrt(H), GeGLU, tied head; 2 and 3 add
    sandwich norms, query_pre_attn_scalar, alternating local/global layers; 2 soft-caps, 3 has
    per-head QK-norm and a separate RoPE (rope_local_base_freq) for its local layers."""
    d = _GEMMA[model_type]
    b = _base(cfg, d)
    layers = b["layers"]
    parts: dict[str, Any] = {"norm": {"unit_offset": True},
                             "embeddings": {"scale": math.sqrt(b["hidden"])}}
    attention: dict[str, Any] = _all_bias(cfg.flag("attention_bias", False))
    if model_type == "gemma":
        rope = _rope(_rope_settings(cfg, 10000.0), b["head_dim"], b["max_pos"])
        return _spec(b, attention, rope, **parts)
    parts["norm"]["placement"] = "sandwich"
    attention["scale"] = cfg.number("query_pre_attn_scalar", default=256) ** -0.5
    types = cfg.raw("layer_types", default=None)
    if model_type == "gemma2":
        types = types or _pattern(layers, 2, "sliding_attention", "full_attention")
        softcap = cfg.raw("attn_logit_softcapping", default=50.0)
        final = cfg.raw("final_logit_softcapping", default=30.0)
        rope = _rope(_rope_settings(cfg, 10000.0), b["head_dim"], b["max_pos"])
    else:
        pattern = cfg.size("sliding_window_pattern", default=6)
        types = types or _pattern(layers, pattern, "sliding_attention", "full_attention")
        softcap = cfg.raw("attn_logit_softcapping", default=None)
        final = cfg.raw("final_logit_softcapping", default=None)
        attention["qk_norm"] = "head"
        rope, local = _gemma3_ropes(cfg, b["head_dim"], b["max_pos"])
        parts["positions"] = {"kind": "rope", "rope": rope, "local_rope": local}
    window = cfg.size("sliding_window", default=4096)
    attention.update(sliding_window=window, layer_types=_kinds(types, layers))
    if attention["layer_types"] is not None and "sliding" not in attention["layer_types"]:
        attention["sliding_window"] = None
    if softcap is not None:
        attention["softcap"] = _finite("attn_logit_softcapping", softcap)
    if final is not None:
        parts["head"] = {"tied": b["tied"], "softcap": _finite("final_logit_softcapping", final)}
    return _spec(b, attention, rope, **parts)


def _gemma3_ropes(cfg: _Config, head_dim: int, max_pos: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(global, local) RoPE: rope_parameters per layer type (transformers 5), or rope_theta +
    rope_scaling for global layers and rope_local_base_freq for local ones (4.x)."""
    params = cfg.raw("rope_parameters", default=None)
    if isinstance(params, dict) and ("full_attention" in params or "sliding_attention" in params):
        out = []
        for key, theta in (("full_attention", 1e6), ("sliding_attention", 10000.0)):
            part = params.get(key) or {}
            out.append(_rope(_rope_settings(_Config({"rope_parameters": part}), theta),
                             head_dim, max_pos))
        return out[0], out[1]
    rope = _rope(_rope_settings(cfg, 1e6), head_dim, max_pos)
    local = {"theta": cfg.number("rope_local_base_freq", default=10000.0), "rotary_dim": head_dim}
    return rope, local


_LLAMA4 = {"hidden_size": 5120, "num_hidden_layers": 48, "num_attention_heads": 40,
           "num_key_value_heads": 8, "head_dim": 128, "intermediate_size": 8192,
           "vocab_size": 202048, "max_position_embeddings": 131072, "eps": 1e-5,
           "experts": 16, "top_k": 1}


def _llama4(cfg: _Config) -> dict[str, Any]:
    """Llama 4 text: chunked attention with RoPE on three of four layers, global NoPE layers
    with a query temperature, weightless L2 QK-norm, interleaved RoPE, MoE (sigmoid top-k
    routing + a shared expert) every k-th layer."""
    b = _base(cfg, _LLAMA4)
    layers = b["layers"]
    no_rope = cfg.raw("no_rope_layers", default=None) or [
        int((i + 1) % cfg.size("no_rope_layer_interval", default=4) != 0) for i in range(layers)]
    if not isinstance(no_rope, list) or len(no_rope) != layers:
        raise LlmarchError(f"config.json: no_rope_layers must list {layers} flags")
    chunk = cfg.opt_size("attention_chunk_size") if "attention_chunk_size" in cfg.data else 8192
    types = cfg.raw("layer_types", default=None) or [
        "chunked_attention" if rope and chunk is not None else "full_attention" for rope in no_rope]
    step = cfg.size("interleave_moe_layer_step", default=1)
    moe_layers = cfg.raw("moe_layers", default=None)
    if moe_layers is None:
        moe_layers = list(range(step - 1, layers, step))
    dense = tuple(i for i in range(layers) if i not in moe_layers)
    moe = _moe(cfg, ("num_local_experts",), _LLAMA4, routing="sigmoid_topk",
               num_shared_experts=1, shared_intermediate_size=b["inner"], dense_layers=dense)
    if dense:
        moe["dense_intermediate_size"] = cfg.size("intermediate_size_mlp", default=16384)
    attention = {**_all_bias(cfg.flag("attention_bias", False)),
                 "layer_types": _kinds(types, layers), "chunk_size": chunk,
                 "nope_layers": tuple(i for i, r in enumerate(no_rope) if not r)}
    if cfg.flag("use_qk_norm", True):
        attention["qk_norm"] = "l2"
    tuning = cfg.raw("attn_temperature_tuning", default=None)  # the first uploads wrote 4: on
    if type(tuning) not in (bool, int, type(None)):
        raise LlmarchError(f"config.json: attn_temperature_tuning must be true or false, got {tuning!r}")
    if tuning is None or tuning:
        attention["temperature_tuning"] = {"floor_scale": cfg.size("floor_scale", default=8192),
                                           "attn_scale": cfg.number("attn_scale", default=0.1)}
    rope = _rope(_rope_settings(cfg, 500000.0), b["head_dim"], b["max_pos"])
    rope["pairing"] = "interleaved"  # complex multiplication of pairs (x_2i, x_2i+1)
    return _spec(b, attention, rope, moe=moe)


def _phi(cfg: _Config) -> dict[str, Any]:
    """Phi-1/1.5/2: parallel attention + MLP off one LayerNorm, biases everywhere, partial RoPE."""
    b = _base(cfg, {"hidden_size": 2048, "num_hidden_layers": 24, "num_attention_heads": 32,
                    "num_key_value_heads": None, "intermediate_size": 8192, "vocab_size": 51200,
                    "max_position_embeddings": 2048, "eps": 1e-5, "act": "gelu_new"},
              eps_key="layer_norm_eps")
    if cfg.flag("qk_layernorm", False):
        raise LlmarchError("config.json: phi with qk_layernorm is not supported")
    rope = _rope(_rope_settings(cfg, 10000.0), b["head_dim"], b["max_pos"],
                 default_fraction=0.5, fraction_always=True)
    return _spec(b, _all_bias(True), rope, residual="parallel", parallel_norms=1,
                 norm={"kind": "layernorm", "bias": True},
                 ffn={"kind": "plain", "bias": True},
                 head={"tied": b["tied"], "bias": True})


def _phi3(cfg: _Config) -> dict[str, Any]:
    """Phi-3/Phi-4: Llama with fused qkv_proj and gate_up_proj; sliding_window on every layer."""
    b = _base(cfg, {"hidden_size": 3072, "num_hidden_layers": 32, "num_attention_heads": 32,
                    "num_key_value_heads": None, "intermediate_size": 8192, "vocab_size": 32064,
                    "max_position_embeddings": 4096, "eps": 1e-5})
    settings = _rope_settings(cfg, 10000.0)
    if settings["rope_type"] == "longrope" and "original_max_position_embeddings" not in settings:
        settings["original_max_position_embeddings"] = cfg.size(
            "original_max_position_embeddings", default=b["max_pos"])
    rope = _rope(settings, b["head_dim"], b["max_pos"], fraction_always=True)
    return _spec(b, {"fused_qkv": True, "sliding_window": _opt_window(cfg, None)}, rope,
                 ffn={"fused_gate_up": True})


def _falcon(cfg: _Config) -> dict[str, Any]:
    """Falcon: parallel attention + MLP, fused QKV; the old decoder (7B) is multi-query with
    one LayerNorm, the new one (40B, 180B) has num_kv_heads groups and two LayerNorms."""
    hidden = cfg.size("hidden_size", default=4544)
    heads = cfg.size("num_attention_heads", default=71)
    new = cfg.flag("new_decoder_architecture", False)
    if cfg.flag("alibi", False):
        raise LlmarchError("config.json: falcon with alibi is not supported")
    if not cfg.flag("parallel_attn", True) and not new:
        raise LlmarchError("config.json: falcon without parallel_attn is not supported")
    if new:
        kv = cfg.size("num_kv_heads", default=heads)
        norms = cfg.raw("num_ln_in_parallel_attn", default=None) or 2
    else:
        kv = 1 if cfg.flag("multi_query", True) else heads
        norms = 1
    head_dim = _split_heads(hidden, heads)
    max_pos = cfg.size("max_position_embeddings", default=2048)
    bias = cfg.flag("bias", False)
    return {
        "architecture": "decoder",
        "hidden_size": hidden,
        "num_layers": cfg.size("num_hidden_layers", default=32),
        "attention": {"num_heads": heads, "num_kv_heads": kv, "head_dim": head_dim,
                      **_all_bias(bias), "fused_qkv": True},
        "positions": {"kind": "rope",
                      "rope": _rope(_rope_settings(cfg, 10000.0), head_dim, max_pos)},
        "norm": {"kind": "layernorm", "eps": cfg.number("layer_norm_epsilon", default=1e-5)},
        "ffn": {"kind": "plain",
                "activation": _activation("activation", cfg.raw("activation", default="gelu")),
                "intermediate_size": cfg.opt_size("ffn_hidden_size") or 4 * hidden, "bias": bias},
        "residual": "parallel",
        "parallel_norms": _positive_int("num_ln_in_parallel_attn", norms),
        "embeddings": {"vocab_size": cfg.size("vocab_size", default=65024)},
        "head": {"tied": cfg.flag("tie_word_embeddings", True)},
        "max_context": max_pos,
    }


def _olmo2(cfg: _Config) -> dict[str, Any]:
    """OLMo 2: QK-norm over the whole q and k projections, norms after each sub-layer."""
    b = _base(cfg, {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
                    "num_key_value_heads": None, "intermediate_size": 11008, "vocab_size": 50304,
                    "max_position_embeddings": 2048, "eps": 1e-5})
    rope = _rope(_rope_settings(cfg, 10000.0), b["head_dim"], b["max_pos"])
    return _spec(b, {**_all_bias(cfg.flag("attention_bias", False)), "qk_norm": "projection"},
                 rope, norm={"placement": "sublayer_post"})


def _granite(cfg: _Config) -> dict[str, Any]:
    """Granite 3: Llama with embedding, residual, attention and logit multipliers."""
    b = _base(cfg, {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
                    "num_key_value_heads": None, "intermediate_size": 11008, "vocab_size": 32000,
                    "max_position_embeddings": 2048})
    rope = _rope(_rope_settings(cfg, 10000.0), b["head_dim"], b["max_pos"])
    return _spec(b, {**_all_bias(cfg.flag("attention_bias", False)),
                     "scale": cfg.number("attention_multiplier", default=1.0)}, rope,
                 ffn={"bias": cfg.flag("mlp_bias", False)},
                 embeddings={"scale": cfg.number("embedding_multiplier", default=1.0)},
                 residual_scale=cfg.number("residual_multiplier", default=1.0),
                 head={"tied": b["tied"],
                       "output_scale": 1 / cfg.number("logits_scaling", default=1.0)})


def _cohere(cfg: _Config, model_type: str) -> dict[str, Any]:
    """Command R (cohere) and R7B (cohere2): parallel attention + FFN off one bias-free
    LayerNorm, interleaved RoPE, tied head with logit_scale; cohere2 alternates three sliding
    layers with one global layer without RoPE."""
    two = model_type == "cohere2"
    b = _base(cfg, {"hidden_size": 8192, "num_hidden_layers": 40, "num_attention_heads": 64,
                    "num_key_value_heads": None, "intermediate_size": 22528, "vocab_size": 256000,
                    "max_position_embeddings": 8192, "eps": 1e-5, "tied": True,
                    "head_dim": 128 if two else None}, eps_key="layer_norm_eps")
    rope = _rope(_rope_settings(cfg, 10000.0 if two else 500000.0), b["head_dim"], b["max_pos"])
    rope["pairing"] = "interleaved"
    attention: dict[str, Any] = _all_bias(cfg.flag("attention_bias", False))
    if not two and cfg.flag("use_qk_norm", False):
        attention["qk_norm"] = "heads"
    if two:
        layers = b["layers"]
        types = cfg.raw("layer_types", default=None) or _pattern(
            layers, cfg.size("sliding_window_pattern", default=4), "sliding_attention",
            "full_attention")
        kinds = _kinds(types, layers)
        attention.update(sliding_window=cfg.size("sliding_window", default=4096), layer_types=kinds,
                         nope_layers=tuple(i for i, k in enumerate(kinds or ()) if k == "full"))
    return _spec(b, attention, rope, residual="parallel", parallel_norms=1,
                 norm={"kind": "layernorm", "bias": False},
                 head={"tied": b["tied"], "output_scale": cfg.number("logit_scale", default=0.0625)})


def _glm4_moe(cfg: _Config) -> dict[str, Any]:
    """GLM-4.5 / 4.5-Air: q/k/v bias, partial RoPE, DeepSeek-V3-style MoE (sigmoid, correction
    bias, shared expert, dense first layers). MTP layers are not built by transformers."""
    # A missing head_dim is hidden // heads, rounded down (Glm4MoeAttention).
    floor_dim = cfg.size("hidden_size", default=4096) // cfg.size("num_attention_heads", default=96)
    b = _base(cfg, {"hidden_size": 4096, "num_hidden_layers": 46, "num_attention_heads": 96,
                    "num_key_value_heads": 8, "intermediate_size": 10944, "vocab_size": 151552,
                    "max_position_embeddings": 131072, "eps": 1e-5, "head_dim": floor_dim or None})
    rope = _rope(_rope_settings(cfg, 10000.0), b["head_dim"], b["max_pos"],
                 default_fraction=0.5, fraction_always=True)
    bias = cfg.flag("attention_bias", False)
    attention: dict[str, Any] = _biases(bias, bias, bias, False)
    if cfg.flag("use_qk_norm", False):
        attention["qk_norm"] = "head"
    groups = cfg.size("n_group", default=1)
    moe = _moe(cfg, ("n_routed_experts",), {"experts": 128, "top_k": 8},
               routing="sigmoid_group_topk" if groups > 1 else "sigmoid_topk",
               correction_bias=True, num_groups=groups,
               topk_groups=cfg.size("topk_group", default=1),
               routed_scaling=cfg.number("routed_scaling_factor", default=1.0),
               dense_layers=_dense_upto(cfg, "first_k_dense_replace", b["layers"], 1))
    _deepseek_widths(cfg, b, moe, 1408, 1)
    return _spec(b, attention, rope, moe=moe)


def _starcoder2(cfg: _Config) -> dict[str, Any]:
    """StarCoder2: GQA with biases, LayerNorm, plain GELU MLP with bias, tied head."""
    b = _base(cfg, {"hidden_size": 3072, "num_hidden_layers": 30, "num_attention_heads": 24,
                    "num_key_value_heads": 2, "intermediate_size": 12288, "vocab_size": 49152,
                    "max_position_embeddings": 4096, "eps": 1e-5, "act": "gelu_pytorch_tanh",
                    "tied": True}, eps_key="norm_epsilon")
    bias = cfg.flag("use_bias", True)
    rope = _rope(_rope_settings(cfg, 10000.0), b["head_dim"], b["max_pos"])
    return _spec(b, {**_all_bias(bias), "sliding_window": _opt_window(cfg, None)}, rope,
                 norm={"kind": "layernorm", "bias": True},
                 ffn={"kind": "plain", "bias": bias})


def _jamba(cfg: _Config) -> dict[str, Any]:
    """Jamba: Mamba layers with one attention layer in attn_layer_period (no positions at all),
    experts every expert_layer_period-th layer."""
    b = _base(cfg, {"hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
                    "num_key_value_heads": 8, "intermediate_size": 14336, "vocab_size": 65536,
                    "max_position_embeddings": 262144, "experts": 16, "top_k": 2})
    layers = b["layers"]
    period, offset = cfg.size("attn_layer_period", default=8), cfg.raw("attn_layer_offset", default=4)
    e_period, e_offset = cfg.size("expert_layer_period", default=2), cfg.raw("expert_layer_offset", default=1)
    if not (isinstance(offset, int) and 0 <= offset < period and isinstance(e_offset, int)
            and 0 <= e_offset < e_period):
        raise LlmarchError("config.json: jamba layer offsets must lie below their periods")
    types = ["full" if i % period == offset else "mamba" for i in range(layers)]
    dt_rank = cfg.raw("mamba_dt_rank", default="auto")
    dt_rank = math.ceil(b["hidden"] / 16) if dt_rank == "auto" else _positive_int("mamba_dt_rank", dt_rank)
    moe = _moe(cfg, ("num_experts",), {"experts": 16, "top_k": 2},
               dense_layers=tuple(i for i in range(layers) if i % e_period != e_offset))
    spec = _spec(b, {"layer_types": tuple(types)}, None, moe=moe, mamba={
        "d_state": cfg.size("mamba_d_state", default=16), "d_conv": cfg.size("mamba_d_conv", default=4),
        "inner_size": cfg.size("mamba_expand", default=2) * b["hidden"], "dt_rank": dt_rank,
        "conv_bias": cfg.flag("mamba_conv_bias", True), "proj_bias": cfg.flag("mamba_proj_bias", False),
        "inner_norms": True})
    if moe["num_experts"] == 1:
        spec["moe"] = None
    return spec


def _mamba(cfg: _Config) -> dict[str, Any]:
    """Mamba 1: every layer is one RMSNorm + one selective SSM mixer; no attention, no FFN."""
    hidden = cfg.size("hidden_size", default=768)
    inner = cfg.opt_size("intermediate_size") or cfg.size("expand", default=2) * hidden
    dt_rank = cfg.raw("time_step_rank", default="auto")
    dt_rank = math.ceil(hidden / 16) if dt_rank == "auto" else _positive_int("time_step_rank", dt_rank)
    layers = cfg.size("num_hidden_layers", default=32)
    return {
        "architecture": "decoder",
        "hidden_size": hidden,
        "num_layers": layers,
        "attention": {"num_heads": 1, "num_kv_heads": 1, "head_dim": hidden,
                      "layer_types": ("mamba",) * layers},
        "positions": {"kind": "none"},
        "norm": {"kind": "rmsnorm", "eps": cfg.number("layer_norm_epsilon", default=1e-5), "bias": False},
        "ffn": {"kind": "plain", "activation": "silu", "intermediate_size": inner},
        "mamba": {"d_state": cfg.size("state_size", default=16),
                  "d_conv": cfg.size("conv_kernel", default=4), "inner_size": inner,
                  "dt_rank": dt_rank, "conv_bias": cfg.flag("use_conv_bias", True),
                  "proj_bias": cfg.flag("use_bias", False), "with_ffn": False},
        "embeddings": {"vocab_size": cfg.size("vocab_size", default=50280)},
        "head": {"tied": cfg.flag("tie_word_embeddings", True)},
        # No position limit; the Mamba paper (§4.2) trains its language models on 2,048 tokens.
        "max_context": 2048,
    }


def _text_config(reader: Callable[[_Config], dict[str, Any]], text_type: str,
                 tied: bool) -> Callable[[_Config], dict[str, Any]]:
    """Multimodal wrappers (llama4, gemma3, mistral3): the language model in ``text_config``;
    the vision tower and projector are not counted. Whether the head is tied is the wrapper's
    own ``tie_word_embeddings`` (class default ``tied``), as transformers 5 decides it."""

    def read(cfg: _Config) -> dict[str, Any]:
        text = cfg.raw("text_config", default={}) or {}
        if not isinstance(text, dict):
            raise LlmarchError("config.json: text_config must be an object")
        fields = reader(_Config({"model_type": text_type, **text}))
        fields["head"] = {**fields["head"], "tied": cfg.flag("tie_word_embeddings", tied)}
        return fields

    return read


_READERS: dict[str, Callable[[_Config], dict[str, Any]]] = {
    **{t: partial(_llama_family, model_type=t) for t in _LLAMA_DEFAULTS},
    "qwen": _qwen,
    "gpt2": _gpt2,
    "gptj": _gptj,
    "gpt_neox": _gpt_neox,
    "bloom": _bloom,
    "t5": _t5,
    "bert": _bert,
    "bart": _bart,
    **{t: partial(_qwen3, model_type=t) for t in ("qwen3", "qwen3_moe", "qwen2_moe", "qwen3_next")},
    **{t: partial(_deepseek, model_type=t) for t in _DEEPSEEK},
    "kimi_k2": partial(_deepseek, model_type="deepseek_v3"),  # Kimi K2 ships DeepseekV3 code
    **{t: partial(_gemma, model_type=t) for t in _GEMMA},
    "gemma3": _text_config(partial(_gemma, model_type="gemma3_text"), "gemma3_text", tied=True),
    "llama4_text": _llama4,
    "llama4": _text_config(_llama4, "llama4_text", tied=False),
    "mistral3": _text_config(partial(_llama_family, model_type="mistral"), "mistral", tied=True),
    "phi": _phi,
    "phi3": _phi3,
    "falcon": _falcon,
    "olmo2": _olmo2,
    "granite": _granite,
    "cohere": partial(_cohere, model_type="cohere"),
    "cohere2": partial(_cohere, model_type="cohere2"),
    "glm4_moe": _glm4_moe,
    "starcoder2": _starcoder2,
    "jamba": _jamba,
    "mamba": _mamba,
}

SUPPORTED_MODEL_TYPES: tuple[str, ...] = tuple(sorted(_READERS))


def spec_from_hf_config(
    config: dict[str, Any], spec_id: str, meta: dict[str, Any] | None = None,
    origin: str = "config.json",
) -> ArchSpec:
    """The ArchSpec of a Hugging Face config.json mapping; errors name ``origin``, the file read.

    ``meta`` is a preset's [meta] table; without one (a user's config.json) the name is
    ``spec_id`` and the family follows from ``model_type``.
    """
    try:
        return validate_spec(hf_spec_mapping(config, spec_id, meta))
    except LlmarchError as exc:
        if origin == "config.json":
            raise
        message = exc.message.removeprefix("config.json")
        if message == exc.message:  # a spec-level error: say which file it came from
            message = f": {message}"
        raise LlmarchError(f"{origin}{message}", exc.hint) from None


def hf_spec_mapping(config: dict[str, Any], spec_id: str, meta: dict[str, Any] | None) -> dict[str, Any]:
    """The ArchSpec fields (a mapping, not yet validated) of a Hugging Face config.json mapping."""
    if not isinstance(config, dict):
        raise LlmarchError(f"config.json must be a JSON object, got {type(config).__name__}")
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or model_type not in _READERS:
        what = "has no model_type" if model_type is None else f"model_type {model_type!r} is not supported"
        raise LlmarchError(
            f"config.json {what}; supported: {', '.join(SUPPORTED_MODEL_TYPES)}; for any other "
            "architecture write an llmarch spec file (docs/spec-format.md)"
        )
    try:
        fields = _READERS[model_type](_Config(config))
    except OverflowError:  # a size too large for the float maths RoPE and scales need
        raise LlmarchError("config.json: a size is too large to compute with") from None
    if meta is None:
        meta = {"name": spec_id, "family": FAMILY_OF_MODEL_TYPE[model_type]}
    return {"id": spec_id, "model_type": model_type, **fields, "meta": meta}
