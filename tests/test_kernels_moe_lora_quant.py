"""MoE routing and dispatch, LoRA merge, and quantisation against their definitions."""

from __future__ import annotations

import numpy as np
import pytest

from llmarch_cli.kernels.lora import lora_apply, lora_delta, lora_merge
from llmarch_cli.kernels.moe import load_balancing_loss, moe_dispatch, route
from llmarch_cli.kernels.quant import NF4_CODE, dequantize, quant_error, quantize

RNG = np.random.default_rng(11)

# QLoRA (Dettmers et al. 2023), Appendix E: the NF4 data type's 16 values.
NF4_PAPER = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
             -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
             0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
             0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]


def test_mixtral_routing_softmaxes_all_experts_then_renormalises_the_top_k():
    logits = np.array([[2.0, 0.0, 1.0, -1.0]], np.float32)
    ids, w = route(logits, 2, "softmax_topk_renorm")
    assert ids.tolist() == [[0, 2]]
    np.testing.assert_allclose(w, [[1 / (1 + np.exp(-1)), np.exp(-1) / (1 + np.exp(-1))]], rtol=1e-6)


def test_qwen2_moe_routing_without_renorm_keeps_raw_probabilities():
    logits = np.array([[2.0, 0.0, 1.0, -1.0]], np.float32)
    _, w = route(logits, 2, "softmax_topk")
    p = np.exp(logits[0]) / np.exp(logits[0]).sum()
    np.testing.assert_allclose(w, [[p[0], p[2]]], rtol=1e-6)
    assert w.sum() < 1


def test_gpt_oss_and_mixtral_orders_give_the_same_weights():
    logits = RNG.standard_normal((50, 32)).astype(np.float32)
    ids_a, w_a = route(logits, 4, "softmax_topk_renorm")
    ids_b, w_b = route(logits + RNG.standard_normal(32).astype(np.float32), 4, "topk_softmax")
    ids_c, w_c = route(logits, 4, "topk_softmax")
    assert ids_a.tolist() == ids_c.tolist()
    np.testing.assert_allclose(w_a, w_c, atol=1e-6)
    np.testing.assert_allclose(w_b.sum(-1), 1, atol=1e-6)
    assert ids_b.shape == (50, 4)


def test_router_rejects_top_k_above_experts_and_unknown_orders():
    with pytest.raises(ValueError, match="top_k"):
        route(np.zeros((1, 4)), 5, "topk_softmax")
    with pytest.raises(ValueError, match="routing"):
        route(np.zeros((1, 4)), 1, "sigmoid")


def test_dispatch_equals_the_per_token_weighted_sum_and_reports_load():
    T, H, E, k = 12, 5, 4, 2
    x = RNG.standard_normal((T, H)).astype(np.float32)
    mats = RNG.standard_normal((E, H, H)).astype(np.float32)
    ids, w = route(RNG.standard_normal((T, E)).astype(np.float32), k, "softmax_topk_renorm")
    out, load = moe_dispatch(x, ids, w, lambda e, xe: xe @ mats[e], E)
    expected = np.stack([sum(w[t, j] * (x[t] @ mats[ids[t, j]]) for j in range(k)) for t in range(T)])
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)
    assert load.sum() == T * k
    assert load.tolist() == [int((ids == e).sum()) for e in range(E)]


def test_llama4_routing_is_the_sigmoid_of_each_top_k_logit_without_renormalising():
    logits = np.array([[2.0, -1.0, 0.5, 3.0]], np.float32)
    ids, w = route(logits, 2, "sigmoid_topk")
    assert ids.tolist() == [[3, 0]]
    np.testing.assert_allclose(w, [[1 / (1 + np.exp(-3.0)), 1 / (1 + np.exp(-2.0))]], rtol=1e-6)
    assert w.sum() > 1


