"""Every kind of bad input exits 2 with one 'llmarch: error:' line (plus an optional hint)."""

from __future__ import annotations

import pytest
from conftest import assert_one_line_error, run, run_json

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


def test_unknown_model_type_lists_the_supported_ones_and_points_to_spec_files(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"model_type": "xlnet"}')
    result = run("params", str(path))
    assert_one_line_error(result, "xlnet")
    assert "llama" in result.stderr and "gpt2" in result.stderr
    assert "deepseek_v3" in result.stderr and "jamba" in result.stderr and "spec file" in result.stderr


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


TINY = {"model_type": "llama", "hidden_size": 256, "intermediate_size": 688,
        "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 2,
        "max_position_embeddings": 512, "vocab_size": 1000, "tie_word_embeddings": True}
# Independent count of TINY (LlamaForCausalLM, tied head): embeddings, then per layer q, k, v,
# o (8 heads of 32, 2 KV heads), gate, up, down and two RMSNorms, then the final norm.
TINY_PARAMS = 1000 * 256 + 2 * (256 * 256 * 2 + 256 * 64 * 2 + 3 * 256 * 688 + 2 * 256) + 256


def write_json(path, data, prefix: bytes = b"") -> str:
    import json

    path.write_bytes(prefix + json.dumps(data).encode())
    return str(path)


def test_a_config_without_model_type_says_so(tmp_path):
    config = {k: v for k, v in TINY.items() if k != "model_type"}
    result = run("params", write_json(tmp_path / "cfg.json", config))
    assert_one_line_error(result, "cfg.json has no model_type")
    assert "Field required" not in result.stderr


@pytest.mark.parametrize(("text", "kind"), [("[1, 2]", "an array"), ('"llama"', "a string"),
                                            ("3", "a number"), ("null", "null")])
def test_valid_json_that_is_not_an_object_says_expected_a_json_object(tmp_path, text, kind):
    path = tmp_path / "x.json"
    path.write_text(text)
    assert_one_line_error(run("params", str(path)), f"x.json: expected a JSON object, got {kind}")


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    out = run_json("params", write_json(tmp_path / "bom.json", TINY, prefix=b"\xef\xbb\xbf"))
    assert out["total_params"] == TINY_PARAMS


def test_errors_name_the_file_actually_read(tmp_path):
    bad = {**TINY, "hidden_size": "wide"}
    assert_one_line_error(run("params", write_json(tmp_path / "mine.json", bad)),
                          "mine.json: hidden_size must be a positive integer")
    folder = tmp_path / "ckpt"
    folder.mkdir()
    write_json(folder / "config.json", bad)
    assert_one_line_error(run("params", str(folder)), f"{folder}/config.json: hidden_size")
    assert_one_line_error(run("params", "-", stdin='{"model_type": "llama", "vocab_size": 0}'),
                          "stdin: vocab_size")


def test_an_unknown_gpu_is_named_as_typed():
    assert_one_line_error(run("fit", "--gpu", "rtx9999"), "unknown GPU 'rtx9999'")


@pytest.mark.parametrize("option", ["--tp", "--pp", "--gpus"])
def test_a_zero_parallel_size_names_its_option(option):
    assert_one_line_error(run("memory", "llama-2-7b", option, "0"), f"{option} must be positive")


def test_spec_without_a_subcommand_prints_its_help():
    result = run("spec")
    assert result.exit_code == 0 and result.stderr == ""
    assert "export" in result.stdout and "validate" in result.stdout


@pytest.mark.parametrize("command", [["params"], ["show"], ["kvcache"], ["forward", "-t", "1"]])
def test_an_empty_model_name_says_so(command):
    assert_one_line_error(run(command[0], "", *command[1:]), "empty model name")


def test_set_and_a_config_json_with_the_same_values_agree(tmp_path):
    """hidden_size 4097 over 8 heads fails both ways; 4352 derives head_dim 544 both ways."""
    message = "num_heads (8) does not divide hidden_size (4097)"
    assert_one_line_error(run("params", write_json(tmp_path / "a.json", {**TINY, "hidden_size": 4097})),
                          message)
    base = write_json(tmp_path / "tiny.json", TINY)
    assert_one_line_error(run("params", base, "--set", "hidden_size=4097"), message)
    edited = run_json("show", write_json(tmp_path / "b.json", {**TINY, "hidden_size": 4352}))
    what_if = run_json("show", base, "--set", "hidden_size=4352")
    assert edited["attention"]["head_dim"] == what_if["attention"]["head_dim"] == 544
    assert edited["positions"] == what_if["positions"]
    assert run_json("params", base, "--set", "hidden_size=4352")["total_params"] == \
        run_json("params", str(tmp_path / "b.json"))["total_params"]


def test_an_odd_rotary_dimension_filling_the_head_is_refused_both_ways(tmp_path):
    """Llama rotates the whole head; with head_dim 33, transformers' ceil(33/2) = 17 pairs
    would need 34 dims. (An odd partial rotary, GPT-NeoX's 3 of 12, fits and stays valid.)"""
    config = {**TINY, "head_dim": 33}
    message = "rotary_dim (33) is odd and fills the head"
    assert_one_line_error(run("params", write_json(tmp_path / "odd.json", config)), message)
    base = write_json(tmp_path / "tiny.json", TINY)
    assert_one_line_error(run("params", base, "--set", "head_dim=33"), message)
    neox = {"model_type": "gpt_neox", "hidden_size": 48, "num_attention_heads": 4,
            "num_hidden_layers": 1, "intermediate_size": 64, "vocab_size": 100, "rotary_pct": 0.25}
    assert run_json("show", write_json(tmp_path / "neox.json", neox))["positions"]["rope"]["rotary_dim"] == 3


@pytest.mark.parametrize(("key", "value", "field"), [
    ("hidden_size", 1e29, "hidden_size"),
    ("hidden_size", (1 << 24) + 8, "hidden_size"),
    ("num_hidden_layers", 100_001, "num_layers"),
    ("vocab_size", (1 << 24) + 1, "vocab_size"),
    ("max_position_embeddings", 10**22, "max_context"),
    ("intermediate_size", 10**12, "intermediate_size"),
])
def test_sizes_beyond_their_documented_bound_are_exit_2_both_ways(tmp_path, key, value, field):
    assert_one_line_error(run("params", write_json(tmp_path / "big.json", {**TINY, key: value})), field)
    base = write_json(tmp_path / "tiny.json", TINY)
    assert_one_line_error(run("params", base, "--set", f"{key}={value}"), field)


@pytest.mark.parametrize("args", [["kvcache", "-c", "12345678901234567890123"],
                                  ["memory", "llama-2-7b", "-c", str(2**40 + 1)],
                                  ["kvcache", "-b", "12345678901234567890123"]])
def test_a_count_beyond_2_pow_40_is_exit_2(args):
    assert_one_line_error(run(*args), "over the limit of 1,099,511,627,776")


@pytest.mark.parametrize(("args", "message"), [
    (["memory", "llama-2-7b", "--train", "lora", "--rank", str(10**20)], "--rank"),
    (["memory", "llama-2-7b", "--gpus", str(10**20)], "--gpus"),
    (["fit", "--gpu", f"h100x{10**20}"], "GPU count"),
])
def test_ranks_and_gpu_counts_beyond_2_pow_24_are_exit_2(args, message):
    assert_one_line_error(run(*args), f"{message} ")
    assert "over the limit of 16,777,216" in run(*args).stderr


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


def test_window_what_if_on_a_hybrid_names_its_other_layers():
    assert_one_line_error(run("kvcache", "jamba-1.5-mini", "--window", "4k"), "mamba layers")
