"""Position kernels: RoPE identities, ALiBi slopes from the paper, T5 buckets, sinusoids."""

from __future__ import annotations

import math

import numpy as np
import pytest

from llmarch_cli.kernels.positions import (
    alibi_bias,
    alibi_slopes,
    apply_rope,
    attention_temperature,
    rope_cos_sin,
    rope_inv_freq,
    sinusoidal_table,
    t5_relative_bias,
    t5_relative_bucket,
)
from llmarch_cli.specs.model import Rope, RopeScaling

RNG = np.random.default_rng(3)


def _rotate(x: np.ndarray, pos: int, rope: Rope) -> np.ndarray:
    cos, sin = rope_cos_sin(np.array([pos]), *rope_inv_freq(rope, 4096))
    return apply_rope(x[None], cos, sin, rope.rotary_dim, rope.pairing)[0]


@pytest.mark.parametrize("pairing", ["half", "interleaved"])
@pytest.mark.parametrize("rotary_dim", [16, 8])
def test_rope_score_depends_only_on_relative_position(pairing, rotary_dim):
    rope = Rope(theta=10000.0, rotary_dim=rotary_dim, pairing=pairing)
    q, k = RNG.standard_normal(16, dtype=np.float32), RNG.standard_normal(16, dtype=np.float32)
    for offset in (0, 3, 17):
        scores = [float(_rotate(q, m + offset, rope) @ _rotate(k, m, rope)) for m in (0, 5, 40, 300)]
        np.testing.assert_allclose(scores, scores[0], atol=2e-5)


def test_rope_preserves_the_norm_and_leaves_unrotated_dims_alone():
    rope = Rope(theta=10000.0, rotary_dim=8)
    x = RNG.standard_normal(16, dtype=np.float32)
    y = _rotate(x, 123, rope)
    assert y.dtype == np.float32
    assert np.linalg.norm(y) == pytest.approx(np.linalg.norm(x), rel=1e-6)
    np.testing.assert_array_equal(y[8:], x[8:])


def test_rope_at_position_zero_is_the_identity():
    x = RNG.standard_normal((2, 3, 8), dtype=np.float32)
    cos, sin = rope_cos_sin(np.zeros(3), *rope_inv_freq(Rope(theta=500000.0, rotary_dim=8), 8192))
    np.testing.assert_array_equal(apply_rope(x, cos, sin, 8), x)


def test_rope_half_pairing_rotates_dim_i_with_dim_i_plus_half():
    x = np.zeros(8, np.float32)
    x[1] = 1.0
    inv, _ = rope_inv_freq(Rope(theta=10000.0, rotary_dim=8), 2048)
    y = _rotate(x, 2, Rope(theta=10000.0, rotary_dim=8))
    angle = 2 * inv[1]
    assert y[1] == pytest.approx(math.cos(angle), abs=1e-6)
    assert y[5] == pytest.approx(math.sin(angle), abs=1e-6)
    assert np.count_nonzero(np.abs(y) > 1e-7) == 2


def test_interleaved_rope_multiplies_adjacent_pairs_as_complex_numbers_by_e_to_the_i_angle():
    # Llama 4 and Meta's reference code: view (x_2i, x_2i+1) as x_2i + i x_2i+1, times e^(i p w_i)
    x = RNG.standard_normal((3, 5, 8), dtype=np.float32)  # [n, T, hd]
    inv, _ = rope_inv_freq(Rope(theta=500000.0, rotary_dim=8), 4096)
    cos, sin = rope_cos_sin(np.arange(5), inv)
    expected = (x[..., 0::2] + 1j * x[..., 1::2]) * np.exp(1j * np.arange(5)[:, None] * inv)
    ours = apply_rope(x, cos, sin, 8, "interleaved")
    np.testing.assert_allclose(ours[..., 0::2], expected.real, atol=1e-5)
    np.testing.assert_allclose(ours[..., 1::2], expected.imag, atol=1e-5)


