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

_LAYER_TYPES = {"full_attention": "full", "sliding_attention": "sliding"}
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
    if not isinstance(hf_types, list) or any(
        not isinstance(t, str) or t not in _LAYER_TYPES for t in hf_types
    ):
        known = ", ".join(_LAYER_TYPES)
        raise LlmarchError(f"config.json: layer_types must be a list of {known}")
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
        return _spec_from_hf_config(config, spec_id, meta)
    except LlmarchError as exc:
        if origin == "config.json":
            raise
        message = exc.message.removeprefix("config.json")
        if message == exc.message:  # a spec-level error: say which file it came from
            message = f": {message}"
        raise LlmarchError(f"{origin}{message}", exc.hint) from None


def _spec_from_hf_config(config: dict[str, Any], spec_id: str, meta: dict[str, Any] | None) -> ArchSpec:
    if not isinstance(config, dict):
        raise LlmarchError(f"config.json must be a JSON object, got {type(config).__name__}")
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or model_type not in _READERS:
        what = "has no model_type" if model_type is None else f"model_type {model_type!r} is not supported"
        raise LlmarchError(
            f"config.json {what}; supported: {', '.join(SUPPORTED_MODEL_TYPES)}"
        )
    try:
        fields = _READERS[model_type](_Config(config))
    except OverflowError:  # a size too large for the float maths RoPE and scales need
        raise LlmarchError("config.json: a size is too large to compute with") from None
    if meta is None:
        meta = {"name": spec_id, "family": FAMILY_OF_MODEL_TYPE[model_type]}
    return validate_spec({"id": spec_id, "model_type": model_type, **fields, "meta": meta})
