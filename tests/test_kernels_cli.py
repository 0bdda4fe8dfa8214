"""``llmarch kernel NAME``: JSON numbers that satisfy the identities, pictures, bad input."""

from __future__ import annotations

import json
import math

import jsonschema
import pytest
from conftest import run as run_cli

from llmarch_cli.cli.commands.kernel import KERNELS


def shape(nested) -> list[int]:
    """The shape of a nested list (rectangular)."""
    return [len(nested), *shape(nested[0])] if isinstance(nested, list) else []


def run(*args: str):
    return run_cli("kernel", *args)


def kernel_json(*args: str) -> dict:
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", KERNELS)
def test_every_kernel_prints_json_and_a_table(name):
    assert kernel_json(name)["kernel"] == name
    table = run(name, "--format", "table")
    assert table.exit_code == 0, table.output
    assert table.stdout.startswith(name + ":")


@pytest.mark.parametrize("name", KERNELS)
def test_every_kernel_prints_tsv_rows_when_asked(name):
    result = run(name, "--format", "tsv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) >= 2 and all(line.count("\t") == lines[0].count("\t") for line in lines)


def test_attention_json_shows_gqa_groups_masks_and_window_equality():
    data = kernel_json("attention", "--len", "6", "--heads", "6", "--kv-heads", "2", "--window", "2")
    assert data["kind"] == "GQA"
    assert data["groups"] == [{"kv_head": 0, "query_heads": [0, 1, 2]},
                              {"kv_head": 1, "query_heads": [3, 4, 5]}]
    assert [sum(row) for row in data["masks"]["window"]] == [1, 2, 2, 2, 2, 2]
    assert data["masked_weights_zero"] is True
    assert data["windowed_max_abs_diff"] < 1e-6
    assert all(abs(s - 1) < 1e-5 for head in data["row_sums"]["causal"] for s in head)
    assert all(s < 1 for head in data["row_sums"]["sinks"] for s in head)


def test_rope_json_shows_relative_invariance():
    data = kernel_json("rope", "--len", "12", "--head-dim", "8")
    assert data["relative_max_deviation"] < 1e-4
    assert len(data["inv_freq"]) == 4 and data["inv_freq"][0] == 1.0


def test_alibi_with_6_heads_shows_the_non_power_of_two_rule():
    data = kernel_json("alibi", "--heads", "6")
    assert data["power_of_two"] == 4
    assert data["slopes"] == [2**-2, 2**-4, 2**-6, 2**-8, 2**-1, 2**-3]


def test_moe_load_counts_every_assignment():
    data = kernel_json("moe", "--len", "10", "--experts", "4", "--top-k", "2")
    assert sum(data["expert_load"]) == 20 and len(data["expert_load"]) == 4
    assert data["renorm_vs_topk_softmax_max_abs_diff"] < 1e-6


def test_moe_with_llama4s_routing_weighs_each_pick_by_the_sigmoid_of_its_logit():
    data = kernel_json("moe", "--routing", "sigmoid_topk", "--len", "6", "--top-k", "2")
    for route, logits in zip(data["routes"], data["router_logits"], strict=True):
        best = sorted(range(len(logits)), key=lambda e: -logits[e])[:2]
        assert route["experts"] == best
        expected = [1 / (1 + math.exp(-logits[e])) for e in best]
        assert route["weights"] == pytest.approx(expected, abs=1e-4)


def test_lora_and_quant_report_their_checks():
    assert kernel_json("lora")["merged_max_abs_diff"] < 1e-5
    formats = {row["format"]: row for row in kernel_json("quant", "--dim", "128")["formats"]}
    assert set(formats) == {"int8", "int4", "nf4", "nf4+dq"}
    assert formats["nf4+dq"]["bits_per_param"] == pytest.approx(4 + 8 / 64 + 32 / (64 * 256))


@pytest.mark.parametrize(("args", "message"), [
    (("softmax",), "unknown kernel 'softmax'"),
    (("attention", "--window", "0"), "'--window': 0 is not in the range 1<=x<=4096"),
    (("attention", "--heads", "6", "--kv-heads", "4"), "--kv-heads 4 must divide --heads 6"),
    (("attention", "--len", "300"), "--len 300 is too large for attention (at most 256)"),
    (("norm", "--len", "100000"), "100000 is not in the range"),
    (("norm", "--dim", "0"), "'--dim': 0 is not in the range"),
    (("rope", "--head-dim", "7"), "even"),
    (("moe", "--top-k", "9"), "exceeds --experts"),
    (("moe", "--routing", "sigmoid"), "--routing 'sigmoid' is not one the moe demo runs"),
    (("moe", "--routing", "sigmoid_group_topk"), "is not one the moe demo runs"),
    (("quant", "--group-size", "-1"), "'--group-size': -1 is not in the range"),
])
def test_bad_input_exits_2_with_one_line(args, message):
    result = run(*args)
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith("llmarch: error:") and message in lines[0]
    assert len(lines) <= 2 and "Traceback" not in result.stderr


@pytest.mark.parametrize("name", KERNELS)
def test_every_kernel_json_validates_against_its_printed_schema(name):
    schema = json.loads(run_cli("schema", "kernel").stdout)
    jsonschema.validate(kernel_json(name), schema)
    wrong = {**kernel_json(name), "surplus": 1}  # every key is documented: no other is allowed
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, schema)


