"""--set / --gqa: key resolution, value parsing, derived sizes, re-validation."""

from __future__ import annotations

import pytest

from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.loader import load_preset
from llmarch_cli.specs.overrides import WhatIf, apply_what_if, parse_assignment, resolve_key


@pytest.fixture
def llama():
    return load_preset("llama-2-7b")


@pytest.mark.parametrize(("key", "path"), [
    ("num_key_value_heads", "attention.num_kv_heads"),
    ("hidden_size", "hidden_size"),
    ("num_hidden_layers", "num_layers"),
    ("intermediate_size", "ffn.intermediate_size"),
    ("vocab_size", "embeddings.vocab_size"),
    ("sliding_window", "attention.sliding_window"),
    ("rope_theta", "positions.rope.theta"),
    ("attention.num_kv_heads", "attention.num_kv_heads"),
    ("num_kv_heads", "attention.num_kv_heads"),  # a field name that occurs once
])
def test_keys_resolve_to_spec_paths(key, path):
    assert resolve_key(key) == path


def test_ambiguous_leaf_name_lists_the_candidates():
    with pytest.raises(LlmarchError) as err:
        resolve_key("bias")  # norm.bias, ffn.bias, head.bias
    assert "norm.bias" in err.value.hint and "ffn.bias" in err.value.hint


def test_values_are_json_scalars_or_strings():
    assert parse_assignment("rope_theta=1e6") == ("positions.rope.theta", 1e6)
    assert parse_assignment("head.tied=true") == ("head.tied", True)
    assert parse_assignment("norm.kind=layernorm") == ("norm.kind", "layernorm")
    assert parse_assignment("sliding_window=null") == ("attention.sliding_window", None)


@pytest.mark.parametrize("item", ["hidden_size", "=4", "hidden_size="])
def test_assignment_needs_key_and_value(item):
    with pytest.raises(LlmarchError):
        parse_assignment(item)


def test_gqa_sets_kv_heads(llama):
    spec = apply_what_if(llama, WhatIf(kv_heads=8))
    assert spec.attention.num_kv_heads == 8 and spec.attention.kind == "GQA"
    assert apply_what_if(llama, WhatIf(kv_heads=1)).attention.kind == "MQA"


def test_hidden_size_change_keeps_head_dim_derived(llama):
    spec = apply_what_if(llama, WhatIf.parse(["hidden_size=8192"]))
    assert spec.attention.head_dim == 8192 // 32
    assert spec.positions.rope.rotary_dim == spec.attention.head_dim


def test_explicit_head_dim_wins(llama):
    spec = apply_what_if(llama, WhatIf.parse(["hidden_size=8192", "head_dim=128"]))
    assert spec.attention.head_dim == 128 and spec.positions.rope.rotary_dim == 128


def test_layer_pattern_repeats_to_the_new_depth():
    spec = apply_what_if(load_preset("gpt-oss-20b"), WhatIf.parse(["num_hidden_layers=6"]))
    assert spec.attention.layer_types == ("sliding", "full") * 3


def test_invalid_result_is_reported_after_set(llama):
    with pytest.raises(LlmarchError, match="must divide"):
        apply_what_if(llama, WhatIf.parse(["num_key_value_heads=3"]))
    with pytest.raises(LlmarchError, match="norm.eps"):
        apply_what_if(llama, WhatIf.parse(["rms_norm_eps=NaN"]))
    with pytest.raises(LlmarchError, match="hidden_size"):
        apply_what_if(llama, WhatIf.parse(["hidden_size=0"]))


def test_part_the_model_lacks_is_an_error(llama):
    with pytest.raises(LlmarchError, match="no moe"):
        apply_what_if(llama, WhatIf.parse(["num_experts_per_tok=2"]))


def test_original_spec_is_untouched(llama):
    apply_what_if(llama, WhatIf.parse(["vocab_size=64000"]))
    assert llama.embeddings.vocab_size == 32000
