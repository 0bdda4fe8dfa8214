"""Issue 8's families against independent published figures, each with its ratio.

Totals and actives come from the developers' own announcements; KV figures from the closed forms
of the papers' dimensions (DeepSeek-V3 report §2.1: a 512-wide latent plus a 64-wide RoPE key
per layer), never from llmarch's earlier output.
"""

from __future__ import annotations

import pytest

from llmarch_cli.analysis.kvcache import Engine, kv_bytes_per_token, kv_cache_bytes, state_bytes
from llmarch_cli.analysis.params import count_params
from llmarch_cli.analysis.summary import layer_pattern
from llmarch_cli.specs.loader import load_preset


def _ratio(ours: float, published: float) -> float:
    return ours / published


# (preset, published total, published active, tolerance): the developers round to the unit shown.
# The table sits in the decorator so that tests/test_validation_doc.py sees the figures asserted.
@pytest.mark.parametrize(("pid", "total", "active", "tol"), [
    ("deepseek-v3", 671e9, 37e9, 0.02),  # DeepSeek-V3 report abstract: 671B total, 37B active
    ("qwen3-30b-a3b", 30.5e9, 3.3e9, 0.02),  # Qwen3 model card: 30.5B total, 3.3B activated
    ("qwen3-235b-a22b", 235e9, 22e9, 0.02),  # Qwen3 model card: 235B total, 22B activated
    ("llama-4-maverick", 400e9, 17e9, 0.03),  # Meta: 17B active, 400B total
    ("jamba-1.5-mini", 52e9, 12e9, 0.02),  # AI21: 52B total, 12B active
    ("glm-4.5-air", 106e9, 12e9, 0.12),  # Z.ai: 106B total, 12B active (active incl. embeddings here)
    ("kimi-k2", 1e12, 32e9, 0.03),  # Moonshot model card: 1T total, 32B activated
    ("starcoder2-3b", 3.03e9, 3.03e9, 0.01),  # bigcode/starcoder2-3b Hub page: 3.03B (32 layers: 3.22B)
], ids=lambda value: value if isinstance(value, str) else "")
def test_total_and_active_match_the_published_figures(pid, total, active, tol):
    counts = count_params(load_preset(pid))
    assert abs(_ratio(counts.total_params, total) - 1) < tol
    assert abs(_ratio(counts.active_params, active) - 1) < tol


def test_llama_4_scout_is_17b_active():
    # Meta: "17B active parameters"; the published 109B total includes the vision tower,
    # which llmarch does not count (107.8B for the language model).
    counts = count_params(load_preset("llama-4-scout"))
    assert abs(_ratio(counts.active_params, 17e9) - 1) < 0.02
    assert 0.98 < _ratio(counts.total_params, 109e9) < 1.0


def test_deepseek_v3_caches_70272_bytes_per_token_in_16_bit():
    spec = load_preset("deepseek-v3")
    assert kv_bytes_per_token(spec) == 61 * (512 + 64) * 2 == 70_272
    # Eager transformers decompresses K (128 + 64) and V (128) for all 128 heads: 71x more.
    full = kv_bytes_per_token(spec, engine=Engine.full)
    assert full == 61 * 128 * (192 + 128) * 2
    assert round(full / 70_272) == 71


def test_gemma_3_local_layers_cut_the_kv_cache_as_its_design_implies():
    # Gemma 3 report §2: 5 local layers (1,024-token window) per global layer. At 32K, all-global
    # would hold 62 x 32,768 tokens; with the pattern 52 x 1,024 + 10 x 32,768 -> 18.75 %.
    spec = load_preset("gemma-3-27b")
    assert layer_pattern(spec) == "5 local : 1 global, window 1,024"
    local = kv_cache_bytes(spec, 32768)
    everything = kv_cache_bytes(spec, 32768, engine=Engine.full)
    assert local / everything == (52 * 1024 + 10 * 32768) / (62 * 32768)
    # At its 128K context the cache is about one sixth of all-global, as the report's Figure 6
    # is read in llama.cpp issue #12637 ("can reduce the KV cache usage to one sixth").
    ratio = kv_cache_bytes(spec, 131072) / kv_cache_bytes(spec, 131072, engine=Engine.full)
    assert abs(ratio * 6 - 1) < 0.01  # 0.1678 x 6 = 1.007


def test_llama_4_chunked_layers_hold_one_chunk_and_global_layers_have_no_rope():
    spec = load_preset("llama-4-scout")
    assert layer_pattern(spec) == "3 chunked : 1 global without RoPE, chunk 8,192"
    per_layer = 8 * 128 * 2 * 2
    assert kv_cache_bytes(spec, 131072) == per_layer * (36 * 8192 + 12 * 131072)


def test_hybrids_cache_only_their_attention_layers_and_carry_a_fixed_state():
    nxt = load_preset("qwen3-next-80b-a3b")
    assert layer_pattern(nxt) == "36 linear : 12 full"
    assert kv_bytes_per_token(nxt) == 12 * 2 * 2 * 256 * 2
    # 36 gated-DeltaNet layers: conv over q,k,v (2x16x128 + 32x128 channels, 3 steps) and a
    # 128 x 128 state per value head (32), in 16-bit.
    conv, recurrent = (2 * 16 * 128 + 32 * 128) * 3, 32 * 128 * 128
    assert state_bytes(nxt) == 36 * (conv + recurrent) * 2
    assert kv_cache_bytes(nxt, 4096, batch=2) == 2 * (4096 * kv_bytes_per_token(nxt) + state_bytes(nxt))
    mamba = load_preset("mamba-2.8b")
    assert kv_bytes_per_token(mamba) == 0
    assert state_bytes(mamba) == 64 * 5120 * (3 + 16) * 2


def test_mtp_layers_are_left_out_and_said_so():
    spec = load_preset("deepseek-v3")
    assert "685B published with the 14B MTP module" in spec.meta.notes
    assert count_params(spec).total_params < 672e9


@pytest.mark.parametrize("feature, pid", [("mla", "deepseek-v3"), ("qk-norm", "qwen3-8b"),
                                          ("local-global", "gemma-3-27b"), ("chunked", "llama-4-scout"),
                                          ("hybrid", "jamba-1.5-mini"), ("shared-experts", "glm-4.5-air")])
def test_features_tag_the_new_families(feature, pid):
    assert feature in load_preset(pid).features


def test_memory_and_fit_carry_the_recurrent_state_of_hybrids():
    from llmarch_cli.analysis.fit import fit_model
    from llmarch_cli.analysis.memory import inference_memory
    from llmarch_cli.analysis.quant_formats import BF16

    spec = load_preset("jamba-1.5-mini")
    state = state_bytes(spec)
    assert state == 28 * 8192 * (3 + 16) * 2  # 28 Mamba layers, inner 2 x 4,096, conv 4 - 1 + state 16
    memory = inference_memory(spec, context=4096, batch=3)
    assert memory.kv_cache_bytes == 3 * (4096 * 4 * 2 * 8 * 128 * 2 + state)
    row = fit_model(spec, 10**12, context=4096, batch=3, quants=[BF16])
    assert row is not None and row.total_bytes == memory.total_bytes  # fit charges the same state