def test_attention_arrays_have_the_shapes_of_its_inputs():
    heads, kv_heads, length = 6, 3, 5
    data = kernel_json("attention", "--len", str(length), "--heads", str(heads), "--kv-heads",
                       str(kv_heads))
    for mask in ("causal", "window", "sinks"):
        assert shape(data["weights"][mask]) == [heads, length, length]
        assert shape(data["row_sums"][mask]) == [heads, length]
    assert shape(data["masks"]["causal"]) == [length, length]
    assert [row["kv_head"] for row in data["heads_table"]] == [h // 2 for h in range(heads)]
    # entropy of a causal row over i + 1 keys is at most ln(i + 1): mean over rows below that.
    bound = sum(math.log(i + 1) for i in range(length)) / length
    assert all(0 < row["entropy_causal_nats"] <= bound + 1e-6 for row in data["heads_table"])


def test_rope_and_alibi_arrays_have_the_shapes_of_their_inputs():
    rope = kernel_json("rope", "--len", "6", "--head-dim", "10", "--theta", "500")
    assert shape(rope["angles_rad"]) == [6, 5] and shape(rope["scores"]) == [6, 6]
    assert [s["offset"] for s in rope["score_by_offset"]] == list(range(-5, 6))
    # angle of pair i at position p = p * theta^(-2i/d) (RoFormer, eq. 15)
    assert rope["angles_rad"][5][1] == pytest.approx(5 * 500 ** (-2 / 10), rel=1e-5)
    alibi = kernel_json("alibi", "--heads", "3", "--len", "4")
    assert shape(alibi["bias"]) == [3, 4, 4]
    assert alibi["bias"][0][3][0] == pytest.approx(-3 * alibi["slopes"][0])  # m * (key - query)


def test_moe_mla_and_quant_figures_follow_their_inputs():
    moe = kernel_json("moe", "--len", "5", "--experts", "6", "--top-k", "3")
    assert shape(moe["router_logits"]) == [5, 6] and len(moe["expert_load"]) == 6
    assert all(len(r["experts"]) == len(r["weights"]) == 3 for r in moe["routes"])
    mla = kernel_json("mla", "--len", "5", "--heads", "3")
    assert mla["shapes"]["q_nope"] == [3, 5, mla["nope_dim"]]
    assert mla["shapes"]["out"] == [3, 5, mla["v_dim"]]
    # naive caches K and V of every head, absorbed the latent and the shared RoPE key
    assert [f["values_per_token"] for f in mla["forms"]] == [
        3 * (mla["nope_dim"] + mla["rope_dim"] + mla["v_dim"]), mla["kv_rank"] + mla["rope_dim"]]
    quant = kernel_json("quant", "--dim", "128", "--group-size", "32")
    assert quant["shape"] == [128, 128] and len(quant["nf4_code"]) == 16
    lora = kernel_json("lora", "--dim", "32", "--rank", "4")
    assert (lora["full_params"], lora["lora_params"]) == (32 * 32, 4 * (32 + 32))


def test_unknown_kernel_lists_the_valid_names():
    assert ", ".join(KERNELS) in run("nope").stderr
