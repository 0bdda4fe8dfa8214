"""``inspect --against MODEL``: a checkpoint compared with MODEL's weight inventory; exit 0 on a
match and 3 on a mismatch. The checkpoints use transformers' LlamaForCausalLM names
(tests/checkpoint_files.py) and llama.cpp's GGUF names."""

from __future__ import annotations

import json

import numpy as np
import pytest
from checkpoint_files import GGUF_LLAMA, LLAMA, llama_shapes, write_gguf, write_safetensors
from typer.testing import CliRunner

from llmarch_cli.cli.app import app


def against(path, model, *extra: str):
    return CliRunner().invoke(app, ["inspect", str(path), "--against", str(model), *extra])


def _config(tmp_path, data: dict):
    path = tmp_path / "model-config.json"
    path.write_text(json.dumps(data))
    return path


def test_a_complete_checkpoint_matches_its_config_and_exits_0(tmp_path):
    folder = write_safetensors(tmp_path / "ok", llama_shapes(), LLAMA, shards=2)
    result = against(folder, folder / "config.json", "--json")
    assert result.exit_code == 0, result.output
    verdict = json.loads(result.stdout)["against"]
    assert verdict["match"] is True
    assert verdict["expected_tensors"] == len(llama_shapes())
    assert verdict["missing"] == verdict["extra"] == verdict["misshaped"] == []


def test_a_lost_shard_tensor_is_missing_and_exits_3(tmp_path):
    shapes = llama_shapes()
    del shapes["model.layers.1.mlp.up_proj.weight"]
    folder = write_safetensors(tmp_path / "cut", shapes, LLAMA)
    result = against(folder, folder / "config.json", "--json")
    assert result.exit_code == 3
    verdict = json.loads(result.stdout)["against"]
    assert verdict["match"] is False
    assert verdict["missing"] == [{"name": "model.layers.1.mlp.up_proj.weight",
                                   "expected_shape": [128, 64], "file_shape": None}]
    assert verdict["extra"] == verdict["misshaped"] == []


def test_a_variant_shape_is_misshaped_and_an_unknown_tensor_extra(tmp_path):
    shapes = llama_shapes() | {"model.layers.0.self_attn.k_proj.weight": (64, 64),
                               "model.layers.0.self_attn.q_norm.weight": (16,)}
    folder = write_safetensors(tmp_path / "variant", shapes, LLAMA)
    result = against(folder, folder / "config.json", "--json")
    assert result.exit_code == 3
    verdict = json.loads(result.stdout)["against"]
    assert verdict["misshaped"] == [{"name": "model.layers.0.self_attn.k_proj.weight",
                                     "expected_shape": [32, 64], "file_shape": [64, 64]}]
    assert [m["name"] for m in verdict["extra"]] == ["model.layers.0.self_attn.q_norm.weight"]


def test_another_model_mismatches_and_the_table_says_so(tmp_path):
    folder = write_safetensors(tmp_path / "tiny", llama_shapes(), LLAMA)
    result = against(folder, "llama-2-7b", "-f", "md")
    assert result.exit_code == 3
    assert "Does not match llama-2-7b" in result.stdout
    assert "misshaped" in result.stdout


@pytest.mark.parametrize(("arch", "tied"), [("llama", False), ("llama", True), ("qwen2", False)])
def test_a_gguf_file_matches_through_llama_cpp_names_with_shapes_reversed(tmp_path, arch, tied):
    path, = write_gguf(tmp_path / "tiny.gguf", arch=arch, tied=tied)
    g = GGUF_LLAMA
    config = _config(tmp_path, {
        "model_type": arch, "hidden_size": g["hidden"], "intermediate_size": g["ffn"],
        "num_hidden_layers": g["layers"], "num_attention_heads": g["heads"],
        "num_key_value_heads": g["kv_heads"], "vocab_size": g["vocab"],
        "tie_word_embeddings": tied})
    result = against(path, config, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["against"]["match"] is True


def test_a_gguf_file_missing_a_layer_tensor_exits_3(tmp_path):
    path, = write_gguf(tmp_path / "tiny.gguf")
    g = GGUF_LLAMA
    config = _config(tmp_path, {
        "model_type": "llama", "hidden_size": g["hidden"], "intermediate_size": g["ffn"],
        "num_hidden_layers": g["layers"] + 1, "num_attention_heads": g["heads"],
        "num_key_value_heads": g["kv_heads"], "vocab_size": g["vocab"]})
    result = against(path, config, "--json")
    assert result.exit_code == 3
    missing = [m["name"] for m in json.loads(result.stdout)["against"]["missing"]]
    assert "blk.2.attn_q.weight" in missing and len(missing) == 9


def test_buffers_in_the_file_are_not_extra(tmp_path):
    shapes = llama_shapes() | {"model.layers.0.self_attn.rotary_emb.inv_freq": (8,)}
    folder = write_safetensors(tmp_path / "old", shapes, LLAMA, dtype=np.float32)
    assert against(folder, folder / "config.json").exit_code == 0


MIXTRAL = {"model_type": "mixtral", "hidden_size": 64, "intermediate_size": 32,
           "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2,
           "vocab_size": 96, "num_local_experts": 4, "num_experts_per_tok": 2}


def mixtral_hub_shapes() -> dict[str, tuple[int, ...]]:
    """Mixtral as the hub (and transformers 5's save_pretrained) stores it: one tensor per
    expert and matrix, under block_sparse_moe."""
    p = "model.layers.0."
    shapes = {"model.embed_tokens.weight": (96, 64), "model.norm.weight": (64,),
              "lm_head.weight": (96, 64), p + "input_layernorm.weight": (64,),
              p + "post_attention_layernorm.weight": (64,), p + "self_attn.q_proj.weight": (64, 64),
              p + "self_attn.k_proj.weight": (32, 64), p + "self_attn.v_proj.weight": (32, 64),
              p + "self_attn.o_proj.weight": (64, 64), p + "block_sparse_moe.gate.weight": (4, 64)}
    for e in range(4):
        x = f"{p}block_sparse_moe.experts.{e}."
        shapes |= {x + "w1.weight": (32, 64), x + "w3.weight": (32, 64), x + "w2.weight": (64, 32)}
    return shapes


def test_per_expert_hub_tensors_match_the_stacked_model_layout(tmp_path):
    folder = write_safetensors(tmp_path / "mixtral", mixtral_hub_shapes(), MIXTRAL)
    result = against(folder, folder / "config.json", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["architecture"]["params_match"] is True


def test_a_lost_expert_shows_in_the_stacked_shape(tmp_path):
    shapes = mixtral_hub_shapes()
    del shapes["model.layers.0.block_sparse_moe.experts.3.w2.weight"]
    folder = write_safetensors(tmp_path / "mixtral", shapes, MIXTRAL)
    result = against(folder, folder / "config.json", "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["against"]["misshaped"] == [
        {"name": "model.layers.0.mlp.experts.down_proj", "expected_shape": [4, 64, 32],
         "file_shape": [3, 64, 32]}]
