"""Attention kernels against analytic identities: masks, softmax rows, GQA groups, windows, sinks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from llmarch_cli.kernels.attention import attention, repeat_kv, window_blocks, windowed_attention
from llmarch_cli.kernels.masks import additive_mask, causal_mask, sliding_window_mask

RNG = np.random.default_rng(0)


def _qkv(nh: int, nkv: int, T: int, hd: int = 8):
    return tuple(RNG.standard_normal((n, T, hd), dtype=np.float32) for n in (nh, nkv, nkv))


def test_causal_mask_allows_key_j_only_when_j_le_i():
    mask = causal_mask(5)
    assert mask.dtype == bool
    assert all(mask[i, j] == (j <= i) for i in range(5) for j in range(5))


def test_sliding_window_mask_has_w_keys_including_the_query_itself():
    mask = sliding_window_mask(10, 3)
    assert mask.sum(axis=1).tolist() == [1, 2, 3, 3, 3, 3, 3, 3, 3, 3]
    assert np.flatnonzero(mask[7]).tolist() == [5, 6, 7]


def test_masks_with_a_cache_place_the_queries_at_the_end():
    mask = sliding_window_mask(2, 3, S=6)  # queries at positions 4 and 5
    assert np.flatnonzero(mask[0]).tolist() == [2, 3, 4]
    assert np.flatnonzero(mask[1]).tolist() == [3, 4, 5]
    assert causal_mask(1, S=4).tolist() == [[True, True, True, True]]


def test_window_zero_is_rejected():
    with pytest.raises(ValueError, match="window"):
        sliding_window_mask(4, 0)


def test_softmax_rows_sum_to_one_and_masked_weights_are_exactly_zero():
    q, k, v = _qkv(4, 4, 9)
    mask = sliding_window_mask(9, 4)
    out, probs = attention(q, k, v, scale=8**-0.5, mask=mask)
    assert out.dtype == probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, atol=1e-6)
    assert np.all(probs[:, ~mask] == 0.0)


def test_attention_equals_the_textbook_formula_per_head():
    q, k, v = _qkv(2, 2, 5)
    _, probs = attention(q, k, v, scale=0.5)
    for h in range(2):
        s = (q[h].astype(np.float64) @ k[h].T.astype(np.float64)) * 0.5
        e = np.exp(s - s.max(axis=1, keepdims=True))
        np.testing.assert_allclose(probs[h], e / e.sum(axis=1, keepdims=True), atol=1e-6)


def test_repeat_kv_is_repeat_interleave_kv_head_j_serves_query_heads_jg_to_jg_plus_g_minus_1():
    kv = np.arange(3, dtype=np.float32)[:, None, None] * np.ones((3, 2, 4), np.float32)
    repeated = repeat_kv(kv, 4)  # 12 query heads, groups of 4
    assert [int(repeated[h, 0, 0]) for h in range(12)] == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]


def test_gqa_equals_mha_with_each_kv_head_copied_to_its_group():
    q, k, v = _qkv(6, 2, 7)
    gqa, _ = attention(q, k, v, scale=0.3, mask=causal_mask(7))
    for h in range(6):
        single, _ = attention(q[h : h + 1], k[h // 3 : h // 3 + 1], v[h // 3 : h // 3 + 1],
                              scale=0.3, mask=causal_mask(7))
        np.testing.assert_allclose(gqa[h], single[0], atol=1e-6)


def test_kv_heads_must_divide_query_heads():
    q, k, v = _qkv(6, 4, 3)
    with pytest.raises(ValueError, match="must divide"):
        attention(q, k, v, scale=1.0)


def test_fully_masked_row_becomes_uniform_not_nan():
    q, k, v = _qkv(1, 1, 3)
    mask = np.zeros((3, 3), dtype=bool)
    _, probs = attention(q, k, v, scale=1.0, mask=mask)
    np.testing.assert_allclose(probs, 1 / 3, atol=1e-7)


def test_sink_takes_weight_exp_sink_over_the_total_and_rows_sum_below_one():
    q, k, v = _qkv(2, 1, 4)
    sinks = np.array([0.5, -1.0], np.float32)
    mask = causal_mask(4)
    _, plain = attention(q, k, v, scale=0.4, mask=mask)
    _, with_sinks = attention(q, k, v, scale=0.4, mask=mask, sinks=sinks)
    g = np.repeat(k, 2, axis=0)
    scores = np.where(mask, (q.astype(np.float64) @ g.transpose(0, 2, 1)) * 0.4, -np.inf)
    total = np.exp(scores).sum(-1) + np.exp(sinks.astype(np.float64))[:, None]  # [nh, T]
    np.testing.assert_allclose(with_sinks, np.exp(scores) / total[..., None], atol=1e-6)
    assert np.all(with_sinks.sum(-1) < 1)
    np.testing.assert_allclose(with_sinks / with_sinks.sum(-1, keepdims=True), plain, atol=1e-6)


def test_additive_bias_shifts_scores_after_scaling():
    q, k, v = _qkv(1, 1, 3)
    bias = np.array([[[0.0, 1.0, 2.0]] * 3], np.float32)
    _, probs = attention(q, k, v, scale=0.2, bias=bias)
    s = (q[0].astype(np.float64) @ k[0].T) * 0.2 + bias[0]
    e = np.exp(s - s.max(1, keepdims=True))
    np.testing.assert_allclose(probs[0], e / e.sum(1, keepdims=True), atol=1e-6)


@pytest.mark.parametrize(("T", "window", "block", "nkv"),
                         [(50, 7, 8, 2), (33, 1, 5, 1), (20, 40, 6, 4), (64, 16, 16, 4)])
def test_windowed_attention_equals_masked_full_attention(T, window, block, nkv):
    q, k, v = _qkv(4, nkv, T)
    sinks = RNG.standard_normal(4).astype(np.float32)
    for s in (None, sinks):
        full, _ = attention(q, k, v, scale=0.35, mask=sliding_window_mask(T, window), sinks=s)
        blocked = windowed_attention(q, k, v, window=window, scale=0.35, block=block, sinks=s)
        np.testing.assert_allclose(blocked, full, atol=1e-6)


def test_window_blocks_never_score_more_than_block_plus_window_minus_one_keys():
    T, window, block = 16384, 512, 256
    spans = [q1 - k0 for _, q1, k0 in window_blocks(T, window, block)]
    assert len(spans) == math.ceil(T / block)
    assert max(spans) == block + window - 1  # each block is [nh, block, <= block + W - 1]
    covered = [q for q0, q1, _ in window_blocks(T, window, block) for q in range(q0, q1)]
    assert covered == list(range(T))


def test_attention_leaves_its_inputs_untouched_and_keeps_float32():
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal(s, dtype=np.float32) for s in ((4, 5, 8), (2, 5, 8), (2, 5, 8)))
    bias = rng.standard_normal((4, 5, 5), dtype=np.float32)
    before = [a.copy() for a in (q, k, v, bias)]
    out, probs = attention(q, k, v, scale=0.3, bias=bias, mask=causal_mask(5), sinks=np.ones(4))
    for a, b in zip((q, k, v, bias), before, strict=True):
        np.testing.assert_array_equal(a, b)
    assert out.dtype == probs.dtype == np.float32


def test_bool_mask_and_its_additive_form_give_the_same_attention():
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal((2, 6, 4), dtype=np.float32) for _ in range(3))
    allowed = sliding_window_mask(6, 3)
    by_bool = attention(q, k, v, scale=0.5, mask=allowed)
    by_bias = attention(q, k, v, scale=0.5, bias=additive_mask(allowed))
    np.testing.assert_array_equal(by_bool[0], by_bias[0])
    assert additive_mask(allowed)[0, 1] == np.finfo(np.float32).min


def test_chunked_attention_equals_full_attention_under_a_block_diagonal_causal_mask():
    from llmarch_cli.kernels.attention_variants import chunked_attention

    rng = np.random.default_rng(0)
    q = rng.standard_normal((4, 10, 8), dtype=np.float32)
    k, v = (rng.standard_normal((2, 10, 8), dtype=np.float32) for _ in range(2))
    pos = np.arange(10)
    mask = (pos[None, :] <= pos[:, None]) & (pos[None, :] // 4 == pos[:, None] // 4)
    expected, _ = attention(q, k, v, scale=0.3, mask=mask)
    np.testing.assert_allclose(chunked_attention(q, k, v, chunk=4, scale=0.3), expected, atol=1e-6)


def test_linear_attention_equals_its_quadratic_definition():
    from llmarch_cli.kernels.attention_variants import elu_feature, linear_attention

    rng = np.random.default_rng(1)
    q = rng.standard_normal((2, 9, 4), dtype=np.float32)
    k, v = (rng.standard_normal((1, 9, 4), dtype=np.float32) for _ in range(2))
    weights = np.tril(elu_feature(q) @ elu_feature(k).transpose(0, 2, 1))  # [2, 9, 9] causal
    expected = (weights @ v) / weights.sum(-1, keepdims=True)
    np.testing.assert_allclose(linear_attention(q, k, v, block=4), expected, rtol=1e-5)


def test_latent_attention_absorbed_equals_naive_and_caches_far_less():
    from llmarch_cli.kernels.demo import mla_demo
    from llmarch_cli.kernels.mla import mla_absorbed, mla_naive

    rng = np.random.default_rng(5)
    nh, T, r, dn, dr, dv = 3, 7, 10, 6, 4, 5
    args = (rng.standard_normal((nh, T, dn)), rng.standard_normal((nh, T, dr)),
            rng.standard_normal((T, r)), rng.standard_normal((T, dr)),
            rng.standard_normal((nh, r, dn)), rng.standard_normal((nh, r, dv)))
    args = tuple(a.astype(np.float32) for a in args)
    naive = mla_naive(*args, scale=0.3)
    np.testing.assert_allclose(mla_absorbed(*args, scale=0.3), naive, atol=1e-5)
    demo = mla_demo(8, 4)
    assert demo.figures.max_abs_diff < 1e-5
    # DeepSeek-V3: 128 x (128 + 64 + 128) values per token naive, 512 + 64 absorbed.
    assert [f.deepseek_v3_values_per_token for f in demo.figures.forms] == [40960, 576]


def test_soft_cap_bounds_scores_and_keeps_small_ones():
    from llmarch_cli.kernels.attention import soft_cap

    x = np.array([-1000.0, -1.0, 0.0, 0.01, 1000.0], np.float32)
    capped = soft_cap(x.copy(), 30.0)
    assert np.all(np.abs(capped) < 30.0 + 1e-4) and capped[2] == 0
    np.testing.assert_allclose(capped[3], 0.01, rtol=1e-6)  # tanh(x) ~ x near 0


def test_chunk_mask_restarts_at_every_chunk_boundary():
    from llmarch_cli.kernels.masks import chunk_mask

    allowed = chunk_mask(np.arange(6), np.arange(6), 3)
    expected = np.array([[1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 0, 0],
                         [0, 0, 0, 1, 0, 0], [0, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 1]], bool)
    np.testing.assert_array_equal(allowed, expected)
