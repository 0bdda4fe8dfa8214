"""config.json -> ArchSpec per model_type: old and new RoPE keys, class defaults, bad input."""

from __future__ import annotations

import math

import pytest

from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.hf import SUPPORTED_MODEL_TYPES, spec_from_hf_config


def _spec(config: dict, name: str = "m"):
    return spec_from_hf_config(config, name)


LLAMA_3_1_8B = {  # meta-llama/Llama-3.1-8B config.json (4.x schema)
    "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
    "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 8,
    "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "vocab_size": 128256,
    "rope_theta": 500000.0,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
}


def test_llama3_rope_scaling_reads_the_same_in_both_schemas() -> None:
    old = _spec(LLAMA_3_1_8B)
    new_config = {k: v for k, v in LLAMA_3_1_8B.items() if k not in ("rope_theta", "rope_scaling")}
    new_config["rope_parameters"] = {**LLAMA_3_1_8B["rope_scaling"], "rope_theta": 500000.0}
    assert _spec(new_config) == old
    rope = old.positions.rope
    assert (rope.theta, rope.rotary_dim, rope.scaling.kind, rope.scaling.factor) == (
        500000.0, 128, "llama3", 8.0)
    assert rope.scaling.original_max_positions == 8192
    assert old.attention.kind == "GQA" and old.kv_dim == 1024


ROPE_MODEL_TYPES = ("llama", "mistral", "mixtral", "qwen2", "gpt_oss")


@pytest.mark.parametrize("model_type", ROPE_MODEL_TYPES)
@pytest.mark.parametrize(
    "scaling",
    [
        {"rope_type": "default"},
        {"rope_type": "yarn", "factor": 4.0, "original_max_position_embeddings": 1024},
        {"rope_type": "dynamic", "factor": 2.0},
    ],
)
def test_old_and_new_rope_keys_give_the_same_spec(model_type: str, scaling: dict) -> None:
    old_scaling = {("type" if k == "rope_type" else k): v for k, v in scaling.items()}
    old = _spec({"model_type": model_type, "rope_theta": 123456.0, "rope_scaling": old_scaling})
    new = _spec({"model_type": model_type,
                 "rope_parameters": {**scaling, "rope_theta": 123456.0}})
    assert old == new
    assert old.positions.rope.theta == 123456.0
    kind = None if old.positions.rope.scaling is None else old.positions.rope.scaling.kind
    assert kind == (None if scaling["rope_type"] == "default" else scaling["rope_type"])


def test_legacy_rope_scaling_type_key_is_accepted() -> None:
    config = {"model_type": "llama", "rope_scaling": {"type": "linear", "factor": 2.0}}
    scaling = _spec(config).positions.rope.scaling
    assert (scaling.kind, scaling.factor) == ("linear", 2.0)


def test_rope_parameters_win_over_rope_scaling_and_top_level_keys() -> None:
    config = {
        "model_type": "llama", "rope_theta": 1.0,
        "rope_scaling": {"rope_type": "linear", "factor": 2.0},
        "rope_parameters": {"rope_type": "dynamic", "factor": 3.0, "rope_theta": 7.0},
    }
    rope = _spec(config).positions.rope
    assert (rope.theta, rope.scaling.kind, rope.scaling.factor) == (7.0, "dynamic", 3.0)


def test_rope_scaling_wins_over_top_level_theta() -> None:
    config = {"model_type": "mistral", "rope_theta": 1.0,
              "rope_scaling": {"rope_type": "default", "rope_theta": 5.0}}
    assert _spec(config).positions.rope.theta == 5.0


def test_gpt_neox_rotary_pct_and_rope_parameters_give_the_same_spec() -> None:
    base = {"model_type": "gpt_neox", "hidden_size": 512, "num_attention_heads": 8,
            "num_hidden_layers": 2, "intermediate_size": 2048, "vocab_size": 1000}
    old = _spec({**base, "rotary_pct": 0.25, "rotary_emb_base": 10000})
    new = _spec({**base, "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0,
                                             "partial_rotary_factor": 0.25}})
    assert old == new
    assert old.positions.rope.rotary_dim == 16  # 25% of head_dim 64
    assert old.residual == "parallel" and old.attention.fused_qkv


