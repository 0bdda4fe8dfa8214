"""``inspect`` on folders written by transformers' ``save_pretrained``: the parameter count equals
transformers' own (tied weights once), and exactly the tensors transformers registers as
buffers are reported as buffers, for every family the forward pass supports."""

from __future__ import annotations

import json

import pytest
from test_forward_parity import CASES, SEQ2SEQ_CASES
from typer.testing import CliRunner

from llmarch_cli.cli.app import app

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

pytestmark = pytest.mark.parity

BERT = ("BertConfig", "BertForMaskedLM", dict(
    vocab_size=97, hidden_size=48, num_hidden_layers=2, num_attention_heads=6,
    intermediate_size=40, max_position_embeddings=32, type_vocab_size=2))
ALL = {**CASES, **SEQ2SEQ_CASES, "bert": BERT}


def _saved(case: str, folder):
    config_cls, model_cls, kwargs = ALL[case]
    torch.manual_seed(0)
    model = getattr(transformers, model_cls)(getattr(transformers, config_cls)(**kwargs))
    model.save_pretrained(folder)
    return model


def _inspect(folder) -> dict:
    result = CliRunner().invoke(app, ["inspect", str(folder), "--tensors", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("case", sorted(ALL))
def test_total_params_equal_transformers_count(case, tmp_path):
    model = _saved(case, tmp_path)
    out = _inspect(tmp_path)
    assert out["total_params"] == sum(p.numel() for p in model.parameters())
    assert out["architecture"]["params_match"] is True


@pytest.mark.parametrize("case", sorted(ALL))
def test_buffers_are_exactly_transformers_buffers(case, tmp_path):
    model = _saved(case, tmp_path)
    buffers = dict(model.named_buffers())
    params = {name for name, _ in model.named_parameters(remove_duplicate=False)}
    for tensor in _inspect(tmp_path)["tensors"]:
        name = tensor["name"]
        assert tensor["buffer"] == (name in buffers and name not in params), name


def test_bart_final_logits_bias_is_in_the_file_and_not_a_parameter(tmp_path):
    model = _saved("bart", tmp_path)
    out = _inspect(tmp_path)
    assert [b["name"] for b in out["buffers"]] == ["final_logits_bias"]
    assert out["buffer_elements"] == model.final_logits_bias.numel()


def test_gpt2_hub_file_with_attention_masks_counts_like_transformers(tmp_path):
    """Hub GPT-2 files (saved by older transformers) hold h.{i}.attn.bias causal masks."""
    from safetensors.torch import load_file, save_file

    model = _saved("gpt2", tmp_path)
    state = load_file(tmp_path / "model.safetensors")
    n = model.config.n_positions
    for i in range(model.config.n_layer):
        state[f"transformer.h.{i}.attn.bias"] = torch.tril(torch.ones(n, n)).view(1, 1, n, n)
    save_file(state, tmp_path / "model.safetensors")
    out = _inspect(tmp_path)
    assert out["total_params"] == sum(p.numel() for p in model.parameters())
    assert out["buffer_elements"] == model.config.n_layer * n * n


@pytest.mark.parametrize("case", sorted(ALL))
def test_a_saved_folder_matches_its_own_config_through_the_inventory(case, tmp_path):
    _saved(case, tmp_path)
    result = CliRunner().invoke(app, ["inspect", str(tmp_path), "--against",
                                      str(tmp_path / "config.json"), "--json"])
    verdict = json.loads(result.stdout)["against"]
    assert (result.exit_code, verdict["missing"], verdict["extra"], verdict["misshaped"]) == (
        0, [], [], [])
