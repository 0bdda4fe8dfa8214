"""Kernels of the new families' mechanisms against transformers' own modules and functions:
QK-norm (Qwen3 per head, OLMo 2 over the projection), Gemma 2's soft-capped attention,
DeepSeek's multi-head latent attention (both forms against DeepseekV3Attention), Qwen3-Next's
gated delta rule (against its token-by-token and its chunked torch implementations) and Llama 4's
complex-number RoPE, weightless QK-norm and MoE (sigmoid top-k scaling the experts' input)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from llmarch_cli.kernels.attention import attention
from llmarch_cli.kernels.masks import additive_mask, causal_mask
from llmarch_cli.kernels.mla import mla_absorbed, mla_naive, split_kv_b
from llmarch_cli.kernels.norms import qk_norm_per_head, qk_norm_projection, rms_norm
from llmarch_cli.kernels.positions import apply_rope, rope_cos_sin, rope_inv_freq
from llmarch_cli.kernels.recurrent import gated_delta_rule
from llmarch_cli.specs.model import Rope, RopeScaling

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

RNG = np.random.default_rng(11)


def _randn(*shape: int, scale: float = 1.0) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def _t(x: np.ndarray):
    return torch.from_numpy(np.ascontiguousarray(x))


def _np(x) -> np.ndarray:
    return x.detach().numpy()


def test_qk_norm_per_head_matches_qwen3s_rms_norm_on_each_head():
    from transformers.models.qwen3.modeling_qwen3 import Qwen3RMSNorm

    norm = Qwen3RMSNorm(16, eps=1e-3)
    with torch.no_grad():
        norm.weight.copy_(_t(1 + _randn(16, scale=0.3)))
    q = _randn(1, 7, 6, 16, scale=3.0)  # [B, T, nh, hd] as Qwen3Attention views it
    expected = _np(norm(_t(q)))[0].transpose(1, 0, 2)  # [nh, T, hd]
    ours = qk_norm_per_head(q[0].transpose(1, 0, 2), _np(norm.weight), 1e-3)
    np.testing.assert_allclose(ours, expected, atol=2e-6, rtol=0)


def test_qk_norm_over_the_projection_matches_olmo2s_q_norm():
    from transformers.models.olmo2.modeling_olmo2 import Olmo2RMSNorm

    norm = Olmo2RMSNorm(6 * 16, eps=1e-3)
    with torch.no_grad():
        norm.weight.copy_(_t(1 + _randn(96, scale=0.3)))
    q = _randn(7, 96, scale=3.0)  # [T, nh*hd]: OLMo 2 normalises before splitting heads
    np.testing.assert_allclose(qk_norm_projection(q, _np(norm.weight), 1e-3),
                               _np(norm(_t(q[None])))[0], atol=2e-6, rtol=0)


def test_soft_capped_attention_matches_gemma2s_eager_attention():
    from transformers.models.gemma2.modeling_gemma2 import eager_attention_forward

    q, k, v = _randn(6, 9, 16, scale=4.0), _randn(2, 9, 16, scale=4.0), _randn(2, 9, 16)
    mask = additive_mask(causal_mask(9))
    module = torch.nn.Module()
    module.num_key_value_groups, module.head_dim = 3, 16
    module.eval()
    expected, weights = eager_attention_forward(
        module, _t(q[None]), _t(k[None]), _t(v[None]), _t(mask[None, None]), scaling=0.0625 * 2,
        softcap=5.0)
    out, probs = attention(q, k, v, scale=0.0625 * 2, bias=mask, softcap=5.0)
    np.testing.assert_allclose(out, _np(expected)[0].transpose(1, 0, 2), atol=2e-6, rtol=0)
    np.testing.assert_allclose(probs, _np(weights)[0], atol=2e-6, rtol=0)
    uncapped = attention(q, k, v, scale=0.0625 * 2, bias=mask)[1]
    assert np.abs(uncapped - probs).max() > 0.05  # the cap binds on these scores


MLA = dict(hidden_size=40, num_attention_heads=4, num_key_value_heads=4, q_lora_rank=24,
           kv_lora_rank=12, qk_nope_head_dim=8, qk_rope_head_dim=6, v_head_dim=10,
           rms_norm_eps=1e-3, max_position_embeddings=64, rope_interleave=True,
           rope_parameters={"rope_type": "default", "rope_theta": 1000.0})


def _mla_module():
    config = transformers.DeepseekV3Config(**MLA)
    config._attn_implementation = "eager"
    from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3Attention

    torch.manual_seed(0)
    module = DeepseekV3Attention(config, layer_idx=0).eval()
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for name, p in module.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            p.copy_(1 + 0.2 * noise if "norm" in name else noise / math.sqrt(p.shape[-1]))
    return module


def _mla_inputs(module, x: np.ndarray):
    """Our numpy path up to the kernel: q_nope, q_pe, c_kv, k_pe, w_uk, w_uv from the module."""
    w = {n: _np(p) for n, p in module.named_parameters()}
    nh, dn, dr = 4, MLA["qk_nope_head_dim"], MLA["qk_rope_head_dim"]
    T = x.shape[0]
    q = rms_norm(x @ w["q_a_proj.weight"].T, w["q_a_layernorm.weight"], 1e-6) @ w["q_b_proj.weight"].T
    q = q.reshape(T, nh, dn + dr).transpose(1, 0, 2)  # [nh, T, dn+dr]
    compressed = x @ w["kv_a_proj_with_mqa.weight"].T  # [T, r + dr]
    c_kv = rms_norm(compressed[:, :12], w["kv_a_layernorm.weight"], 1e-6)  # [T, r]; eps: the module default
    inv, factor = rope_inv_freq(Rope(theta=1000.0, rotary_dim=dr, pairing="interleaved"), 64)
    cos, sin = rope_cos_sin(np.arange(T), inv, factor)
    q_pe = apply_rope(q[..., dn:], cos, sin, dr, "interleaved")  # [nh, T, dr]
    k_pe = apply_rope(compressed[:, 12:], cos, sin, dr, "interleaved")  # [T, dr]
    w_uk, w_uv = split_kv_b(w["kv_b_proj.weight"], nh, dn)
    return q[..., :dn], q_pe, c_kv, k_pe, w_uk, w_uv, w["o_proj.weight"]


@pytest.mark.parametrize("form", [mla_naive, mla_absorbed])
def test_latent_attention_both_forms_match_deepseek_v3_attention(form):
    from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3RotaryEmbedding

    module = _mla_module()
    T = 9
    x = _randn(T, 40, scale=2.0)
    mask = additive_mask(causal_mask(T))
    rotary = DeepseekV3RotaryEmbedding(module.config)
    hidden = _t(x[None])
    cos, sin = rotary(hidden, torch.arange(T)[None])
    with torch.no_grad():
        expected = _np(module(hidden, (cos, sin), _t(mask[None, None]))[0])[0]  # [T, H]
    q_nope, q_pe, c_kv, k_pe, w_uk, w_uv, w_o = _mla_inputs(module, x)
    out = form(q_nope, q_pe, c_kv, k_pe, w_uk, w_uv, scale=module.scaling, bias=mask)  # [nh, T, dv]
    ours = out.transpose(1, 0, 2).reshape(T, -1) @ w_o.T
    assert np.abs(expected).max() > 0.5
    np.testing.assert_allclose(ours, expected, atol=2e-5, rtol=0)


def _delta_inputs(T: int, nhk: int, nhv: int, dk: int, dv: int):
    q, k, v = _randn(T, nhk, dk), _randn(T, nhk, dk), _randn(T, nhv, dv)
    g = -np.abs(_randn(T, nhv, scale=0.5))  # log decay <= 0
    beta = 1 / (1 + np.exp(-_randn(T, nhv)))  # sigmoid, in (0, 1)
    return q, k, v, g.astype(np.float32), beta.astype(np.float32)


@pytest.mark.parametrize("reference", ["torch_recurrent_gated_delta_rule", "torch_chunk_gated_delta_rule"])
def test_gated_delta_rule_matches_qwen3_next(reference):
    from transformers.models.qwen3_next import modeling_qwen3_next as m

    q, k, v, g, beta = _delta_inputs(T=11, nhk=2, nhv=4, dk=8, dv=6)
    state0 = _randn(4, 8, 6, scale=0.3)
    kwargs = {"chunk_size": 4} if "chunk" in reference else {}
    expected, final = getattr(m, reference)(
        _t(q[None]), _t(k[None]), _t(v[None]), _t(g[None]), _t(beta[None]),
        initial_state=_t(state0[None]), output_final_state=True, use_qk_l2norm_in_kernel=True,
        **kwargs)
    out, state = gated_delta_rule(q, k, v, g, beta, state0.copy())
    np.testing.assert_allclose(out, _np(expected)[0], atol=2e-5, rtol=0)
    np.testing.assert_allclose(state, _np(final)[0], atol=2e-5, rtol=0)


def test_sigmoid_group_routing_matches_deepseek_v3s_router():
    from transformers.models.deepseek_v3.modeling_deepseek_v3 import DeepseekV3TopkRouter

    from llmarch_cli.kernels.moe import sigmoid_group_route

    config = transformers.DeepseekV3Config(hidden_size=24, n_routed_experts=16, n_group=4,
                                           topk_group=2, num_experts_per_tok=3,
                                           routed_scaling_factor=2.5, norm_topk_prob=True)
    router = DeepseekV3TopkRouter(config)
    with torch.no_grad():
        router.weight.copy_(_t(_randn(16, 24, scale=0.5)))
        router.e_score_correction_bias.copy_(_t(_randn(16, scale=0.3)))
    x = _randn(20, 24)
    logits, weights, ids = router(_t(x))
    order = np.argsort(_np(ids), axis=-1)  # torch's top-k is unsorted
    ours_ids, ours_w, _ = sigmoid_group_route(_np(logits), 3, 4, 2,
                                              _np(router.e_score_correction_bias),
                                              normalize=True, scaling=2.5)
    ours_order = np.argsort(ours_ids, axis=-1)
    np.testing.assert_array_equal(np.take_along_axis(ours_ids, ours_order, -1),
                                  np.take_along_axis(_np(ids), order, -1))
    np.testing.assert_allclose(np.take_along_axis(ours_w, ours_order, -1),
                               np.take_along_axis(_np(weights), order, -1), atol=1e-6, rtol=0)
    groups = ours_ids // 4  # experts of at most topk_groups groups per token
    assert max(len(set(row)) for row in groups.tolist()) <= 2


def test_interleaved_rope_matches_llama4s_complex_rotation():
    from transformers.models.llama4.modeling_llama4 import (
        Llama4TextRotaryEmbedding,
        apply_rotary_emb,
    )

    rope_parameters = {"rope_type": "llama3", "factor": 8.0, "rope_theta": 500000.0,
                       "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                       "original_max_position_embeddings": 16}
    config = transformers.Llama4TextConfig(hidden_size=48, num_attention_heads=6, head_dim=16,
                                           rope_parameters=rope_parameters)
    T = 11
    q, k = _randn(1, T, 6, 16, scale=2.0), _randn(1, T, 2, 16, scale=2.0)  # [B, T, n, hd]
    freqs_cis = Llama4TextRotaryEmbedding(config)(_t(q), torch.arange(T)[None])
    q_ref, k_ref = apply_rotary_emb(_t(q), _t(k), freqs_cis)
    scaling = RopeScaling(kind="llama3", factor=8.0, low_freq_factor=1.0, high_freq_factor=4.0,
                          original_max_positions=16)
    rope = Rope(theta=500000.0, rotary_dim=16, pairing="interleaved", scaling=scaling)
    cos, sin = rope_cos_sin(np.arange(T), *rope_inv_freq(rope, 64))
    for x, ref in ((q, q_ref), (k, k_ref)):
        ours = apply_rope(x[0].transpose(1, 0, 2), cos, sin, 16, "interleaved")  # [n, T, hd]
        np.testing.assert_allclose(ours, _np(ref)[0].transpose(1, 0, 2), atol=2e-5, rtol=0)


def test_weightless_qk_norm_matches_llama4s_l2_norm():
    from transformers.models.llama4.modeling_llama4 import Llama4TextL2Norm

    from llmarch_cli.kernels.norms import qk_norm_l2

    q = _randn(6, 7, 16, scale=3.0)  # [nh, T, hd]
    expected = _np(Llama4TextL2Norm(1e-3)(_t(q)))
    np.testing.assert_allclose(qk_norm_l2(q, 1e-3), expected, atol=2e-6, rtol=0)
    assert not np.allclose(np.linalg.norm(expected, axis=-1), 1, atol=0.1)  # RMS 1, not length 1


def test_sigmoid_top_k_moe_scaling_the_expert_input_matches_llama4s_moe():
    from transformers.models.llama4.modeling_llama4 import Llama4TextMoe

    from llmarch_cli.kernels.ffn import gated_ffn
    from llmarch_cli.kernels.moe import moe_dispatch, route

    config = transformers.Llama4TextConfig(hidden_size=24, intermediate_size=16,
                                           num_local_experts=5, num_experts_per_tok=2)
    moe = Llama4TextMoe(config).eval()
    gen = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for p in moe.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) / 4)
    x = _randn(13, 24, scale=2.0)
    with torch.no_grad():
        expected, router_logits = moe(_t(x))
    w = {n: _np(p) for n, p in moe.named_parameters()}
    ids, weights = route(x @ w["router.weight"].T, 2, "sigmoid_topk")  # [T, 2] each
    np.testing.assert_allclose(router_logits.numpy(), x @ w["router.weight"].T, atol=2e-6)
    gate_up, down = w["experts.gate_up_proj"], w["experts.down_proj"]  # [E, H, 2I], [E, I, H]
    routed, _ = moe_dispatch(x, ids, weights, lambda e, xe: gated_ffn(
        xe, gate_up[e], down[e], "silu"), 5, scale_input=True)
    shared_gate_up = np.concatenate([w["shared_expert.gate_proj.weight"].T,
                                     w["shared_expert.up_proj.weight"].T], axis=1)  # [H, 2I]
    shared = gated_ffn(x, shared_gate_up, w["shared_expert.down_proj.weight"].T, "silu")
    np.testing.assert_allclose(routed + shared, _np(expected), atol=2e-5, rtol=0)
    scaled_output, _ = moe_dispatch(x, ids, weights, lambda e, xe: gated_ffn(
        xe, gate_up[e], down[e], "silu"), 5)
    assert np.abs(scaled_output + shared - _np(expected)).max() > 1e-2  # the order matters


@pytest.mark.parametrize("method", ["greedy", "group_limited_greedy"])
def test_softmax_routing_matches_deepseek_v2s_router(method):
    from transformers.models.deepseek_v2.modeling_deepseek_v2 import DeepseekV2TopkRouter

    from llmarch_cli.kernels.moe import route, softmax_group_route

    config = transformers.DeepseekV2Config(hidden_size=24, num_attention_heads=4,
                                           n_routed_experts=12, n_group=4,
                                           topk_group=2, num_experts_per_tok=3, topk_method=method,
                                           routed_scaling_factor=1.7)
    router = DeepseekV2TopkRouter(config)
    with torch.no_grad():
        router.weight.copy_(_t(_randn(12, 24, scale=0.5)))
    logits, weights, ids = router(_t(_randn(20, 24)))
    if method == "greedy":
        ours_ids, ours_w = route(_np(logits), 3, "softmax_topk")
        ours_w = ours_w * np.float32(1.7)
    else:
        ours_ids, ours_w, groups = softmax_group_route(_np(logits), 3, 4, 2, scaling=1.7)
        assert all(set(row) <= set(g) for row, g in zip((ours_ids // 3).tolist(), groups.tolist(),
                                                        strict=True))
    order, ours_order = np.argsort(_np(ids), axis=-1), np.argsort(ours_ids, axis=-1)
    np.testing.assert_array_equal(np.take_along_axis(ours_ids, ours_order, -1),
                                  np.take_along_axis(_np(ids), order, -1))
    np.testing.assert_allclose(np.take_along_axis(ours_w, ours_order, -1),
                               np.take_along_axis(_np(weights), order, -1), atol=1e-6, rtol=0)
