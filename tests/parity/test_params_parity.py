"""count_params equals, to the parameter, what transformers builds from the same config.json.

Models are built on the meta device (no memory, no weights); ``parameters()`` already yields a
tied weight once. Decoder LMs are the causal-LM classes, T5 and BART the conditional-generation
classes, BERT BertForMaskedLM. Qwen 1 has no transformers class: it is compared with the
equivalent Qwen2 config (q/k/v bias, no o bias, MLP width intermediate_size / 2, untied).
"""

from __future__ import annotations

import pytest

from llmarch_cli.analysis.params import count_params
from llmarch_cli.specs.hf import spec_from_hf_config
from llmarch_cli.specs.loader import load_preset, preset_config
from llmarch_cli.specs.registry import preset_ids

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

CONFIG_PRESETS = [pid for pid in preset_ids() if preset_config(pid) is not None]


def _qwen1_as_qwen2(cfg: dict) -> dict:
    """Qwen 1's QWenLMHeadModel expressed as a Qwen2 config with the same tensors."""
    return {
        "model_type": "qwen2",
        "hidden_size": cfg["hidden_size"],
        "num_hidden_layers": cfg["num_hidden_layers"],
        "num_attention_heads": cfg["num_attention_heads"],
        "num_key_value_heads": cfg["num_attention_heads"],
        "head_dim": cfg.get("kv_channels", 128),
        "intermediate_size": cfg["intermediate_size"] // 2,
        "vocab_size": cfg["vocab_size"],
        "tie_word_embeddings": False,
    }


# Multimodal wrappers: the parameter names of their language model and head.
MULTIMODAL = {"llama4": ("language_model.",), "gemma3": ("model.language_model.", "lm_head."),
              "mistral3": ("model.language_model.", "lm_head.")}


def meta_model(config: dict):
    """The transformers model built from ``config`` on the meta device (Qwen 1 as Qwen2)."""
    cfg = dict(config)
    if cfg["model_type"] == "qwen":
        cfg = _qwen1_as_qwen2(cfg)
    model_type = cfg.pop("model_type")
    if model_type == "kimi_k2":  # Kimi K2's remote code is DeepseekV3's
        model_type = "deepseek_v3"
    # Quantisation settings (gpt-oss ships MXFP4) would replace expert tensors by packed blocks.
    cfg.pop("quantization_config", None)
    hf_config = transformers.AutoConfig.for_model(model_type, **cfg)
    classes = {
        "t5": transformers.T5ForConditionalGeneration,
        "bart": transformers.BartForConditionalGeneration,
        "bert": transformers.BertForMaskedLM,
    }
    with torch.device("meta"):
        if model_type in classes:
            model = classes[model_type](hf_config)
        elif model_type in MULTIMODAL:
            model = transformers.AutoModelForImageTextToText.from_config(hf_config)
        else:
            model = transformers.AutoModelForCausalLM.from_config(hf_config)
    return model


def transformers_param_count(config: dict) -> int:
    """sum(p.numel()) of the transformers model built from ``config`` on the meta device
    (of the language model and head, for multimodal wrappers)."""
    model = meta_model(config)
    if config["model_type"] in MULTIMODAL:  # llmarch counts no vision tower
        return sum(p.numel() for name, p in model.named_parameters()
                   if name.startswith(MULTIMODAL[config["model_type"]]))
    total = sum(p.numel() for p in model.parameters())
    if config["model_type"] == "t5" and config.get("tie_word_embeddings") is False:
        # transformers 5 builds every T5 with lm_head tied to `shared`, but v1.1 checkpoints
        # (tie_word_embeddings: false) ship a separate lm_head.weight: count it.
        assert model.lm_head.weight is model.shared.weight
        total += model.lm_head.weight.numel()
    return total


@pytest.mark.parametrize("preset_id", CONFIG_PRESETS)
def test_preset_param_count_matches_transformers(preset_id: str) -> None:
    expected = transformers_param_count(preset_config(preset_id))
    assert count_params(load_preset(preset_id)).total_params == expected


