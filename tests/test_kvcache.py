"""KV cache sizes against analytic identities and published figures (sources named per test)."""

from __future__ import annotations

import pytest

from llmarch_cli.analysis.kvcache import (
    KV_DTYPES,
    Engine,
    KvDtype,
    kv_bytes_per_token,
    kv_cache_bytes,
    kv_dtype,
    kv_layers,
    kv_rows,
    kv_terms,
    layer_tokens,
)
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.loader import load_preset
from llmarch_cli.specs.overrides import WhatIf, apply_what_if

MIB = 1 << 20


def test_llama2_7b_fp16_costs_524288_bytes_per_token() -> None:
    # 2 (K and V) x 32 layers x 32 KV heads x 128 head dim x 2 bytes (Llama 2 paper, config.json)
    assert kv_bytes_per_token(load_preset("llama-2-7b")) == 524_288 == 2 * 32 * 32 * 128 * 2


def test_mistral_7b_at_32k_keeps_4096_tokens_per_layer() -> None:
    # Mistral 7B §2 "Rolling Buffer Cache": W = 4096, cache memory 8x smaller at 32k tokens.
    spec = load_preset("mistral-7b-v0.1")
    assert {layer_tokens(lay, 32768, 0) for lay in kv_layers(spec)} == {4096}
    full = kv_cache_bytes(spec, 32768, engine=Engine.full)
    assert full == 8 * kv_cache_bytes(spec, 32768)


def test_gpt_oss_sliding_layers_keep_128_and_full_layers_everything() -> None:
    # gpt-oss model card / config layer_types: even layers sliding (128), odd layers full.
    spec = load_preset("gpt-oss-20b")
    held = [layer_tokens(lay, 131072, 0) for lay in kv_layers(spec)]
    assert held[0::2] == [128] * 12 and held[1::2] == [131072] * 12
    per_layer = 2 * 8 * 64 * 2
    assert kv_cache_bytes(spec, 131072) == 12 * per_layer * (128 + 131072)


def test_engine_full_charges_every_layer_the_whole_context() -> None:
    spec = load_preset("gpt-oss-20b")
    assert kv_cache_bytes(spec, 8192, engine=Engine.full) == kv_bytes_per_token(spec) * 8192


def test_encoder_decoder_adds_cross_attention_cache_per_decoder_layer() -> None:
    spec = load_preset("t5-base")  # 12 decoder layers, 12 heads x 64
    per_token = 2 * 12 * 64 * 2
    assert kv_cache_bytes(spec, 100, encoder_length=300) == 12 * per_token * (100 + 300)


def test_batch_multiplies_the_cache() -> None:
    spec = load_preset("llama-2-7b")
    assert kv_cache_bytes(spec, 1000, batch=3) == 3 * kv_cache_bytes(spec, 1000)


def test_int8_and_int4_count_a_scale_and_zero_point_per_head_per_token() -> None:
    # LMDeploy docs (kv_quant.md): online int4/int8 KV, per-head per-token asymmetric.
    spec = load_preset("llama-2-7b")
    assert kv_bytes_per_token(spec, kv_dtype("int8")) == 2 * 32 * 32 * (128 + 4)
    assert kv_bytes_per_token(spec, kv_dtype("int4")) == 2 * 32 * 32 * (64 + 4)


def test_fp8_counts_per_layer_scales_once() -> None:
    # vLLM quantized_kvcache docs: per-tensor k_scale and v_scale (fp32) per attention layer.
    spec = load_preset("llama-2-7b")
    assert kv_cache_bytes(spec, 1024, kvd=kv_dtype("fp8")) == 1024 * 32 * 2 * 32 * 128 + 32 * 8


def test_gqa_override_cuts_llama2_7b_by_four() -> None:
    base = load_preset("llama-2-7b")
    assert kv_bytes_per_token(apply_what_if(base, WhatIf(kv_heads=8))) * 4 == kv_bytes_per_token(base)


def test_lmdeploy_llama_7b_session_at_2048_costs_about_1030_mb() -> None:
    # LMDeploy docs/en/quantization/kv_int8.md: "LLaMa-7B fp16 ... maximum length of 2048 ...
    # approximately 1030MB ... to store kv_cache for each concurrent session".
    ours = kv_cache_bytes(load_preset("llama-7b"), 2048) / MIB
    ratio = ours / 1030
    assert ours == 1024 and abs(ratio - 1) < 0.01


