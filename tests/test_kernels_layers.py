"""Norms, activations and FFN blocks against their definitions; erf against math.erf."""

from __future__ import annotations

import math

import numpy as np
import pytest

from llmarch_cli.kernels.activations import ACTIVATIONS, erf, gelu, sigmoid, softmax
from llmarch_cli.kernels.ffn import clamped_swiglu, gated_ffn, plain_ffn
from llmarch_cli.kernels.norms import layer_norm, rms_norm

RNG = np.random.default_rng(5)


def test_erf_matches_math_erf_to_1e_minus_10_everywhere():
    x = np.concatenate([np.linspace(-10, 10, 40001), [0.0, 1e-8, -1e-8, 2.0, -2.0, 1.999999]])
    expected = np.array([math.erf(v) for v in x])
    assert np.abs(erf(x) - expected).max() < 1e-10
    assert erf(np.float32(0.5)).dtype == np.float32


def test_exact_gelu_is_x_times_the_normal_cdf():
    x = np.linspace(-6, 6, 241, dtype=np.float32)
    expected = [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(float)]
    np.testing.assert_allclose(gelu(x), expected, atol=2e-6)


@pytest.mark.parametrize(("name", "fn"), [
    ("relu", lambda v: max(v, 0.0)),
    ("gelu_tanh", lambda v: 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v**3)))),
    ("quick_gelu", lambda v: v / (1 + math.exp(-1.702 * v))),
    ("silu", lambda v: v / (1 + math.exp(-v))),
])
def test_activation_matches_its_formula_and_keeps_float32(name, fn):
    x = np.linspace(-8, 8, 161, dtype=np.float32)
    y = ACTIVATIONS[name](x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, [fn(v) for v in x.astype(float)], atol=2e-6)


def test_sigmoid_does_not_overflow_at_large_magnitudes():
    y = sigmoid(np.array([-1000.0, 0.0, 1000.0], np.float32))
    assert y.tolist() == [0.0, 0.5, 1.0]


def test_softmax_rows_sum_to_one_and_survive_large_logits():
    p = softmax(np.array([[1000.0, 1000.0], [-5.0, 5.0]], np.float32))
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-7)
    assert p[0].tolist() == [0.5, 0.5]


def test_layer_norm_output_has_mean_zero_and_biased_unit_variance():
    x = RNG.standard_normal((4, 32), dtype=np.float32) * 5 + 2
    y = layer_norm(x, None, None, 1e-12)
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-6)
    np.testing.assert_allclose(y.std(-1), 1, atol=1e-5)  # numpy std divides by H: biased


def test_layer_norm_puts_eps_inside_the_square_root_and_applies_weight_and_bias():
    x = np.array([[1.0, 3.0]], np.float32)  # mean 2, variance 1
    y = layer_norm(x, np.array([2.0, 2.0], np.float32), np.array([0.5, 0.5], np.float32), 3.0)
    np.testing.assert_allclose(y, [[-1 / 2 * 2 + 0.5, 1 / 2 * 2 + 0.5]], atol=1e-7)  # sqrt(1+3) = 2


def test_rms_norm_divides_by_root_mean_square_without_centring():
    x = np.array([[3.0, 4.0]], np.float32)  # mean square 12.5
    y = rms_norm(x, np.array([1.0, 10.0], np.float32), 0.0)
    np.testing.assert_allclose(y, [[3 / math.sqrt(12.5), 40 / math.sqrt(12.5)]], rtol=1e-6)


def test_plain_and_gated_ffn_follow_their_formulas():
    x = RNG.standard_normal((3, 6), dtype=np.float32)
    w1, w2, wg = (RNG.standard_normal(s, dtype=np.float32) for s in ((6, 10), (10, 6), (6, 10)))
    b1 = RNG.standard_normal(10, dtype=np.float32)
    relu = lambda a: np.maximum(a, 0)  # noqa: E731
    np.testing.assert_allclose(plain_ffn(x, w1, w2, "relu", b_up=b1), relu(x @ w1 + b1) @ w2, rtol=1e-5)
    silu = lambda a: a / (1 + np.exp(-a))  # noqa: E731
    gate_up = np.concatenate([wg, w1], axis=1)  # [6, gate | up]
    np.testing.assert_allclose(gated_ffn(x, gate_up, w2, "silu"), (silu(x @ wg) * (x @ w1)) @ w2,
                               rtol=1e-4, atol=1e-5)


def test_clamped_swiglu_clamps_the_gate_above_only_and_the_linear_branch_both_ways():
    gate = np.array([-20.0, 0.5, 20.0], np.float32)
    up = np.array([-20.0, 0.0, 20.0], np.float32)
    y = clamped_swiglu(gate, up, limit=7.0, alpha=1.702)
    expected = [(-7 + 1) * -20 / (1 + math.exp(1.702 * 20)),  # gate keeps -20
                1 * 0.5 / (1 + math.exp(-1.702 * 0.5)),  # up 0 passes the gate through (+1)
                (7 + 1) * 7 / (1 + math.exp(-1.702 * 7))]  # both clamped at 7
    np.testing.assert_allclose(y, expected, rtol=1e-6)
