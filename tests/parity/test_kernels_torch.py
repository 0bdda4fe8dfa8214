"""Kernels against torch.nn.functional and transformers' own functions (the parity tier)."""

from __future__ import annotations

import numpy as np
import pytest

from llmarch_cli.kernels.activations import gelu, gelu_tanh, quick_gelu, silu, softmax
from llmarch_cli.kernels.attention import attention, windowed_attention
from llmarch_cli.kernels.lora import lora_apply, lora_merge
from llmarch_cli.kernels.masks import causal_mask, sliding_window_mask
from llmarch_cli.kernels.norms import layer_norm, rms_norm
from llmarch_cli.kernels.positions import (
    alibi_slopes,
    apply_rope,
    rope_cos_sin,
    rope_inv_freq,
    t5_relative_bucket,
)
from llmarch_cli.specs.model import Rope, RopeScaling

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
F = torch.nn.functional

RNG = np.random.default_rng(7)


def _randn(*shape: int, scale: float = 1.0) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def _t(x: np.ndarray):
    return torch.from_numpy(np.ascontiguousarray(x))


def test_layer_norm_matches_torch_with_a_large_eps():
    x, w, b = _randn(5, 24, scale=3.0), _randn(24), _randn(24)
    expected = F.layer_norm(_t(x), (24,), _t(w), _t(b), eps=1e-2).numpy()
    np.testing.assert_allclose(layer_norm(x, w, b, 1e-2), expected, atol=2e-6, rtol=0)


def test_rms_norm_matches_torch_rms_norm():
    x, w = _randn(5, 24, scale=3.0), _randn(24)
    expected = F.rms_norm(_t(x), (24,), _t(w), eps=1e-3).numpy()
    np.testing.assert_allclose(rms_norm(x, w, 1e-3), expected, atol=2e-6, rtol=0)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (gelu, lambda t: F.gelu(t)),
        (gelu_tanh, lambda t: F.gelu(t, approximate="tanh")),
        (silu, F.silu),
        (quick_gelu, lambda t: t * torch.sigmoid(1.702 * t)),
        (lambda x: softmax(x, axis=-1), lambda t: F.softmax(t, dim=-1)),
    ],
    ids=["gelu", "gelu_tanh", "silu", "quick_gelu", "softmax"],
)
def test_activation_matches_torch(ours, theirs):
    x = _randn(64, 33, scale=4.0)
    np.testing.assert_allclose(ours(x), theirs(_t(x)).numpy(), atol=2e-6, rtol=1e-6)


def test_transformers_gelu_names_match_our_exact_and_tanh_gelu():
    from transformers.activations import ACT2FN

    x = _randn(1000, scale=5.0)
    np.testing.assert_allclose(gelu(x), ACT2FN["gelu"](_t(x)).numpy(), atol=2e-6)
    np.testing.assert_allclose(gelu_tanh(x), ACT2FN["gelu_new"](_t(x)).numpy(), atol=2e-6)
    np.testing.assert_allclose(gelu_tanh(x), ACT2FN["gelu_pytorch_tanh"](_t(x)).numpy(), atol=2e-6)


def _sdpa(q, k, v, mask, scale):
    g = q.shape[0] // k.shape[0]
    k, v = np.repeat(k, g, axis=0), np.repeat(v, g, axis=0)
    return F.scaled_dot_product_attention(
        _t(q)[None], _t(k)[None], _t(v)[None], attn_mask=_t(mask), scale=scale
    )[0].numpy()


@pytest.mark.parametrize("kv_heads", [6, 2, 1], ids=["mha", "gqa", "mqa"])
def test_causal_attention_matches_sdpa(kv_heads):
    q, k, v = _randn(6, 11, 8), _randn(kv_heads, 11, 8), _randn(kv_heads, 11, 8)
    mask = causal_mask(11)
    out, _ = attention(q, k, v, scale=8**-0.5, mask=mask)
    np.testing.assert_allclose(out, _sdpa(q, k, v, mask, 8**-0.5), atol=2e-6)


def test_sliding_window_attention_matches_sdpa_with_the_window_mask():
    q, k, v = _randn(4, 40, 8), _randn(2, 40, 8), _randn(2, 40, 8)
    mask = sliding_window_mask(40, 6)
    expected = _sdpa(q, k, v, mask, 0.3)
    out, _ = attention(q, k, v, scale=0.3, mask=mask)
    np.testing.assert_allclose(out, expected, atol=2e-6)
    blocked = windowed_attention(q, k, v, window=6, scale=0.3, block=9)
    np.testing.assert_allclose(blocked, expected, atol=2e-6)


