"""``llmarch forward``: JSON logits, tables, the attention heatmap and exit codes."""

from __future__ import annotations

import json

import pytest
from conftest import WIDE, run


def invoke(*args: str):
    return run("forward", *args, env=WIDE)


def test_json_holds_logits_per_token_and_vocab_entry_beside_the_statistics():
    result = invoke("mixtral", "--tokens", "1,2,3", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["logits"]) == 3 and len(data["logits"][0]) == data["vocab_size"]
    layer = data["layers"][0]
    assert len(layer["attention_entropy_nats"]) == data["num_heads"]
    assert sum(layer["expert_load"]) == 3 * 2  # every token goes to top-2 experts
    probs = [t["prob"] for t in data["top_next_tokens"]]
    assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1


def test_table_shows_layers_stages_top_tokens_and_the_attention_heatmap():
    result = invoke("mistral", "-t", "5,6,7,8,9,10", "--show", "attention", "--layer", "1",
                    "--head", "1", "--format", "table")
    assert result.exit_code == 0, result.stderr
    for text in ("Max |x|", "Time per stage", "Top next tokens", "Attention weights, dec layer 1",
                 "·· masked"):
        assert text in result.stdout


def test_piped_output_is_one_tsv_row_per_layer():
    result = invoke("gpt2", "-t", "1,2", "--seed", "3")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("stack\tlayer\tsliding_window\tmean") and len(lines) == 1 + 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("gpt2", "-t", "1,two"), "token 'two' is not an integer id"),
        (("gpt2", "-t", ""), "no tokens given"),
        (("gpt2", "-t", "1,99999"), "outside the vocabulary"),
        (("gpt2", "-t", "1", "--show", "attention", "--layer", "9"), "--layer 9 is out of range"),
        (("gpt2", "-t", "1", "--dtype", "fp8"), "fp8"),
        (("nonexistent-model", "-t", "1"), "unknown model"),
    ],
)
def test_bad_input_exits_2_with_one_error_line(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stderr.startswith("llmarch: error:") or "Usage" in result.stderr


def test_out_of_range_layer_fails_before_any_weight_is_made(monkeypatch):
    def no_weights(*args, **kwargs):
        raise AssertionError("weights were built")

    monkeypatch.setattr("llmarch_cli.forward.runner.random_weights", no_weights)
    result = invoke("gpt2", "-t", "1,2", "--show", "attention", "--layer", "40", "--scale", "full")
    assert result.exit_code == 2
    assert "--layer 40 is out of range: gpt2 has 12 layers" in result.stderr
