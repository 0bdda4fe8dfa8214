"""Every kind of bad input exits 2 with one 'llmarch: error:' line (plus an optional hint)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from llmarch_cli.cli.app import app

# name: (file name, file contents)
CASES: dict[str, tuple[str, bytes]] = {
    "malformed_json": ("bad.json", b'{"model_type": "llama", '),
    "malformed_toml": ("bad.toml", b"hidden_size = [\n"),
    "empty_json": ("empty.json", b""),
    "whitespace_toml": ("blank.toml", b"  \n\n"),
    "binary_json": ("blob.json", bytes(range(256))),
    "binary_toml": ("blob.toml", b"\x00\x01\x02TOML"),
    "json_array": ("list.json", b"[1, 2, 3]"),
    "json_string": ("str.json", b'"llama"'),
    "unknown_model_type": ("mt.json", b'{"model_type": "xlnet"}'),
    "heads_not_dividing_hidden": ("h.json", b'{"model_type": "llama", "hidden_size": 4097}'),
    "kv_heads_not_dividing_heads": ("kv.json", b'{"model_type": "llama", "num_key_value_heads": 5}'),
    "zero_size": ("z.json", b'{"model_type": "llama", "num_hidden_layers": 0}'),
    "negative_size": ("n.json", b'{"model_type": "llama", "vocab_size": -1}'),
    "non_numeric_size": ("s.json", b'{"model_type": "llama", "hidden_size": "big"}'),
    "nan_eps": ("nan.json", b'{"model_type": "llama", "rms_norm_eps": NaN}'),
    "spec_nan_eps": ("spec.toml", b'architecture = "decoder"\n[norm]\nkind = "rmsnorm"\neps = nan\n'),
    # Issue 8's families
    "mla_rope_dims_beyond_head": ("mla.json", b'{"model_type": "deepseek_v3", "qk_rope_head_dim": 64, '
                                  b'"qk_nope_head_dim": 128, "head_dim": 64, "num_hidden_layers": 4, '
                                  b'"kv_lora_rank": 0}'),
    "layer_types_length": ("lt.json", b'{"model_type": "gemma3_text", "num_hidden_layers": 3, '
                           b'"layer_types": ["sliding_attention", "full_attention"]}'),
    "unknown_layer_type": ("ut.json", b'{"model_type": "gemma2", "num_hidden_layers": 2, '
                           b'"layer_types": ["sliding_attention", "banded_attention"]}'),
    "zero_chunk": ("ch.json", b'{"model_type": "llama4_text", "attention_chunk_size": 0}'),
    "zero_window": ("w.json", b'{"model_type": "gemma2", "sliding_window": 0}'),
    "first_k_dense_beyond_layers": ("fk.json", b'{"model_type": "deepseek_v3", "num_hidden_layers": 4, '
                                    b'"first_k_dense_replace": 9}'),
}


def assert_one_line_error(result, contains: str = "") -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("llmarch: error:"), result.stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint:")), result.stderr
    assert "Traceback" not in result.stderr
    assert contains.lower() in result.stderr.lower()


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin)


@pytest.mark.parametrize("name", CASES)
def test_bad_file_exits_2_with_one_line(name, tmp_path):
    filename, content = CASES[name]
    path = tmp_path / filename
    path.write_bytes(content)
    assert_one_line_error(run("params", str(path)))


def test_unknown_model_suggests_close_ids():
    result = run("show", "mistral-7b-v1")
    assert_one_line_error(result, "unknown model 'mistral-7b-v1'")
    assert "mistral-7b-v0.1" in result.stderr


def test_missing_file(tmp_path):
    assert_one_line_error(run("params", str(tmp_path / "nope.json")), "nope.json")


def test_folder_without_config_json(tmp_path):
    assert_one_line_error(run("params", str(tmp_path)), "no config.json")


def test_unknown_model_type_lists_the_supported_ones(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"model_type": "xlnet"}')
    result = run("params", str(path))
    assert_one_line_error(result, "xlnet")
    assert "llama" in result.stderr and "gpt2" in result.stderr


def test_empty_stdin():
    assert_one_line_error(run("params", "-", stdin=""), "stdin is empty")


def test_set_unknown_field_lists_close_names():
    result = run("params", "gpt2", "--set", "num_kv_head=4")
    assert_one_line_error(result, "unknown field 'num_kv_head'")
    assert "attention.num_kv_heads" in result.stderr


def test_set_without_value():
    assert_one_line_error(run("params", "gpt2", "--set", "hidden_size"), "expected KEY=VALUE")


def test_set_with_an_invalid_value():
    assert_one_line_error(run("params", "llama-2-7b", "--set", "num_key_value_heads=3"),
                          "must divide")


def test_gqa_below_one_is_a_usage_error():
    assert_one_line_error(run("params", "gpt2", "--gqa", "0"), "--gqa")


def test_unknown_format():
    assert_one_line_error(run("list", "--format", "xml"), "'xml' is not one of")


def test_unknown_command():
    assert_one_line_error(run("paramz"), "No such command")


def test_missing_argument():
    assert_one_line_error(run("params"), "Missing argument 'MODEL'")


@pytest.mark.parametrize("args", [["list", "--family", "nosuch"], ["list", "--feature", "warp"]])
def test_unknown_list_filter(args):
    assert_one_line_error(run(*args), "unknown")


def test_a_gqa_that_does_not_divide_the_heads_names_the_option():
    result = run("kvcache", "--gqa", "3")
    assert result.exit_code == 2
    assert result.stderr == "llmarch: error: --gqa 3: num_kv_heads (3) must divide num_heads (32)\n"


def test_a_bad_set_with_gqa_names_both_options():
    result = run("params", "llama-2-7b", "--gqa", "3", "--set", "num_hidden_layers=4")
    assert result.stderr.startswith("llmarch: error: after --set/--gqa: ")


SPEC = """id = "t"
architecture = "decoder"
hidden_size = 64
num_layers = 4
max_context = 128
[attention]
num_heads = 4
num_kv_heads = 4
head_dim = 16
{attention}
[positions]
kind = "rope"
rope = {{ theta = 10000.0, rotary_dim = {rotary} }}
[norm]
kind = "rmsnorm"
eps = 1e-6
bias = false
[ffn]
kind = "gated"
activation = "silu"
intermediate_size = 96
[embeddings]
vocab_size = 100
[meta]
name = "t"
family = "t"
{extra}
"""

SPEC_CASES = {
    "mla_rope_dims_larger_than_head": (
        'mla = { kv_lora_rank = 8, qk_nope_head_dim = 8, qk_rope_head_dim = 32, v_head_dim = 8 }',
        32, "", "head_dim"),
    "layer_types_length": ('layer_types = ["full", "full"]', 16, "", "2 entries for 4 layers"),
    "unknown_layer_type": ('layer_types = ["full", "banded", "full", "full"]', 16, "", "layer_types"),
    "zero_chunk": ('chunk_size = 0\nlayer_types = ["chunked", "full", "chunked", "full"]', 16, "",
                   "chunk_size"),
    "zero_window": ("sliding_window = 0", 16, "", "sliding_window"),
    "shared_experts_without_width": (
        "", 16, "[moe]\nnum_experts = 4\ntop_k = 1\nnum_shared_experts = 1", "width"),
    "dense_layer_beyond_layers": (
        "", 16, "[moe]\nnum_experts = 4\ntop_k = 1\ndense_layers = [0, 7]", "dense_layers"),
    "linear_layers_without_linear_attention": (
        'layer_types = ["linear", "linear", "linear", "full"]', 16, "", "linear_attention"),
}


@pytest.mark.parametrize("name", SPEC_CASES)
def test_bad_family_spec_exits_2_with_one_line(name, tmp_path):
    attention, rotary, extra, contains = SPEC_CASES[name]
    text = SPEC.format(attention=attention, rotary=rotary, extra=extra)
    path = tmp_path / "spec.toml"
    path.write_text(text)
    assert_one_line_error(run("params", str(path)), contains)


def test_unknown_model_type_points_to_spec_files(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"model_type": "xlnet"}')
    result = run("params", str(path))
    assert_one_line_error(result, "spec file")
    assert "deepseek_v3" in result.stderr and "jamba" in result.stderr


def test_window_what_if_on_a_hybrid_names_its_other_layers():
    assert_one_line_error(run("kvcache", "jamba-1.5-mini", "--window", "4k"), "mamba layers")