def test_dispatch_scaling_the_input_applies_each_expert_to_the_weighted_token():
    T, H, E, k = 9, 4, 3, 2
    x = RNG.standard_normal((T, H)).astype(np.float32)
    mats = RNG.standard_normal((E, H, H)).astype(np.float32)
    ids, w = route(RNG.standard_normal((T, E)).astype(np.float32), k, "sigmoid_topk")
    expert = lambda e, xe: np.tanh(xe @ mats[e])  # noqa: E731  not linear: the order shows
    out, _ = moe_dispatch(x, ids, w, expert, E, scale_input=True)
    expected = np.stack([sum(expert(ids[t, j], w[t, j] * x[t][None])[0] for j in range(k))
                         for t in range(T)])
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert np.abs(out - moe_dispatch(x, ids, w, expert, E)[0]).max() > 1e-2


def test_load_balancing_loss_is_one_when_routing_is_uniform():
    logits = np.zeros((8, 4), np.float32)
    ids = np.array([[0, 1], [2, 3]] * 4)
    assert load_balancing_loss(logits, ids) == pytest.approx(1.0)


def test_lora_merged_weight_gives_the_unmerged_output():
    x = RNG.standard_normal((7, 48)).astype(np.float32)
    w = RNG.standard_normal((48, 40)).astype(np.float32)
    a = RNG.standard_normal((48, 8)).astype(np.float32)
    b = RNG.standard_normal((8, 40)).astype(np.float32)
    np.testing.assert_allclose(x @ lora_merge(w, a, b, 16.0), lora_apply(x, w, a, b, 16.0),
                               rtol=1e-4, atol=1e-3)
    delta = lora_delta(a, b, 16.0)
    np.testing.assert_allclose(delta, 2.0 * (a @ b), rtol=1e-6)  # alpha / r = 16 / 8
    assert np.linalg.matrix_rank(delta) == 8


def test_nf4_code_book_matches_the_qlora_paper():
    assert NF4_CODE.dtype == np.float32 and len(NF4_CODE) == 16
    np.testing.assert_allclose(NF4_CODE, NF4_PAPER, atol=2e-6)


def test_int8_absmax_round_trip_error_is_at_most_half_a_step():
    w = RNG.standard_normal((8, 128)).astype(np.float32)
    q = quantize(w, "int8", group_size=64)
    steps = np.abs(w.reshape(-1, 64)).max(-1) / 127
    err = np.abs(dequantize(q) - w).reshape(-1, 64).max(-1)
    assert np.all(err <= steps / 2 + 1e-7)
    assert q.codes.dtype == np.int8 and q.bits_per_param == 8 + 32 / 64


def test_group_maxima_are_exact_and_padding_is_dropped():
    w = RNG.standard_normal(100).astype(np.float32)  # two groups of 64, the second padded
    for fmt in ("int8", "int4", "nf4"):
        w_hat = dequantize(quantize(w, fmt, 64))
        assert w_hat.shape == (100,)
        i = int(np.abs(w[:64]).argmax())
        assert w_hat[i] == pytest.approx(w[i], rel=1e-6)


def test_nf4_values_are_code_book_entries_times_block_absmax():
    w = RNG.standard_normal(64).astype(np.float32)
    w_hat = dequantize(quantize(w, "nf4", 64))
    ratios = w_hat / np.abs(w).max()
    assert np.all(np.min(np.abs(ratios[:, None] - NF4_CODE[None]), axis=1) < 1e-6)


def test_double_quantisation_costs_0_127_bits_per_parameter_as_in_qlora():
    w = RNG.standard_normal(64 * 512).astype(np.float32)
    single, double = quantize(w, "nf4", 64), quantize(w, "nf4", 64, double_quant=True)
    assert single.bits_per_param - 4 == pytest.approx(32 / 64)  # 0.5 bits per parameter
    assert double.bits_per_param - 4 == pytest.approx(8 / 64 + 32 / (64 * 256))  # 0.127
    err = quant_error(w, dequantize(double))["relative_rms_error"]
    assert err == pytest.approx(quant_error(w, dequantize(single))["relative_rms_error"], rel=0.01)


def test_nf4_has_lower_error_than_int4_on_normal_weights():
    w = RNG.standard_normal(64 * 256).astype(np.float32)
    nf4 = quant_error(w, dequantize(quantize(w, "nf4")))["rms_error"]
    int4 = quant_error(w, dequantize(quantize(w, "int4")))["rms_error"]
    assert nf4 < int4


def test_unknown_quant_format_is_rejected():
    with pytest.raises(ValueError, match="format"):
        quantize(np.ones(4), "fp3")