def test_gpt_neox_defaults_rotate_a_quarter_of_each_head() -> None:
    spec = _spec({"model_type": "gpt_neox"})
    assert spec.positions.rope.rotary_dim == spec.attention.head_dim // 4
    assert not spec.head.tied


def test_llama_default_rope_ignores_partial_rotary_factor() -> None:
    spec = _spec({"model_type": "llama", "partial_rotary_factor": 0.5})
    assert spec.positions.rope.rotary_dim == spec.attention.head_dim


def test_missing_keys_take_each_family_class_defaults() -> None:
    mistral, mixtral = _spec({"model_type": "mistral"}), _spec({"model_type": "mixtral"})
    assert (mistral.attention.num_kv_heads, mistral.attention.sliding_window) == (8, 4096)
    assert mistral.ffn.intermediate_size == 14336 and mistral.norm.eps == 1e-6
    assert mixtral.positions.rope.theta == 1e6 and mixtral.attention.sliding_window is None
    assert (mixtral.moe.num_experts, mixtral.moe.top_k, mixtral.norm.eps) == (8, 2, 1e-5)
    llama = _spec({"model_type": "llama"})
    assert llama.attention.num_kv_heads == 32 and llama.max_context == 2048


def test_mistral_sliding_window_null_means_full_attention() -> None:
    spec = _spec({"model_type": "mistral", "sliding_window": None})
    assert spec.attention.sliding_window is None and spec.attention.layer_window(0) is None


def test_head_dim_null_falls_back_to_hidden_over_heads() -> None:
    spec = _spec({"model_type": "mistral", "hidden_size": 1024, "num_attention_heads": 16,
                  "head_dim": None})
    assert spec.attention.head_dim == 64


def test_explicit_head_dim_may_differ_from_hidden_over_heads() -> None:
    spec = _spec({"model_type": "llama", "hidden_size": 1000, "num_attention_heads": 7,
                  "num_key_value_heads": 1, "head_dim": 96})
    assert spec.attention.head_dim == 96 and spec.attention.kind == "MQA"


def test_qwen2_ignores_sliding_window_unless_use_sliding_window() -> None:
    # Qwen2.5-7B's config carries sliding_window 131072 with use_sliding_window false.
    base = {"model_type": "qwen2", "num_hidden_layers": 4, "sliding_window": 131072}
    assert _spec({**base, "use_sliding_window": False}).attention.sliding_window is None
    on = _spec({**base, "use_sliding_window": True, "sliding_window": 512, "max_window_layers": 2})
    assert on.attention.sliding_window == 512
    assert on.attention.layer_types == ("full", "full", "sliding", "sliding")


def test_qwen2_has_qkv_bias_without_o_bias() -> None:
    a = _spec({"model_type": "qwen2"}).attention
    assert (a.q_bias, a.k_bias, a.v_bias, a.o_bias) == (True, True, True, False)


def test_qwen2_explicit_layer_types_are_used() -> None:
    config = {"model_type": "qwen2", "num_hidden_layers": 2, "use_sliding_window": True,
              "sliding_window": 64, "layer_types": ["sliding_attention", "full_attention"]}
    assert _spec(config).attention.layer_types == ("sliding", "full")


def test_gpt_oss_defaults_alternate_sliding_and_full_layers_with_sinks_and_yarn() -> None:
    spec = _spec({"model_type": "gpt_oss", "num_hidden_layers": 4})
    a = spec.attention
    assert a.layer_types == ("sliding", "full", "sliding", "full") and a.sliding_window == 128
    assert a.sinks and a.head_dim == 64 and a.o_bias
    rope = spec.positions.rope
    assert (rope.theta, rope.scaling.kind, rope.scaling.factor, rope.scaling.truncate) == (
        150000.0, "yarn", 32.0, False)
    assert spec.moe.router_bias and spec.ffn.bias and spec.ffn.glu_limit == 7.0


def test_llama4_reads_its_query_temperature_and_rotates_adjacent_pairs() -> None:
    config = {"model_type": "llama4_text", "num_hidden_layers": 8, "floor_scale": 16,
              "attn_scale": 0.25}
    spec = _spec(config)
    a = spec.attention
    assert (a.temperature_tuning.floor_scale, a.temperature_tuning.attn_scale) == (16, 0.25)
    assert a.nope_layers == (3, 7) and spec.positions.rope.pairing == "interleaved"
    assert _spec({**config, "attn_temperature_tuning": 4}).attention.temperature_tuning is not None
    assert _spec({**config, "attn_temperature_tuning": False}).attention.temperature_tuning is None
    with pytest.raises(LlmarchError, match="attn_temperature_tuning"):
        _spec({**config, "attn_temperature_tuning": "yes"})