def test_attention_temperature_is_one_below_floor_scale_then_one_plus_scale_times_log_steps():
    scales = attention_temperature(np.arange(12), floor_scale=4, attn_scale=0.1)
    assert scales.dtype == np.float32
    steps = [(p + 1) // 4 for p in range(12)]  # 0 0 0 1 1 1 1 2 2 2 2 3
    np.testing.assert_allclose(scales, [1 + 0.1 * math.log(1 + s) for s in steps], rtol=1e-6)
    assert attention_temperature(np.array([8190, 8191]), 8192, 0.1).tolist() == pytest.approx(
        [1.0, 1 + 0.1 * math.log(2)])  # Llama 4's 8,192: the first step at the 8,192nd token


def test_default_inverse_frequencies_are_theta_to_minus_2i_over_d_in_float32():
    inv, factor = rope_inv_freq(Rope(theta=10000.0, rotary_dim=64), 2048)
    assert inv.dtype == np.float32 and factor == 1.0
    np.testing.assert_allclose(inv, [10000.0 ** (-2 * i / 64) for i in range(32)], rtol=1e-6)


def test_linear_scaling_divides_every_frequency_by_the_factor():
    base, _ = rope_inv_freq(Rope(theta=10000.0, rotary_dim=32), 2048)
    scaled, _ = rope_inv_freq(
        Rope(theta=10000.0, rotary_dim=32, scaling=RopeScaling(kind="linear", factor=4.0)), 2048)
    np.testing.assert_allclose(scaled, base / 4, rtol=1e-7)


def test_dynamic_scaling_changes_nothing_until_the_sequence_outgrows_max_positions():
    rope = Rope(theta=10000.0, rotary_dim=32, scaling=RopeScaling(kind="dynamic", factor=2.0))
    base, _ = rope_inv_freq(Rope(theta=10000.0, rotary_dim=32), 2048)
    np.testing.assert_array_equal(rope_inv_freq(rope, 2048, seq_len=1000)[0], base)
    longer, _ = rope_inv_freq(rope, 2048, seq_len=8192)
    assert longer[0] == base[0] and np.all(longer[1:] < base[1:])


def test_llama3_scaling_keeps_high_frequencies_and_divides_low_ones_by_factor():
    scaling = RopeScaling(kind="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                          original_max_positions=8192)
    base, _ = rope_inv_freq(Rope(theta=500000.0, rotary_dim=128), 131072)
    inv, _ = rope_inv_freq(Rope(theta=500000.0, rotary_dim=128, scaling=scaling), 131072)
    wavelength = 2 * np.pi / base
    high, low = wavelength < 8192 / 4, wavelength > 8192 / 1
    np.testing.assert_array_equal(inv[high], base[high])
    np.testing.assert_allclose(inv[low], base[low] / 8, rtol=1e-6)
    middle = ~high & ~low
    assert np.all((inv[middle] < base[middle]) & (inv[middle] > base[middle] / 8))


def test_yarn_attention_factor_is_0_1_ln_factor_plus_1_for_gpt_oss():
    scaling = RopeScaling(kind="yarn", factor=32.0, beta_fast=32.0, beta_slow=1.0, truncate=False,
                          original_max_positions=4096)
    _, factor = rope_inv_freq(Rope(theta=150000.0, rotary_dim=64, scaling=scaling), 131072)
    assert factor == pytest.approx(0.1 * math.log(32) + 1)  # 1.3466
    cos, sin = rope_cos_sin(np.arange(3), np.ones(2, np.float32), factor)
    np.testing.assert_allclose(cos**2 + sin**2, factor**2, rtol=1e-6)


def test_longrope_uses_long_factors_past_the_original_length():
    scaling = RopeScaling(kind="longrope", factor=4.0, original_max_positions=1024,
                          short_factor=(1.0,) * 4, long_factor=(2.0,) * 4)
    rope = Rope(theta=10000.0, rotary_dim=8, scaling=scaling)
    short, factor = rope_inv_freq(rope, 4096, seq_len=1024)
    long, _ = rope_inv_freq(rope, 4096, seq_len=1025)
    np.testing.assert_allclose(long, short / 2, rtol=1e-7)
    assert factor == pytest.approx(math.sqrt(1 + math.log(4) / math.log(1024)))


def test_alibi_slopes_for_8_heads_are_2_to_the_minus_1_to_minus_8():
    np.testing.assert_array_equal(alibi_slopes(8), [2.0**-i for i in range(1, 9)])


def test_alibi_slopes_for_6_heads_interleave_the_odd_powers_of_the_next_power_of_two():
    # Press et al. (ALiBi) for non powers of two: slopes of 4 heads, then every other slope of 8.
    np.testing.assert_array_equal(alibi_slopes(6), [2**-2, 2**-4, 2**-6, 2**-8, 2**-1, 2**-3])


def test_alibi_slopes_for_16_heads_start_at_2_to_the_minus_half():
    # float32 powers of the rounded base 2^-0.5, as BLOOM computes them: a few ulp off
    np.testing.assert_allclose(alibi_slopes(16), [2 ** (-0.5 * i) for i in range(1, 17)], rtol=1e-6)


def test_alibi_bias_is_slope_times_key_minus_query_and_zero_on_the_diagonal():
    bias = alibi_bias(np.array([0.5, 0.25], np.float32), 4)
    assert bias.shape == (2, 4, 4)
    assert bias[0, 3].tolist() == [-1.5, -1.0, -0.5, 0.0]
    assert np.all(np.diagonal(bias, axis1=1, axis2=2) == 0)
    assert alibi_bias(np.array([1.0], np.float32), 1, 3)[0].tolist() == [[-2.0, -1.0, 0.0]]


def _t5_bucket_reference(r: int, bidirectional: bool, num_buckets: int, max_distance: int) -> int:
    """Mesh TensorFlow's rule written out with Python floats."""
    bucket = 0
    if bidirectional:
        num_buckets //= 2
        bucket += num_buckets if r > 0 else 0
        n = abs(r)
    else:
        n = max(-r, 0)
    exact = num_buckets // 2
    if n < exact:
        return bucket + n
    grown = exact + int(math.log(n / exact) / math.log(max_distance / exact) * (num_buckets - exact))
    return bucket + min(grown, num_buckets - 1)


@pytest.mark.parametrize("bidirectional", [True, False])
def test_t5_buckets_follow_the_mesh_tensorflow_rule(bidirectional):
    # exact powers of two give log ratios that round differently in float32; skip those
    r = np.array([x for x in range(-300, 301) if abs(x) not in (16, 32, 64, 128, 256)])
    ours = t5_relative_bucket(r, bidirectional, 32, 128)
    assert ours.tolist() == [_t5_bucket_reference(int(x), bidirectional, 32, 128) for x in r]


def test_t5_bias_looks_up_the_table_per_head():
    table = np.arange(32 * 2, dtype=np.float32).reshape(32, 2)
    bias = t5_relative_bias(table, 3, 3, True, 128)
    buckets = t5_relative_bucket(np.arange(3)[None] - np.arange(3)[:, None], True, 32, 128)
    np.testing.assert_array_equal(bias[1], table[buckets, 1])


def test_sinusoidal_table_follows_vaswani_sin_on_even_and_cos_on_odd_dims():
    table = sinusoidal_table(50, 8)
    assert table.dtype == np.float32 and table.shape == (50, 8)
    p, i = 37, 2
    assert table[p, 2 * i] == pytest.approx(math.sin(p / 10000 ** (2 * i / 8)), abs=1e-5)
    assert table[p, 2 * i + 1] == pytest.approx(math.cos(p / 10000 ** (2 * i / 8)), abs=1e-5)