# User-style configs: transformers 5 rope_parameters, explicit head_dim != hidden / heads, GQA,
# tied and untied heads, non-default biases and widths.
USER_CONFIGS = {
    "llama-headdim-gqa-tied-llama3": {
        "model_type": "llama", "hidden_size": 320, "num_hidden_layers": 3,
        "num_attention_heads": 8, "num_key_value_heads": 2, "head_dim": 48,
        "intermediate_size": 864, "vocab_size": 1000, "tie_word_embeddings": True,
        "attention_bias": True, "mlp_bias": True, "max_position_embeddings": 4096,
        "rope_parameters": {"rope_type": "llama3", "rope_theta": 500000.0, "factor": 8.0,
                            "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                            "original_max_position_embeddings": 1024},
    },
    "mistral-headdim-untied": {
        "model_type": "mistral", "hidden_size": 256, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 1, "head_dim": 96,
        "intermediate_size": 700, "vocab_size": 777, "sliding_window": None,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1e6},
    },
    "qwen2-tied-swa": {
        "model_type": "qwen2", "hidden_size": 192, "num_hidden_layers": 4,
        "num_attention_heads": 6, "num_key_value_heads": 2, "intermediate_size": 500,
        "vocab_size": 900, "tie_word_embeddings": True, "use_sliding_window": True,
        "sliding_window": 64, "max_window_layers": 2,
        "rope_parameters": {"rope_type": "yarn", "rope_theta": 1e6, "factor": 4.0,
                            "original_max_position_embeddings": 8192},
    },
    "mixtral-small": {
        "model_type": "mixtral", "hidden_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 300,
        "num_local_experts": 5, "num_experts_per_tok": 2, "vocab_size": 500,
        "rope_parameters": {"rope_type": "default", "rope_theta": 1e6},
    },
    "gpt-oss-small": {
        "model_type": "gpt_oss", "hidden_size": 96, "num_hidden_layers": 3,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 40,
        "intermediate_size": 72, "num_local_experts": 6, "num_experts_per_tok": 2,
        "vocab_size": 300, "tie_word_embeddings": True,
    },
    "gpt-neox-rope-parameters": {
        "model_type": "gpt_neox", "hidden_size": 256, "num_hidden_layers": 2,
        "num_attention_heads": 8, "intermediate_size": 1000, "vocab_size": 600,
        "use_parallel_residual": False, "attention_bias": False, "tie_word_embeddings": True,
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                            "partial_rotary_factor": 0.5},
    },
    "gpt2-inner": {
        "model_type": "gpt2", "n_embd": 96, "n_layer": 2, "n_head": 3, "n_inner": 200,
        "vocab_size": 400, "n_positions": 77, "tie_word_embeddings": False,
    },
    "gptj-small": {
        "model_type": "gptj", "n_embd": 128, "n_layer": 2, "n_head": 4, "rotary_dim": 16,
        "vocab_size": 333, "n_positions": 64,
    },
    "bloom-n-embed": {
        "model_type": "bloom", "n_embed": 96, "n_layer": 2, "num_attention_heads": 4,
        "vocab_size": 250,
    },
    "t5-v1.0-tied": {
        "model_type": "t5", "d_model": 64, "d_kv": 24, "d_ff": 100, "num_layers": 2,
        "num_decoder_layers": 3, "num_heads": 4, "vocab_size": 320,
    },
    "t5-v1.1-gated": {
        "model_type": "t5", "d_model": 64, "d_kv": 16, "d_ff": 90, "num_layers": 2,
        "num_heads": 4, "vocab_size": 320, "feed_forward_proj": "gated-gelu",
        "tie_word_embeddings": False, "relative_attention_num_buckets": 16,
    },
    "bert-types": {
        "model_type": "bert", "hidden_size": 96, "num_hidden_layers": 2,
        "num_attention_heads": 4, "intermediate_size": 200, "vocab_size": 500,
        "type_vocab_size": 3, "max_position_embeddings": 130,
    },
    "bart-scaled": {
        "model_type": "bart", "d_model": 64, "encoder_layers": 2, "decoder_layers": 3,
        "encoder_attention_heads": 4, "decoder_attention_heads": 4, "encoder_ffn_dim": 128,
        "decoder_ffn_dim": 128, "vocab_size": 300, "max_position_embeddings": 100,
        "scale_embedding": True,
    },
    "qwen1-small": {
        "model_type": "qwen", "hidden_size": 128, "num_hidden_layers": 2,
        "num_attention_heads": 4, "kv_channels": 48, "intermediate_size": 400,
        "vocab_size": 500, "rotary_pct": 1.0, "rotary_emb_base": 10000, "no_bias": True,
    },
}


# The families of issue 8, small: every structural switch their readers honour (MLA with and
# without q LoRA, dense-first and interleaved MoE, shared experts, hybrid layers, QK-norm kinds).
_SMALL = {"hidden_size": 64, "num_hidden_layers": 4, "num_attention_heads": 4,
          "num_key_value_heads": 2, "intermediate_size": 96, "vocab_size": 100}