def test_qwen_1_uses_kv_channels_and_half_the_intermediate_size() -> None:
    spec = _spec({"model_type": "qwen", "hidden_size": 4096, "num_attention_heads": 32,
                  "kv_channels": 128, "intermediate_size": 22016, "rotary_emb_base": 10000,
                  "rotary_pct": 1.0, "seq_length": 8192, "max_position_embeddings": 32768,
                  "no_bias": True})
    a = spec.attention
    assert spec.ffn.intermediate_size == 11008 and a.head_dim == 128 and a.fused_qkv
    assert (a.q_bias, a.o_bias, spec.ffn.bias) == (True, False, False)
    assert spec.max_context == 8192 and spec.meta.family == "qwen"


def test_gpt2_reads_its_own_key_names_and_ties_the_head() -> None:
    spec = _spec({"model_type": "gpt2", "n_embd": 1600, "n_head": 25, "n_layer": 48,
                  "n_positions": 1024, "n_inner": None})
    assert (spec.hidden_size, spec.attention.head_dim, spec.num_layers) == (1600, 64, 48)
    assert spec.ffn.intermediate_size == 6400 and spec.ffn.activation == "gelu_tanh"
    assert spec.positions.kind == "learned" and spec.head.tied


def test_gptj_is_parallel_with_one_norm_interleaved_partial_rope_and_a_head_bias() -> None:
    spec = _spec({"model_type": "gptj"})
    assert (spec.residual, spec.parallel_norms) == ("parallel", 1)
    assert spec.positions.rope.pairing == "interleaved" and spec.positions.rope.rotary_dim == 64
    assert spec.head.bias and not spec.head.tied


def test_bloom_accepts_n_embed_and_uses_alibi_with_an_embedding_norm() -> None:
    spec = _spec({"model_type": "bloom", "n_embed": 14336, "n_head": 112, "n_layer": 70,
                  "vocab_size": 250880})
    assert (spec.hidden_size, spec.attention.num_heads, spec.num_layers) == (14336, 112, 70)
    assert spec.positions.kind == "alibi" and spec.norm.embedding_norm and spec.head.tied
    assert spec.ffn.intermediate_size == 4 * 14336


def test_t5_v1_0_ties_and_scales_the_head_v1_1_does_not() -> None:
    v10 = _spec({"model_type": "t5", "d_model": 512})
    v11 = _spec({"model_type": "t5", "d_model": 768, "feed_forward_proj": "gated-gelu",
                 "tie_word_embeddings": False})
    assert v10.head.tied and math.isclose(v10.head.output_scale, 512**-0.5)
    assert v10.ffn.kind == "plain" and v10.ffn.activation == "relu"
    assert not v11.head.tied and v11.head.output_scale is None
    assert (v11.ffn.kind, v11.ffn.activation) == ("gated", "gelu_tanh")
    assert v10.attention.scale == 1.0 and v10.positions.kind == "relative_buckets"
    assert v10.num_decoder_layers == v10.num_layers == 6


def test_bert_is_a_post_norm_encoder_with_token_types_and_an_mlm_head() -> None:
    spec = _spec({"model_type": "bert"})
    assert spec.architecture == "encoder" and spec.norm.placement == "post"
    assert spec.embeddings.token_types == 2 and spec.norm.eps == 1e-12
    assert spec.head.kind == "masked_lm" and spec.head.transform and spec.head.bias


def test_bart_learned_positions_have_offset_two_and_scale_embedding_is_sqrt_d() -> None:
    spec = _spec({"model_type": "bart", "d_model": 768, "encoder_attention_heads": 12,
                  "decoder_attention_heads": 12, "encoder_layers": 6, "decoder_layers": 6,
                  "scale_embedding": True})
    assert spec.positions.offset == 2 and spec.positions.max_positions == 1024
    assert math.isclose(spec.embeddings.scale, math.sqrt(768))
    assert spec.architecture == "encoder-decoder" and spec.head.tied


