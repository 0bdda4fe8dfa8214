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
    assert lines[0].startswith("stack\tlayer\tlayer_type\tsliding_window\tmean") and len(lines) == 1 + 4


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


# -- --generate and --text -------------------------------------------------------------------


def test_generate_shows_each_new_token_with_the_cache_bytes_kvcache_computes():
    from llmarch_cli.analysis.kvcache import KV_DTYPES, kv_cache_bytes
    from llmarch_cli.forward.runner import runtime_spec
    from llmarch_cli.specs.loader import resolve_model

    result = invoke("mistral", "-t", "1,2,3,4,5,6", "--generate", "4", "--json")
    assert result.exit_code == 0, result.stderr
    gen = json.loads(result.stdout)["generation"]
    assert len(gen["tokens"]) == 4 and [s["input_tokens"] for s in gen["steps"]] == [6, 1, 1, 1]
    spec = runtime_spec(resolve_model("mistral"))
    for step in gen["steps"]:
        assert sum(step["cache_bytes"].values()) == kv_cache_bytes(spec, step["position"], kvd=KV_DTYPES["fp32"])
    assert gen["decode_tokens_per_second"] > 0


def test_generate_piped_gives_one_row_per_new_token_with_cache_columns():
    result = invoke("gpt-oss-20b", "-t", "1,2,3", "-g", "3", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "step,input_tokens,token_id,position,cache_full_bytes,cache_sliding_bytes,ms"
    assert len(lines) == 1 + 3


@pytest.mark.parametrize(("args", "message"), [
    (("gpt2", "-t", "1", "-g", "-3"), "--generate -3 is out of range"),
    (("gpt2", "-t", "1", "-g", "99999999"), "out of range"),
    (("gpt2", "-t", "1", "-g", "2", "--temperature", "-1"), "--temperature must be a finite number >= 0"),
    (("gpt2", "-t", "1", "--temperature", "0.5"), "--temperature and --top-k apply to --generate"),
    (("bert-base-uncased", "-t", "1", "-g", "2"), "encoder-only"),
    (("gpt2", "--text", "hello"), "--text needs tokenizer.json"),
    (("gpt2",), "give the prompt as --tokens IDS or as --text TEXT"),
])
def test_bad_generation_input_exits_2_with_one_error_line(args, message):
    result = invoke(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("llmarch: error:") and message in result.stderr.splitlines()[0]


def _tokenizer_folder(tmp_path, words: list[str], vocab_size: int = 64):
    """A checkpoint-style folder: a Llama config and a word-level tokenizer.json built with
    the tokenizers library itself (no weights: forward makes a seeded replica)."""
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers.models import WordLevel
    from tokenizers.pre_tokenizers import Whitespace

    vocab = {w: i for i, w in enumerate(["[UNK]", *words])}
    tok = tokenizers.Tokenizer(WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = Whitespace()
    tok.decoder = tokenizers.decoders.WordPiece(prefix="##")  # joins words with spaces
    tok.save(str(tmp_path / "tokenizer.json"))
    config = {"model_type": "llama", "hidden_size": 32, "num_attention_heads": 2,
              "num_hidden_layers": 2, "intermediate_size": 48, "vocab_size": vocab_size,
              "max_position_embeddings": 64}
    (tmp_path / "config.json").write_text(json.dumps(config))
    return tmp_path


def test_text_is_encoded_with_the_folders_tokenizer_and_new_tokens_decoded_back(tmp_path):
    words = "the cat sat on a mat and dog ran".split()
    folder = _tokenizer_folder(tmp_path, words)
    result = invoke(str(folder), "--text", "the cat sat", "--generate", "5", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["tokens"] == [1, 2, 3]  # word ids of "the cat sat"
    gen = data["generation"]
    vocab = ["[UNK]", *words]
    expected = " ".join(vocab[t] if t < len(vocab) else "" for t in gen["tokens"]).split()
    assert gen["generated_text"].split() == expected


def test_tokenizer_larger_than_the_models_vocabulary_is_refused(tmp_path):
    folder = _tokenizer_folder(tmp_path, [f"w{i}" for i in range(80)], vocab_size=64)
    result = invoke(str(folder), "--text", "w1 w2", "-g", "1")
    assert result.exit_code == 2
    assert "tokenizer.json has 81 tokens but the model's vocabulary has 64" in result.stderr