_MOE = {"num_experts_per_tok": 2, "moe_intermediate_size": 32}
NEW_FAMILY_CONFIGS = {
    "qwen3": {},
    "qwen3_moe": {"num_experts": 8, **_MOE, "mlp_only_layers": [0]},
    "qwen2_moe": {"num_experts": 8, **_MOE, "shared_expert_intermediate_size": 48,
                  "mlp_only_layers": [0]},
    "qwen3_next": {"num_experts": 8, **_MOE, "shared_expert_intermediate_size": 48,
                   "head_dim": 16, "linear_key_head_dim": 8, "linear_value_head_dim": 12,
                   "linear_num_key_heads": 2, "linear_num_value_heads": 4},
    "deepseek_v2": {"n_routed_experts": 8, **_MOE, "n_shared_experts": 2,
                    "first_k_dense_replace": 1, "q_lora_rank": None, "kv_lora_rank": 16,
                    "qk_nope_head_dim": 8, "qk_rope_head_dim": 4, "v_head_dim": 10},
    "deepseek_v3": {"n_routed_experts": 8, **_MOE, "n_shared_experts": 1,
                    "first_k_dense_replace": 1, "q_lora_rank": 24, "kv_lora_rank": 16,
                    "qk_nope_head_dim": 8, "qk_rope_head_dim": 4, "v_head_dim": 10,
                    "n_group": 2, "topk_group": 1, "attention_bias": True},
    "gemma": {"head_dim": 16},
    "gemma2": {"head_dim": 16},
    "gemma3_text": {"head_dim": 16},
    "llama4_text": {"head_dim": 16, "num_local_experts": 4, "intermediate_size_mlp": 80,
                    "interleave_moe_layer_step": 2},
    "phi": {},
    "phi3": {"vocab_size": 32100},
    "falcon": {"new_decoder_architecture": True, "num_kv_heads": 2},
    "olmo2": {},
    "granite": {"tie_word_embeddings": True},
    "cohere": {"use_qk_norm": True},
    "cohere2": {"head_dim": 16},
    "glm4_moe": {"n_routed_experts": 8, **_MOE, "n_shared_experts": 1,
                 "first_k_dense_replace": 1, "use_qk_norm": True, "head_dim": 16,
                 "attention_bias": True},
    "starcoder2": {},
    "jamba": {"num_experts": 4, "mamba_dt_rank": 8, "attn_layer_period": 4, "attn_layer_offset": 1},
    "mamba": {"time_step_rank": 8},
}
for _type, _extra in NEW_FAMILY_CONFIGS.items():
    USER_CONFIGS[f"{_type}-small"] = {"model_type": _type, **_SMALL, **_extra}
    if _type != "deepseek_v2":  # its class has no default num_experts_per_tok
        USER_CONFIGS[f"{_type}-class-defaults"] = {"model_type": _type}
USER_CONFIGS["falcon-7b-style-mqa"] = {"model_type": "falcon", **_SMALL, "multi_query": True}


@pytest.mark.parametrize("name", sorted(USER_CONFIGS))
def test_user_config_param_count_matches_transformers(name: str) -> None:
    config = USER_CONFIGS[name]
    spec = spec_from_hf_config(config, name)
    assert count_params(spec).total_params == transformers_param_count(config)


ROPE_TYPES = ("llama", "mistral", "mixtral", "qwen2", "gpt_oss", "gpt_neox", "qwen3", "qwen3_moe",
              "qwen2_moe", "deepseek_v2", "deepseek_v3", "gemma", "gemma2", "llama4_text", "phi3",
              "olmo2", "granite", "cohere", "glm4_moe", "starcoder2", "falcon")
ROPE_CASES = [(pid, preset_config(pid)) for pid in CONFIG_PRESETS
              if preset_config(pid)["model_type"] in ROPE_TYPES]
ROPE_CASES += [(name, cfg) for name, cfg in sorted(USER_CONFIGS.items())
               if cfg["model_type"] in ROPE_TYPES]


@pytest.mark.parametrize(("name", "config"), ROPE_CASES, ids=[n for n, _ in ROPE_CASES])
def test_rope_matches_transformers_standardised_rope_parameters(name: str, config: dict) -> None:
    cfg = dict(config)
    cfg.pop("quantization_config", None)
    rope = transformers.AutoConfig.for_model(cfg.pop("model_type"), **cfg).rope_parameters
    ours = spec_from_hf_config(config, name).positions.rope
    assert ours.theta == rope["rope_theta"]
    kind = "default" if ours.scaling is None else ours.scaling.kind
    assert kind == rope["rope_type"]
    if ours.scaling is not None:
        assert ours.scaling.factor == rope["factor"]
        assert ours.scaling.original_max_positions == rope.get("original_max_position_embeddings")


GEMMA3_ROPES = {
    "gemma-3-1b": preset_config("gemma-3-1b"),
    "gemma-3-27b": preset_config("gemma-3-27b")["text_config"] | {"model_type": "gemma3_text"},
    "transformers-5-keys": {"model_type": "gemma3_text", "rope_parameters": {
        "full_attention": {"rope_type": "linear", "factor": 4.0, "rope_theta": 2e6},
        "sliding_attention": {"rope_type": "default", "rope_theta": 5e4}}},
}


@pytest.mark.parametrize("name", sorted(GEMMA3_ROPES))
def test_gemma3_global_and_local_rope_match_transformers_per_layer_type(name: str) -> None:
    config = dict(GEMMA3_ROPES[name])
    ours = spec_from_hf_config(config, name).positions
    cfg = dict(config)
    rope = transformers.AutoConfig.for_model(cfg.pop("model_type"), **cfg).rope_parameters
    assert ours.rope.theta == rope["full_attention"]["rope_theta"]
    assert ours.local_rope.theta == rope["sliding_attention"]["rope_theta"]
    scaling = ours.rope.scaling
    assert (scaling.kind if scaling else "default") == rope["full_attention"]["rope_type"]
    if scaling is not None:
        assert scaling.factor == rope["full_attention"]["factor"]
    assert ours.local_rope.scaling is None and rope["sliding_attention"]["rope_type"] == "default"