def test_gqa_groups_match_transformers_repeat_kv():
    from transformers.models.llama.modeling_llama import repeat_kv as hf_repeat_kv

    from llmarch_cli.kernels.attention import repeat_kv

    kv = _randn(3, 5, 4)
    np.testing.assert_array_equal(repeat_kv(kv, 4), hf_repeat_kv(_t(kv)[None], 4)[0].numpy())


def _llama_config(rope_parameters: dict, head_dim: int = 32, max_positions: int = 4096):
    from transformers import LlamaConfig

    return LlamaConfig(
        hidden_size=head_dim * 4,
        num_attention_heads=4,
        head_dim=head_dim,
        max_position_embeddings=max_positions,
        rope_parameters=rope_parameters,
    )


ROPE_CASES = {
    "linear": ({"rope_type": "linear", "rope_theta": 10000.0, "factor": 4.0}, None),
    "dynamic_long": ({"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0}, 10000),
    "dynamic_short": ({"rope_type": "dynamic", "rope_theta": 10000.0, "factor": 2.0}, 100),
    "llama3": (
        {
            "rope_type": "llama3",
            "rope_theta": 500000.0,
            "factor": 8.0,
            "low_freq_factor": 1.0,
            "high_freq_factor": 4.0,
            "original_max_position_embeddings": 8192,
        },
        None,
    ),
    "yarn": (
        {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0, "original_max_position_embeddings": 1024},
        None,
    ),
    "yarn_gpt_oss": (
        {
            "rope_type": "yarn",
            "rope_theta": 150000.0,
            "factor": 32.0,
            "beta_fast": 32.0,
            "beta_slow": 1.0,
            "truncate": False,
            "original_max_position_embeddings": 4096,
        },
        None,
    ),
    "yarn_mscale": (
        {
            "rope_type": "yarn",
            "rope_theta": 10000.0,
            "factor": 40.0,
            "mscale": 0.707,
            "mscale_all_dim": 0.707,
            "original_max_position_embeddings": 4096,
        },
        None,
    ),
    "longrope_short": (
        {
            "rope_type": "longrope",
            "rope_theta": 10000.0,
            "factor": 4.0,
            "original_max_position_embeddings": 1024,
            "short_factor": [1.0 + 0.1 * i for i in range(16)],
            "long_factor": [2.0 + 0.5 * i for i in range(16)],
        },
        512,
    ),
    "longrope_long": (
        {
            "rope_type": "longrope",
            "rope_theta": 10000.0,
            "factor": 4.0,
            "original_max_position_embeddings": 1024,
            "short_factor": [1.0 + 0.1 * i for i in range(16)],
            "long_factor": [2.0 + 0.5 * i for i in range(16)],
        },
        3000,
    ),
}

_SPEC_KEYS = {
    "original_max_position_embeddings": "original_max_positions",
    "low_freq_factor": "low_freq_factor",
    "high_freq_factor": "high_freq_factor",
    "beta_fast": "beta_fast",
    "beta_slow": "beta_slow",
    "truncate": "truncate",
    "mscale": "mscale",
    "mscale_all_dim": "mscale_all_dim",
    "short_factor": "short_factor",
    "long_factor": "long_factor",
}


def _spec_rope(params: dict, rotary_dim: int) -> Rope:
    extra = {_SPEC_KEYS[k]: v for k, v in params.items() if k in _SPEC_KEYS}
    scaling = RopeScaling(kind=params["rope_type"], factor=params["factor"], **extra)
    return Rope(theta=params["rope_theta"], rotary_dim=rotary_dim, scaling=scaling)


@pytest.mark.parametrize("case", sorted(ROPE_CASES))
def test_rope_inv_freq_matches_transformers_init_function(case):
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    params, seq_len = ROPE_CASES[case]
    config = _llama_config(dict(params))
    inv_ref, factor_ref = ROPE_INIT_FUNCTIONS[params["rope_type"]](config, "cpu", seq_len=seq_len)
    inv, factor = rope_inv_freq(_spec_rope(params, 32), 4096, seq_len)
    assert inv.dtype == np.float32
    np.testing.assert_allclose(inv, inv_ref.numpy(), rtol=2e-6, atol=0)
    assert factor == pytest.approx(factor_ref, rel=1e-12)


def test_default_rope_matches_llama_rotary_embedding_and_apply():
    from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding, apply_rotary_pos_emb

    config = _llama_config({"rope_type": "default", "rope_theta": 500000.0}, head_dim=16)
    positions = np.arange(0, 3000, 97)
    q, k = _randn(1, 4, len(positions), 16), _randn(1, 4, len(positions), 16)
    cos_ref, sin_ref = LlamaRotaryEmbedding(config)(_t(q), torch.from_numpy(positions)[None])
    q_ref, k_ref = apply_rotary_pos_emb(_t(q), _t(k), cos_ref, sin_ref)
    cos, sin = rope_cos_sin(positions, *rope_inv_freq(Rope(theta=500000.0, rotary_dim=16), 4096))
    np.testing.assert_allclose(apply_rope(q, cos, sin, 16), q_ref.numpy(), atol=1e-5)
    np.testing.assert_allclose(apply_rope(k, cos, sin, 16), k_ref.numpy(), atol=1e-5)


def test_partial_rotary_half_pairing_matches_gpt_neox():
    from transformers import GPTNeoXConfig
    from transformers.models.gpt_neox.modeling_gpt_neox import (
        GPTNeoXRotaryEmbedding,
        apply_rotary_pos_emb,
    )

    config = GPTNeoXConfig(hidden_size=96, num_attention_heads=4, rotary_pct=0.25, max_position_embeddings=512)
    T, hd = 9, 24
    q = _randn(1, 4, T, hd)
    positions = np.arange(T)
    cos_ref, sin_ref = GPTNeoXRotaryEmbedding(config)(_t(q), torch.from_numpy(positions)[None])
    q_ref, _ = apply_rotary_pos_emb(_t(q), _t(q), cos_ref, sin_ref)
    cos, sin = rope_cos_sin(positions, *rope_inv_freq(Rope(theta=10000.0, rotary_dim=6), 512))
    np.testing.assert_allclose(apply_rope(q, cos, sin, 6), q_ref.numpy(), atol=2e-6)


def test_interleaved_partial_rotary_matches_gptj():
    from transformers.models.gptj.modeling_gptj import (
        apply_rotary_pos_emb,
        create_sinusoidal_positions,
    )

    T, hd, rotary_dim = 7, 16, 8
    x = _randn(1, T, 3, hd)  # GPT-J rotates [batch, T, heads, hd]
    table = create_sinusoidal_positions(T, rotary_dim)  # [T, rotary_dim] = [sin | cos]
    sin_ref, cos_ref = torch.split(table[None], rotary_dim // 2, dim=-1)
    rot = apply_rotary_pos_emb(_t(x[..., :rotary_dim]), sin_ref, cos_ref)
    expected = torch.cat([rot, _t(x[..., rotary_dim:])], dim=-1).numpy().transpose(0, 2, 1, 3)
    cos, sin = rope_cos_sin(np.arange(T), rope_inv_freq(Rope(theta=10000.0, rotary_dim=8), 2048)[0])
    ours = apply_rope(x.transpose(0, 2, 1, 3), cos, sin, rotary_dim, "interleaved")
    np.testing.assert_allclose(ours, expected, atol=2e-6)


@pytest.mark.parametrize("bidirectional", [True, False], ids=["encoder", "decoder"])
def test_t5_buckets_match_transformers(bidirectional):
    from transformers.models.t5.modeling_t5 import T5Attention

    r = np.arange(-600, 600)
    expected = T5Attention._relative_position_bucket(
        torch.from_numpy(r), bidirectional=bidirectional, num_buckets=32, max_distance=128
    ).numpy()
    np.testing.assert_array_equal(t5_relative_bucket(r, bidirectional, 32, 128), expected)


@pytest.mark.parametrize("heads", [1, 6, 8, 12, 16, 112])
def test_alibi_slopes_match_bloom(heads):
    from transformers.models.bloom.modeling_bloom import build_alibi_tensor

    alibi = build_alibi_tensor(torch.ones(1, 5), heads, torch.float32)  # [heads, 1, 5] = m_h * j
    np.testing.assert_allclose(alibi_slopes(heads), alibi[:, 0, 1].numpy(), rtol=3e-7)  # pow may differ by 1 ulp


def test_lora_merge_matches_peft_merge_and_unload():
    peft = pytest.importorskip("peft")

    torch.manual_seed(0)
    base = torch.nn.Sequential(torch.nn.Linear(12, 10, bias=False))
    model = peft.get_peft_model(base, peft.LoraConfig(r=4, lora_alpha=8, target_modules=["0"]))
    layer = model.base_model.model[0]
    torch.nn.init.normal_(layer.lora_B["default"].weight)  # B starts at zero; make it count
    w = layer.base_layer.weight.detach().numpy().copy()  # [out, in]
    a = layer.lora_A["default"].weight.detach().numpy()  # [r, in]
    b = layer.lora_B["default"].weight.detach().numpy()  # [out, r]
    x = _randn(3, 12)
    with torch.no_grad():
        unmerged = model(_t(x)).numpy()
        merged_w = model.merge_and_unload()[0].weight.numpy()  # [out, in]
    np.testing.assert_allclose(lora_merge(w.T, a.T, b.T, 8.0), merged_w.T, atol=1e-6)
    np.testing.assert_allclose(lora_apply(x, w.T, a.T, b.T, 8.0), unmerged, atol=1e-5)