@pytest.mark.parametrize("batch,saved_mib", [(8, 4096), (16, 8224), (32, 16448), (48, 24672)])
def test_lmdeploy_int8_kv_savings_table(batch: int, saved_mib: int) -> None:
    # LMDeploy kv_int8.md memory table (internlm-chat-7b: 32 layers x 32 heads x 128, as LLaMA-7B),
    # fp16 minus int8 (per-tensor scales) at 2048 tokens: measured saving in MiB.
    spec = load_preset("llama-7b")
    per_tensor_int8 = KvDtype("int8", 8, 0, 0, "1 byte per value, per-tensor scales (negligible)")
    saved = (kv_cache_bytes(spec, 2048, batch) - kv_cache_bytes(spec, 2048, batch, per_tensor_int8)) / MIB
    ratio = saved / saved_mib
    assert 0.99 < ratio <= 1.0


@pytest.mark.parametrize("bad", [0, -5])
def test_non_positive_context_or_batch_is_bad_input(bad: int) -> None:
    spec = load_preset("llama-2-7b")
    with pytest.raises(LlmarchError):
        kv_cache_bytes(spec, bad)
    with pytest.raises(LlmarchError):
        kv_cache_bytes(spec, 10, batch=bad)


def test_unknown_kv_dtype_lists_the_valid_ones() -> None:
    with pytest.raises(LlmarchError, match="valid: " + ", ".join(KV_DTYPES)):
        kv_dtype("fp7")


@pytest.mark.parametrize("dtype,blocks", [("fp16", 78897), ("fp8", 157794)])
def test_vllm_rocm_blog_llama3_8b_kv_capacity_on_one_mi300x(dtype: str, blocks: int) -> None:
    # ROCm blog "Enhancing vLLM Inference on AMD GPUs" (ROCm/rocm-blogs,
    # blogs/artificial-intelligence/vllm-optimize/README.md, Sep 2024): vllm serve
    # meta-llama/Meta-Llama-3-8B-Instruct on one MI300X logs "# GPU blocks: 78897" (fp16 KV) and
    # 157794 (--kv-cache-dtype fp8), 16 tokens per block. vLLM's default gpu_memory_utilization
    # 0.9 of the 205,822,885,888 B rocm-smi total, minus bf16 weights, is the KV pool; the profiled
    # activation peak is not modelled, so we over-predict slightly (tolerance 3%).
    from llmarch_cli.analysis.hardware import load_gpu
    from llmarch_cli.analysis.memory import weights_term
    from llmarch_cli.analysis.quant_formats import weight_format

    spec = load_preset("llama-3-8b")
    pool = 0.9 * load_gpu("mi300x").memory_bytes - weights_term(spec, weight_format("bf16")).bytes
    ours = pool / kv_bytes_per_token(spec, kv_dtype(dtype))
    ratio = ours / (blocks * 16)
    assert 1.0 <= ratio < 1.03, f"ours {ours:,.0f} tokens, ratio {ratio:.4f}"


def test_the_default_kv_dtype_is_fp16_everywhere() -> None:
    from llmarch_cli.analysis.fit import fit_model
    from llmarch_cli.analysis.memory import inference_memory

    spec = load_preset("llama-2-7b")
    assert inference_memory(spec).kv_dtype == "fp16"
    assert fit_model(spec, 80 << 30).kv_dtype == "fp16"
    assert kv_rows(spec, [4096])[0].kv_dtype == "fp16"


def test_rows_with_a_baseline_carry_the_saving_ratio_and_without_one_do_not() -> None:
    base = load_preset("llama-2-7b")
    plain = kv_rows(base, [4096])[0].model_dump(exclude_unset=True)
    assert "saving_ratio" not in plain and "baseline_total_bytes" not in plain
    row = kv_rows(apply_what_if(base, WhatIf(kv_heads=8)), [4096], baseline=base)[0]
    assert row.baseline_total_bytes == 4 * row.total_bytes == 2 * 2**30 and row.saving_ratio == 4


def test_encoder_only_models_keep_no_cache() -> None:
    spec = load_preset("bert-base-uncased")
    assert kv_bytes_per_token(spec) == 0
    with pytest.raises(LlmarchError, match="encoder-only"):
        kv_rows(spec, [512])


@pytest.mark.parametrize("model,dtype,context", [
    ("gpt-oss-20b", "fp8", 131072), ("t5-base", "int4", 700), ("mistral-7b-v0.1", "int8", 32768),
])
def test_explained_terms_add_up_to_the_total(model: str, dtype: str, context: int) -> None:
    spec = load_preset(model)
    terms = kv_terms(spec, context, 3, kv_dtype(dtype), encoder_length=300 if model == "t5-base" else None)
    total = kv_cache_bytes(spec, context, 3, kv_dtype(dtype),
                           encoder_length=300 if model == "t5-base" else None)
    assert sum(t.bytes for t in terms) == total
