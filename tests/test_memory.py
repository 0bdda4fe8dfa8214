"""Inference memory: weight formats (bits per weight with sources), parallel splits, and the
llama.cpp README's measured file sizes reproduced."""

from __future__ import annotations

from fractions import Fraction

import pytest

from llmarch_cli.analysis.memory import Parallel, inference_memory, weights_term
from llmarch_cli.analysis.params import count_params
from llmarch_cli.analysis.quant_formats import WEIGHT_FORMATS, weight_format
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.loader import load_preset

GIB = 1 << 30


def test_nf4_with_double_quantisation_is_4_127_bits() -> None:
    # QLoRA §3: double quantisation cuts the constants from 0.5 to 8/64 + 32/(64*256) = 0.127 bits.
    assert round(float(weight_format("nf4").bits) - 4, 3) == 0.127


def test_gguf_block_formats_have_their_block_sizes() -> None:
    # ggml-common.h: block_q8_0 34 B / 32, block_q4_0 18 B / 32, block_q6_K 210 B / 256.
    assert weight_format("q8_0").bits == Fraction(17, 2)
    assert weight_format("q4_0").bits == Fraction(9, 2)
    assert weight_format("q6_k").bits == Fraction(6.5625)


def test_fp16_weights_are_two_bytes_per_parameter() -> None:
    spec = load_preset("llama-2-7b")
    assert weights_term(spec, weight_format("fp16")).bytes == 2 * count_params(spec).total_params


def test_int4_keeps_embeddings_and_head_in_bf16() -> None:
    spec = load_preset("llama-2-7b")
    p = count_params(spec)
    quantised = p.total_params - p.embedding_params - p.lm_head_params - 32 * 2 * 4096 - 4096
    expected = Fraction(quantised) * Fraction(133, 32) / 8 + 2 * (p.total_params - quantised)
    assert weights_term(spec, weight_format("int4")).bytes == -(-expected.numerator // expected.denominator)


@pytest.mark.parametrize("fmt,published_gib,tolerance", [
    ("fp16", 14.96, 0.002), ("q8_0", 7.95, 0.002), ("q6_k", 6.14, 0.002),
    ("q5_k_m", 5.33, 0.01), ("q4_k_m", 4.58, 0.02), ("q2_k", 2.95, 0.07),
])
def test_llama_cpp_readme_llama31_8b_file_sizes(fmt: str, published_gib: float, tolerance: float) -> None:
    # llama.cpp tools/quantize/README.md, meta-llama/Llama-3.1-8B table (size in GiB). Our k-quant
    # mixes use the Llama 2 7B bpw table of the same README, so the 8B sizes are an independent check.
    ours = weights_term(load_preset("llama-3.1-8b"), weight_format(fmt)).bytes / GIB
    ratio = ours / published_gib
    assert abs(ratio - 1) < tolerance, f"{fmt}: ours {ours:.3f} GiB, ratio {ratio:.4f}"


def test_inference_total_is_the_sum_of_its_terms() -> None:
    r = inference_memory(load_preset("mistral-7b-v0.1"), quant=weight_format("q4_k_m"), context=32768)
    assert r.total_bytes == sum(t.bytes for t in r.terms)
    assert r.kv_cache_bytes == 4096 * 131072  # the rolling buffer


def test_tensor_parallel_replicates_kv_heads_beyond_their_count() -> None:
    spec = load_preset("llama-2-70b")  # 8 KV heads
    one = inference_memory(spec, context=4096).kv_cache_bytes
    assert inference_memory(spec, context=4096, par=Parallel(8, tp=8)).kv_cache_bytes == one // 8
    assert inference_memory(spec, context=4096, par=Parallel(16, tp=16)).kv_cache_bytes == one // 8


def test_tp_that_does_not_divide_the_heads_is_bad_input() -> None:
    with pytest.raises(LlmarchError, match="does not divide"):
        inference_memory(load_preset("llama-2-7b"), par=Parallel(3, tp=3))


def test_unknown_quantisation_lists_the_valid_ones() -> None:
    with pytest.raises(LlmarchError, match=", ".join(WEIGHT_FORMATS)):
        weight_format("q5_k_x")
