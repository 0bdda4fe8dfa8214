"""What ``llmarch forward`` shows about the new mechanisms: which layers were local or global,
MLA's latent vs decompressed cache (from the configs' arithmetic), and where the router choices
and soft-cap figures appear. Their values against transformers: tests/parity/
test_forward_mechanisms_parity.py."""

from __future__ import annotations

import json

import pytest
from conftest import WIDE, run

from llmarch_cli.forward.decoding import generate
from llmarch_cli.forward.runner import build_model, latent_cache, run_forward
from llmarch_cli.specs.loader import load_preset, resolve_model

TOKENS = [5, 1, 4, 1, 5, 9, 2]


@pytest.mark.parametrize(("dtype", "size"), [("fp32", 4), ("bf16", 2)])
def test_mla_cache_is_the_latent_plus_rope_key_vs_every_heads_k_and_v(dtype, size):
    result = run_forward(resolve_model("deepseek-v2-lite"), TOKENS, dtype=dtype)
    spec = build_model(resolve_model("deepseek-v2-lite"), TOKENS).spec  # the tiny replica
    a, m = spec.attention, spec.attention.mla
    per_token_layer = {"latent": m.kv_lora_rank + m.qk_rope_head_dim,
                       "decompressed": a.num_heads * (m.qk_nope_head_dim + m.qk_rope_head_dim
                                                      + m.v_head_dim)}
    shown = result.latent_cache
    assert shown.latent_bytes == per_token_layer["latent"] * spec.num_layers * len(TOKENS) * size
    assert shown.decompressed_bytes == (per_token_layer["decompressed"] * spec.num_layers
                                        * len(TOKENS) * size)


def test_deepseek_v2_lite_keeps_31104_latent_bytes_per_token_in_bf16_not_276480():
    # config.json: kv_lora_rank 512, qk_rope_head_dim 64, 27 layers; 16 heads x (128 + 64 + 128)
    cache = latent_cache(load_preset("deepseek-v2-lite"), 1, "bf16")
    assert (cache.latent_bytes, cache.decompressed_bytes) == ((512 + 64) * 27 * 2,
                                                              16 * (128 + 64 + 128) * 27 * 2)
    assert (cache.latent_bytes, cache.decompressed_bytes) == (31104, 276480)


def test_the_latent_figure_is_what_decoding_holds_after_the_prefill():
    model = build_model(resolve_model("deepseek-v3"), TOKENS)
    prefill = generate(model, TOKENS, 1).steps[0]
    assert prefill.cache_bytes == {"latent": latent_cache(model.spec, len(TOKENS), "fp32").latent_bytes}


def test_models_without_mla_show_no_latent_cache():
    assert run_forward(resolve_model("llama"), TOKENS).latent_cache is None


def test_gemma_2_alternates_local_and_global_layers_and_mistral_is_local_throughout():
    # transformers' Gemma2Config: layer i slides when i is even; Mistral slides in every layer
    gemma = run_forward(resolve_model("gemma-2-9b"), TOKENS)
    assert [layer.layer_type for layer in gemma.layers] == ["sliding", "full", "sliding", "full"]
    assert [layer.sliding_window is not None for layer in gemma.layers] == [True, False, True, False]
    mistral = run_forward(resolve_model("mistral"), TOKENS)
    assert {layer.layer_type for layer in mistral.layers} == {"sliding"}


def test_dense_models_show_no_routing_or_caps():
    result = run_forward(resolve_model("llama"), TOKENS)
    assert all(layer.routed_experts is None and layer.attention_softcap is None
               for layer in result.layers)
    assert result.logit_softcap is None


def test_json_has_every_tokens_experts_and_groups_the_table_shows_them_at_80_columns():
    data = json.loads(run("forward", "deepseek-v3", "-t", "5,1,4", "--json").stdout)
    moe = [layer for layer in data["layers"] if layer["routed_experts"] is not None]
    assert moe and all(len(layer["routed_experts"]) == 3 for layer in moe)
    assert all(len(experts) == 8 and len(groups) == 4  # DeepSeek-V3: top 8 from 4 of 8 groups
               for layer in moe for experts, groups in zip(layer["routed_experts"],
                                                           layer["routed_groups"], strict=True))
    table = run("forward", "deepseek-v3", "-t", "5,1,4", "-f", "table", env={"COLUMNS": "80"}).stdout
    assert "Router choices per token" in table and "Experts, best first" in table
    assert "MLA cache" in table and "latent + RoPE key" in table
    assert max(len(line) for line in table.splitlines()) <= 80


def test_table_names_layers_local_or_global_and_shows_the_soft_caps():
    result = run("forward", "gemma-2-9b", "-t", "5,1,4,1,5,9", "-f", "table", env=WIDE)
    for text in ("local (sliding)", "global", "Soft-capping", "final logits", "Max |x| before cap"):
        assert text in result.stdout
    data = json.loads(run("forward", "gemma-2-9b", "-t", "5,1,4", "--json").stdout)
    assert data["logit_softcap"]["cap"] == 30.0  # gemma-2-9b's final_logit_softcapping
    assert all(layer["attention_softcap"]["cap"] == 50.0 for layer in data["layers"])
