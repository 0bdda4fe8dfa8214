"""FLOPs of the layer kinds beyond full and sliding attention: chunked (Llama 4), latent (MLA,
DeepSeek-V3), linear attention (Qwen3-Next) and Mamba, against their configs' numbers."""

from __future__ import annotations

from llmarch_cli.analysis.flops import attention_flops_per_token, flops_row, prefill_flops
from llmarch_cli.specs.loader import load_preset


def test_deepseek_v3_absorbed_mla_scores_the_latent_and_the_naive_form_is_beside_it():
    # config.json: 61 layers, 128 heads, kv_lora_rank 512, qk_rope 64, qk_nope 128, v 128.
    spec = load_preset("deepseek-v3")
    n = 4096
    row = flops_row(spec, n)
    assert row.attention_flops_per_token == 2 * 61 * 128 * ((512 + 64) + 512) * n
    assert row.attention_naive_flops_per_token == 2 * 61 * 128 * ((128 + 64) + 128) * n


def test_qwen3_next_linear_attention_layers_cost_the_same_at_any_context():
    # 48 layers, full attention every 4th (12 layers of 16 heads x 256); the other 36 recur.
    spec = load_preset("qwen3-next-80b-a3b")
    growth = attention_flops_per_token(spec, 8192) - attention_flops_per_token(spec, 4096)
    assert growth == 4 * 12 * 16 * 256 * 4096


def test_mamba_flops_per_token_do_not_grow_with_the_context():
    spec = load_preset("mamba-2.8b")
    assert attention_flops_per_token(spec, 1024) == attention_flops_per_token(spec, 131072) > 0
    assert prefill_flops(spec, 2048) == 2 * prefill_flops(spec, 1024)


def test_llama_4_scout_chunked_layers_start_over_every_8192_tokens():
    # config.json: 48 layers, every 4th global (no_rope_layers), the rest chunked at 8,192
    # (attention_chunk_size); 40 heads of 128.
    spec = load_preset("llama-4-scout")
    per_key_layer = 4 * 40 * 128
    assert attention_flops_per_token(spec, 8192) == 48 * per_key_layer * 8192
    assert attention_flops_per_token(spec, 8193) == per_key_layer * (12 * 8193 + 36 * 1)


def test_mla_prefills_decompressed_as_engines_do():
    spec = load_preset("deepseek-v3")
    n = 1024
    linear = prefill_flops(spec, n) - 2 * 61 * 128 * (192 + 128) * n * (n + 1) // 2
    assert linear == n * prefill_flops(spec, 1) - n * 2 * 61 * 128 * (192 + 128)
