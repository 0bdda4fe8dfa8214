"""Roofline decode speed against published batch-1 measurements, and the model's mechanics.

Each measurement names its engine, model, GPU, batch and source; the estimate uses the default
efficiencies (70% of peak bandwidth, 50% of peak compute). BAND is the stated tolerance of
measured / estimated: engines lose 0-25% more to kernels, sampling and communication than the
default assumes, and none may beat the estimate by more than 10%.
"""

from __future__ import annotations

import pytest

from llmarch_cli.analysis.hardware import resolve_gpu
from llmarch_cli.analysis.roofline import experts_touched, roofline
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.loader import load_preset

BAND = (0.7, 1.1)
GPT_FAST = "github.com/pytorch-labs/gpt-fast README, Benchmarks (A100-80GB, power-limited to 330 W)"
LLAMA_CPP_M2 = "github.com/ggml-org/llama.cpp pull 2917 (ggerganov, M2 Ultra 76-core, master row)"

# (model, gpu, quant, context, measured tokens/s, source), named by engine, model, GPU and batch
@pytest.mark.parametrize("model,gpu,quant,context,measured,source", [
    pytest.param("llama-2-7b", "a100-80gb", "bf16", 205, 104.9, GPT_FAST,
                 id="gpt-fast Llama-2-7B bf16 on one A100-80GB, batch 1"),
    pytest.param("llama-2-7b", "a100-80gb", "int8", 205, 155.58, GPT_FAST,
                 id="gpt-fast Llama-2-7B int8 weight-only on one A100-80GB, batch 1"),
    pytest.param("llama-2-70b", "a100-80gb", "int8", 205, 19.13, GPT_FAST,
                 id="gpt-fast Llama-2-70B int8 weight-only on one A100-80GB, batch 1"),
    pytest.param("llama-2-70b", "a100-80gb x8", "bf16", 205, 62.50, GPT_FAST,
                 id="gpt-fast Llama-2-70B bf16 tensor-parallel on 8 x A100-80GB, batch 1"),
    pytest.param("llama-7b", "m2-ultra", "q8_0", 128, 62.05, LLAMA_CPP_M2,
                 id="llama.cpp Metal LLaMA 7B Q8_0 on M2 Ultra, tg 128, batch 1"),
])
def test_decode_speed_reproduces_a_published_measurement(model, gpu, quant, context, measured,
                                                         source):
    device, count = resolve_gpu(gpu)
    estimate = roofline(load_preset(model), device, gpus=count, context=context, quant=quant)
    ratio = measured / estimate.decode_tokens_per_s
    assert BAND[0] <= ratio <= BAND[1], f"measured/estimated = {ratio:.3f} ({source})"
    assert estimate.decode_bound == "memory"


def test_batch_one_decode_reads_every_weight_once_and_computes_little():
    r = roofline(load_preset("llama-3-8b"), resolve_gpu("h100")[0], context=4096)
    assert r.weights_bytes_per_step == 2 * (8_030_261_248 - 128_256 * 4096 - 65 * 4096)
    assert r.kv_cache_bytes_per_step == 4096 * 131_072  # 128 KiB per token in fp16
    assert r.decode_seconds_per_step == pytest.approx(
        (r.weights_bytes_per_step + r.kv_cache_bytes_per_step) / (3.35e12 * 0.7))


def test_moe_decode_reads_the_experts_the_batch_touches():
    assert experts_touched(load_preset("mixtral-8x7b"), 1) == pytest.approx(2)
    assert experts_touched(load_preset("mixtral-8x7b"), 64) == pytest.approx(8, abs=1e-6)
    gpu = resolve_gpu("h100x2")[0]
    one = roofline(load_preset("mixtral-8x7b"), gpu, gpus=2, batch=1)
    many = roofline(load_preset("mixtral-8x7b"), gpu, gpus=2, batch=64)
    assert 3.5 < many.weights_bytes_per_step / one.weights_bytes_per_step < 4


def test_gqa_decode_turns_compute_bound_at_a_finite_batch_and_larger_batches_are_compute_bound():
    gpu = resolve_gpu("h100")[0]
    spec = load_preset("llama-3-70b")
    b = roofline(spec, gpu, gpus=4, context=1024).compute_bound_batch
    assert b is not None
    assert roofline(spec, gpu, gpus=4, context=1024, batch=b).decode_bound == "compute"
    assert roofline(spec, gpu, gpus=4, context=1024, batch=b - 1).decode_bound == "memory"


@pytest.mark.parametrize("kwargs,message", [
    ({"tp": 3}, "does not divide the 32 attention heads"),
    ({"gpus": 4, "tp": 8}, "needs a multiple of 8 GPUs"),
    ({"bandwidth_efficiency": 1.5}, "must lie in (0, 1]"),
    ({"compute_efficiency": 0.0}, "must lie in (0, 1]"),
])
def test_bad_layouts_and_efficiencies_are_refused(kwargs, message):
    with pytest.raises(LlmarchError, match=message.replace("(", r"\(").replace("]", r"\]")):
        roofline(load_preset("llama-3-8b"), resolve_gpu("h100")[0], **kwargs)


def test_llama_2_70b_bf16_does_not_fit_one_a100_as_gpt_fast_reports_oom_but_int8_does():
    gpu = resolve_gpu("a100-80gb")[0]
    spec = load_preset("llama-2-70b")
    assert not roofline(spec, gpu, context=205).fits_memory  # gpt-fast README: "Base: OOM"
    assert roofline(spec, gpu, context=205, quant="int8").fits_memory  # 19.13 tok/s measured
