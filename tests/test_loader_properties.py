"""Property tests over the spec loaders: any input gives an ArchSpec or an LlmarchError."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.hf import SUPPORTED_MODEL_TYPES, spec_from_hf_config
from llmarch_cli.specs.loader import parse_text, spec_from_mapping
from llmarch_cli.specs.model import ArchSpec

# Small configs of every family, to be mutated one or more keys at a time.
BASE_CONFIGS = [
    {"model_type": "llama", "hidden_size": 64, "num_attention_heads": 4, "num_key_value_heads": 2,
     "num_hidden_layers": 2, "intermediate_size": 128, "vocab_size": 100,
     "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                      "high_freq_factor": 4.0, "original_max_position_embeddings": 64}},
    {"model_type": "mistral", "hidden_size": 64, "num_attention_heads": 4, "head_dim": 32,
     "sliding_window": 16, "rope_parameters": {"rope_type": "default", "rope_theta": 1e6}},
    {"model_type": "mixtral", "num_local_experts": 4, "num_experts_per_tok": 2},
    {"model_type": "qwen2", "use_sliding_window": True, "max_window_layers": 1,
     "num_hidden_layers": 3, "tie_word_embeddings": True},
    {"model_type": "qwen", "kv_channels": 16, "intermediate_size": 64, "no_bias": True},
    {"model_type": "gpt_oss", "num_hidden_layers": 2,
     "layer_types": ["sliding_attention", "full_attention"]},
    {"model_type": "gpt2", "n_embd": 64, "n_head": 4, "n_layer": 2, "n_inner": None},
    {"model_type": "gptj", "rotary_dim": 16},
    {"model_type": "gpt_neox", "rotary_pct": 0.5, "rotary_emb_base": 10000},
    {"model_type": "bloom", "n_embed": 64, "n_head": 4},
    {"model_type": "t5", "feed_forward_proj": "gated-gelu", "tie_word_embeddings": False},
    {"model_type": "bert", "type_vocab_size": 2},
    {"model_type": "bart", "scale_embedding": True},
]

KEYS = sorted({key for config in BASE_CONFIGS for key in config} | {
    "head_dim", "num_key_value_heads", "rms_norm_eps", "layer_norm_epsilon", "layer_norm_eps",
    "rope_theta", "rope_scaling", "rope_parameters", "partial_rotary_factor", "hidden_act",
    "activation_function", "max_position_embeddings", "n_positions", "attention_bias",
    "d_model", "d_kv", "num_heads", "num_layers", "num_decoder_layers", "encoder_ffn_dim",
    "sliding_window", "seq_length",
})

json_scalars = (
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
    | st.sampled_from(["silu", "gelu_new", "yarn", "linear", "llama3", "full_attention",
                       "sliding_attention", "gated-gelu", *SUPPORTED_MODEL_TYPES])
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["rope_type", "type", "factor", "rope_theta",
                                       "original_max_position_embeddings", "beta_fast",
                                       "partial_rotary_factor", "truncate"]), children,
                      max_size=4),
    max_leaves=8,
)


def _is_spec_or_error(call) -> None:
    try:
        result = call()
    except LlmarchError as exc:
        assert exc.message and "\n" not in exc.message
    else:
        assert isinstance(result, ArchSpec)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(BASE_CONFIGS),
    changes=st.dictionaries(st.sampled_from(KEYS), json_values, min_size=1, max_size=4),
)
def test_mutated_hf_configs_give_a_spec_or_an_llmarch_error(base: dict, changes: dict) -> None:
    _is_spec_or_error(lambda: spec_from_hf_config({**base, **changes}, "mutant"))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=16), json_values, max_size=6))
@example({"config_json": None})
@example({"config_json": '{"model_type": "gpt2"}', "meta": [1]})
def test_arbitrary_mappings_give_a_spec_or_an_llmarch_error(data: dict) -> None:
    _is_spec_or_error(lambda: spec_from_mapping(data, "mapping"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200) | st.sampled_from(['{"model_type": "llama"', "[meta]\nname = 1",
                                                "[1, 2]", "{}", "null", "a = 1\n", "\x00"]))
@example('{"hidden_size": 1' + "0" * 5000 + "}")  # beyond Python's int-parsing digit limit
@example("[" * 100_000)  # deeper than the JSON parser's recursion limit
@example("a = " + "[" * 100_000)
def test_arbitrary_text_parses_to_a_mapping_or_an_llmarch_error(text: str) -> None:
    try:
        data = parse_text(text, "input")
    except LlmarchError as exc:
        assert exc.message and "\n" not in exc.message
    else:
        assert isinstance(data, dict)