# DeepseekV2Config's num_experts_per_tok defaults to None: a config must give it.
@pytest.mark.parametrize("model_type", [t for t in SUPPORTED_MODEL_TYPES if t != "deepseek_v2"])
def test_every_supported_model_type_builds_from_class_defaults(model_type: str) -> None:
    spec = _spec({"model_type": model_type}, name="user-config")
    assert spec.model_type == model_type
    assert spec.meta.name == "user-config" and spec.meta.family


def test_preset_meta_is_used_when_given() -> None:
    spec = spec_from_hf_config({"model_type": "gpt2"}, "gpt2",
                               meta={"name": "GPT-2", "family": "gpt", "developer": "OpenAI"})
    assert spec.meta.developer == "OpenAI" and spec.id == "gpt2"


# ---------------------------------------------------------------- bad input


def _error(config: dict) -> str:
    with pytest.raises(LlmarchError) as info:
        _spec(config)
    message = info.value.message
    assert "\n" not in message
    return message


def test_unknown_model_type_lists_the_supported_ones() -> None:
    message = _error({"model_type": "xlnet"})
    assert "'xlnet'" in message and "llama" in message and "gpt_oss" in message


def test_missing_model_type_is_an_error() -> None:
    assert "model_type" in _error({"hidden_size": 8})


def test_heads_not_dividing_hidden_without_head_dim() -> None:
    message = _error({"model_type": "llama", "hidden_size": 100, "num_attention_heads": 7})
    assert "num_heads (7) does not divide hidden_size (100)" in message


def test_kv_heads_not_dividing_heads() -> None:
    message = _error({"model_type": "llama", "num_attention_heads": 32, "num_key_value_heads": 5})
    assert "num_kv_heads (5) must divide num_heads (32)" in message


@pytest.mark.parametrize("value", [0, -4096, "4096", "abc", 12.5, True, [4096]])
def test_bad_sizes_name_the_key(value: object) -> None:
    message = _error({"model_type": "llama", "hidden_size": value})
    assert "hidden_size must be a positive integer" in message


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "1e-5"])
def test_bad_eps_is_rejected(value: object) -> None:
    assert "rms_norm_eps must be a finite number" in _error(
        {"model_type": "llama", "rms_norm_eps": value})


def test_negative_eps_is_rejected() -> None:
    assert "norm.eps" in _error({"model_type": "gpt2", "layer_norm_epsilon": -1e-5})


def test_unknown_rope_type_is_rejected() -> None:
    message = _error({"model_type": "llama", "rope_scaling": {"rope_type": "mrope", "factor": 2}})
    assert "'mrope'" in message and "yarn" in message


def test_unknown_activation_is_rejected() -> None:
    assert "hidden_act 'tanhshrink'" in _error({"model_type": "llama", "hidden_act": "tanhshrink"})


def test_bart_with_different_encoder_and_decoder_widths_is_rejected() -> None:
    message = _error({"model_type": "bart", "encoder_ffn_dim": 1024, "decoder_ffn_dim": 2048})
    assert "encoder_ffn_dim (1024) differs from decoder_ffn_dim (2048)" in message


def test_layer_types_with_unknown_kinds_are_rejected() -> None:
    message = _error({"model_type": "gpt_oss", "num_hidden_layers": 2,
                      "layer_types": ["chunked_attention", "full_attention"]})
    assert "layer_types" in message


def test_layer_types_of_the_wrong_length_are_rejected() -> None:
    message = _error({"model_type": "gpt_oss", "num_hidden_layers": 3,
                      "layer_types": ["sliding_attention", "full_attention"]})
    assert "2 entries for 3 layers" in message


def test_every_supported_model_type_has_one_family_entry_that_resolves():
    from llmarch_cli.specs.families import FAMILIES, FAMILY_OF_MODEL_TYPE
    from llmarch_cli.specs.registry import FAMILY_REPRESENTATIVES

    assert sorted(FAMILIES) == sorted(SUPPORTED_MODEL_TYPES)
    assert set(FAMILY_OF_MODEL_TYPE.values()) <= set(FAMILY_REPRESENTATIVES)


def test_deepseek_v2_without_experts_per_token_is_an_error() -> None:
    with pytest.raises(LlmarchError, match="num_experts_per_tok"):
        _spec({"model_type": "deepseek_v2"})
