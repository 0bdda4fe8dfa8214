"""FLOPs per token against independent figures: published parameter counts, PaLM's attention
term, Mistral's window, and the scaling of whole-sequence attention with length."""

from __future__ import annotations

import pytest

from llmarch_cli.analysis.complexity import complexity_rows, overtake_length, receptive_field
from llmarch_cli.analysis.flops import (
    attention_flops_per_token,
    flops_row,
    linear_flops_per_token,
    prefill_flops,
)
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.loader import load_preset


def test_llama_3_1_8b_at_4k_is_15_01_gflop_linear_and_2_147_gflop_attention():
    spec = load_preset("llama-3.1-8b")
    # Meta's model card: 8,030,261,248 parameters; minus the 128,256 x 4,096 embedding (a lookup)
    # and 65 RMSNorm vectors of 4,096 (2 per layer + the final one), every weight is a matmul.
    matmul_weights = 8_030_261_248 - 128_256 * 4096 - 65 * 4096
    assert linear_flops_per_token(spec) == 2 * matmul_weights
    assert round(linear_flops_per_token(spec) / 1e9, 2) == 15.01
    # 32 layers x 32 heads x 128 dims, Q·K^T and P·V over 4,096 keys, 2 FLOPs per multiply-add.
    assert attention_flops_per_token(spec, 4096) == 4 * 32 * 32 * 128 * 4096 == 2_147_483_648


def test_mixtral_8x7b_top_2_of_8_is_about_25_5_gflop_linear():
    # Mistral AI ("Mixtral of experts"): 12.9 B active parameters per token, of which the
    # 32,000 x 4,096 embedding is a lookup.
    spec = load_preset("mixtral-8x7b")
    assert linear_flops_per_token(spec) / 1e9 == pytest.approx(2 * (12.9e9 - 32_000 * 4096) / 1e9, abs=0.1)
    assert round(linear_flops_per_token(spec) / 1e9, 1) == 25.5


def test_mistral_attention_flops_stop_growing_past_its_4096_window():
    spec = load_preset("mistral-7b-v0.1")
    at = {n: attention_flops_per_token(spec, n) for n in (2048, 4096, 8192, 32768)}
    assert at[4096] == at[8192] == at[32768] == 2 * at[2048]


def test_attention_per_token_is_palms_12_lhqt_over_3():
    # PaLM (Chowdhery et al. 2022), App. B: training adds 12 x L x H x Q x T FLOPs per token for
    # attention (forward + backward = 3 x forward, no causal saving).
    spec = load_preset("gpt2")
    L, H, Q, T = 12, 12, 64, 1024
    assert 3 * attention_flops_per_token(spec, T) == 12 * L * H * Q * T == 113_246_208


def test_doubling_a_long_sequence_quadruples_full_and_doubles_window_attention():
    spec = load_preset("mistral-7b-v0.1")
    short, long = complexity_rows(spec, [65536, 131072], 4096)
    assert long.full_attention_flops / short.full_attention_flops == pytest.approx(4, rel=1e-4)
    assert long.window_attention_flops / short.window_attention_flops == pytest.approx(2, rel=0.02)


def test_prefill_sums_the_causal_mask_not_n_times_the_last_token():
    spec = load_preset("llama-2-7b")
    n = 4096
    linear, per_key = linear_flops_per_token(spec), attention_flops_per_token(spec, 1)
    assert prefill_flops(spec, n) == n * linear + per_key * n * (n + 1) // 2


def test_training_is_three_times_the_forward_beside_6nd():
    row = flops_row(load_preset("llama-2-7b"), 2048)
    assert row.training_flops_per_token == 3 * (row.prefill_flops // 2048)
    assert row.training_recompute_flops_per_token == 4 * (row.prefill_flops // 2048)
    assert row.six_nd_flops_per_token == 6 * 6_738_415_616  # the Llama 2 7B parameter count


def test_encoder_decoder_decodes_without_recomputing_cross_attention_keys():
    spec = load_preset("t5-base")
    parts = {c.component: c.flops_per_token for c in flops_row(spec, 512).breakdown}
    d = 768
    assert parts["cross_attention"] == 2 * 12 * 2 * d * d  # q and o only, 12 decoder layers
    assert parts["cross_attention.scores"] == 4 * 12 * 12 * 64 * 512


def test_mistral_stacked_windows_reach_about_131k_tokens_and_attention_overtakes_ffn():
    spec = load_preset("mistral-7b-v0.1")
    # Mistral 7B paper §2: "at the last layer ... attention span of approximately 131K tokens".
    assert receptive_field(spec, 4096) == 32 * 4095 + 1
    assert round(receptive_field(spec, 4096) / 1000) == 131
    # 2 x 3 x 4,096 x 14,336 FFN FLOPs per layer and token = 4 x 32 x 128 x (n + 1) / 2.
    assert overtake_length(spec) == -(-(2 * 2 * 3 * 4096 * 14336 - 4 * 32 * 128) // (4 * 32 * 128))


def test_a_window_not_below_any_length_is_refused():
    with pytest.raises(LlmarchError, match="would equal full attention"):
        complexity_rows(load_preset("mistral-7b-v0.1"), [1024, 2048], 4096)
