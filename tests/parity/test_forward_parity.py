"""llmarch's numpy forward pass reproduces transformers' logits on real checkpoints.

Each case builds a small random transformers model with awkward shapes (GQA, a head count that
is not a power of two for ALiBi, partial rotary, a window shorter than the input, RoPE scaling,
eps 1e-3 so a wrong eps shows, tied and untied heads), re-draws every parameter at unit scale so
the logits are far from uniform, saves it with ``save_pretrained`` (safetensors), loads the
folder through ``forward.hf_weights`` and compares the logits: max-abs < 1e-4 in fp32 (in
float64 on both sides for the hybrid, whose logits float32 rounding alone moves by more: see
``FLOAT64_CASES``).
Configs are checked as transformers 5 writes them (``rope_parameters``) and rewritten with the
4.x keys (``rope_theta`` + ``rope_scaling``; GPT-NeoX's ``rotary_pct`` / ``rotary_emb_base``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from llmarch_cli.forward.hf_weights import load_hf_model  # noqa: E402
from llmarch_cli.specs.loader import resolve_model  # noqa: E402

pytestmark = pytest.mark.parity

TOKENS = [5, 17, 3, 88, 41, 0, 96, 23, 23, 7, 60, 12]  # 12 tokens, vocab 97
VOCAB = 97
TOLERANCE = 1e-4

LLAMA = dict(hidden_size=48, num_attention_heads=6, num_key_value_heads=2, head_dim=8,
             intermediate_size=40, num_hidden_layers=2, vocab_size=VOCAB, rms_norm_eps=1e-3,
             max_position_embeddings=64)

# id -> (config class, model class, config kwargs)
CASES: dict[str, tuple[str, str, dict]] = {
    "gpt2": ("GPT2Config", "GPT2LMHeadModel", dict(
        n_embd=48, n_head=6, n_layer=2, n_positions=32, vocab_size=VOCAB,
        layer_norm_epsilon=1e-3, n_inner=80, bos_token_id=0, eos_token_id=0)),
    "gpt2-inverse-layer-scale": ("GPT2Config", "GPT2LMHeadModel", dict(
        n_embd=48, n_head=4, n_layer=3, n_positions=32, vocab_size=VOCAB, bos_token_id=0,
        eos_token_id=0, layer_norm_epsilon=1e-3, scale_attn_by_inverse_layer_idx=True)),
    "llama-gqa-untied": ("LlamaConfig", "LlamaForCausalLM", dict(LLAMA, attention_bias=True)),
    "llama-tied-mqa": ("LlamaConfig", "LlamaForCausalLM", dict(
        LLAMA, num_key_value_heads=1, tie_word_embeddings=True, mlp_bias=True)),
    "llama-rope-linear": ("LlamaConfig", "LlamaForCausalLM", dict(
        LLAMA, rope_parameters={"rope_type": "linear", "factor": 3.0, "rope_theta": 500.0})),
    "llama-rope-dynamic": ("LlamaConfig", "LlamaForCausalLM", dict(
        LLAMA, max_position_embeddings=8,
        rope_parameters={"rope_type": "dynamic", "factor": 2.0, "rope_theta": 10000.0})),
    "llama-rope-yarn": ("LlamaConfig", "LlamaForCausalLM", dict(
        LLAMA, rope_parameters={"rope_type": "yarn", "factor": 4.0, "rope_theta": 10000.0,
                                "original_max_position_embeddings": 16})),
    "llama-rope-llama3": ("LlamaConfig", "LlamaForCausalLM", dict(
        LLAMA, rope_parameters={"rope_type": "llama3", "factor": 8.0, "rope_theta": 500000.0,
                                "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                "original_max_position_embeddings": 16})),
    "mistral-window": ("MistralConfig", "MistralForCausalLM", dict(LLAMA, sliding_window=4)),
    "qwen2-window-tied": ("Qwen2Config", "Qwen2ForCausalLM", dict(
        LLAMA, use_sliding_window=True, sliding_window=5, max_window_layers=1,
        tie_word_embeddings=True)),
    "mixtral": ("MixtralConfig", "MixtralForCausalLM", dict(
        LLAMA, num_local_experts=4, num_experts_per_tok=2, sliding_window=6,
        rope_parameters={"rope_type": "default", "rope_theta": 1e6})),
    "gpt_neox-parallel": ("GPTNeoXConfig", "GPTNeoXForCausalLM", dict(
        hidden_size=48, num_attention_heads=6, num_hidden_layers=2, intermediate_size=72,
        vocab_size=VOCAB, layer_norm_eps=1e-3, max_position_embeddings=64,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                         "partial_rotary_factor": 0.5})),
    "gpt_neox-sequential": ("GPTNeoXConfig", "GPTNeoXForCausalLM", dict(
        hidden_size=48, num_attention_heads=4, num_hidden_layers=2, intermediate_size=64,
        vocab_size=VOCAB, layer_norm_eps=1e-3, use_parallel_residual=False,
        rope_parameters={"rope_type": "default", "rope_theta": 1000.0,
                         "partial_rotary_factor": 0.25})),
    "gptj": ("GPTJConfig", "GPTJForCausalLM", dict(
        n_embd=48, n_head=4, n_layer=2, n_positions=64, rotary_dim=6, vocab_size=VOCAB,
        layer_norm_epsilon=1e-3)),
    "bloom-6-heads": ("BloomConfig", "BloomForCausalLM", dict(
        hidden_size=48, n_head=6, n_layer=2, vocab_size=VOCAB, layer_norm_epsilon=1e-3)),
    "bloom-residual-post-ln": ("BloomConfig", "BloomForCausalLM", dict(
        hidden_size=40, n_head=5, n_layer=2, vocab_size=VOCAB, layer_norm_epsilon=1e-3,
        apply_residual_connection_post_layernorm=True)),
    "gpt_oss": ("GptOssConfig", "GptOssForCausalLM", dict(
        hidden_size=40, num_attention_heads=6, num_key_value_heads=2, head_dim=8,
        intermediate_size=24, num_hidden_layers=3, num_local_experts=4, num_experts_per_tok=2,
        vocab_size=VOCAB, sliding_window=4, rms_norm_eps=1e-3, max_position_embeddings=128,
        rope_parameters={"rope_type": "yarn", "factor": 8.0, "rope_theta": 150000.0,
                         "beta_fast": 32.0, "beta_slow": 1.0, "truncate": False,
                         "original_max_position_embeddings": 16})),
    "qwen3-qk-norm-tied": ("Qwen3Config", "Qwen3ForCausalLM", dict(LLAMA, tie_word_embeddings=True)),
    "qwen3_moe-dense-first": ("Qwen3MoeConfig", "Qwen3MoeForCausalLM", dict(
        LLAMA, moe_intermediate_size=24, num_experts=4, num_experts_per_tok=2,
        norm_topk_prob=True, mlp_only_layers=[0], num_hidden_layers=3)),
    "qwen3_moe-no-renorm": ("Qwen3MoeConfig", "Qwen3MoeForCausalLM", dict(
        LLAMA, moe_intermediate_size=24, num_experts=6, num_experts_per_tok=3,
        norm_topk_prob=False)),
    "olmo2-qk-norm-projection": ("Olmo2Config", "Olmo2ForCausalLM", dict(LLAMA)),
    "gemma2-softcap-sandwich": ("Gemma2Config", "Gemma2ForCausalLM", dict(
        LLAMA, sliding_window=4, query_pre_attn_scalar=12, attn_logit_softcapping=8.0,
        final_logit_softcapping=5.0, num_hidden_layers=3)),
    "gemma3-local-global": ("Gemma3TextConfig", "Gemma3ForCausalLM", dict(
        LLAMA, sliding_window=4, query_pre_attn_scalar=12, num_hidden_layers=3,
        layer_types=["sliding_attention", "full_attention", "sliding_attention"],
        rope_parameters={"full_attention": {"rope_type": "linear", "factor": 2.0, "rope_theta": 1e6},
                         "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}})),
    "deepseek_v3-mla-moe": ("DeepseekV3Config", "DeepseekV3ForCausalLM", dict(
        LLAMA, num_key_value_heads=6, head_dim=4, q_lora_rank=24, kv_lora_rank=12, qk_nope_head_dim=8,
        qk_rope_head_dim=4, v_head_dim=10, n_routed_experts=8, n_group=4, topk_group=2,
        num_experts_per_tok=2, n_shared_experts=1, moe_intermediate_size=24,
        first_k_dense_replace=1, num_hidden_layers=3, routed_scaling_factor=2.5,
        norm_topk_prob=True, rope_interleave=False)),
    "deepseek_v3-interleaved-yarn": ("DeepseekV3Config", "DeepseekV3ForCausalLM", dict(
        LLAMA, num_key_value_heads=6, head_dim=4, kv_lora_rank=12, q_lora_rank=None,
        qk_nope_head_dim=6, qk_rope_head_dim=4, v_head_dim=8, n_routed_experts=4, n_group=2,
        topk_group=1, num_experts_per_tok=2, n_shared_experts=2, moe_intermediate_size=16,
        first_k_dense_replace=0, routed_scaling_factor=1.5, norm_topk_prob=True,
        rope_parameters={"rope_type": "yarn", "factor": 4.0, "rope_theta": 10000.0,
                         "original_max_position_embeddings": 16, "mscale": 1.0,
                         "mscale_all_dim": 1.0, "beta_fast": 32.0, "beta_slow": 1.0})),
    # DeepSeek-V2: softmax routing (greedy, or group-limited with a group's best score), top-k
    # weights times routed_scaling_factor and never renormalised (transformers ignores
    # norm_topk_prob), RoPE on adjacent pairs, yarn with mscale != mscale_all_dim
    "deepseek_v2-direct-q-greedy-yarn": ("DeepseekV2Config", "DeepseekV2ForCausalLM", dict(
        LLAMA, num_key_value_heads=6, q_lora_rank=None, kv_lora_rank=12, qk_nope_head_dim=6,
        qk_rope_head_dim=4, v_head_dim=10, n_routed_experts=7, num_experts_per_tok=3,
        n_shared_experts=2, moe_intermediate_size=16, first_k_dense_replace=1,
        num_hidden_layers=3, topk_method="greedy", routed_scaling_factor=1.3,
        rope_parameters={"rope_type": "yarn", "factor": 4.0, "rope_theta": 10000.0,
                         "original_max_position_embeddings": 16, "mscale": 1.0,
                         "mscale_all_dim": 0.8, "beta_fast": 32.0, "beta_slow": 1.0})),
    "deepseek_v2-low-rank-q-group-limited": ("DeepseekV2Config", "DeepseekV2ForCausalLM", dict(
        LLAMA, num_key_value_heads=6, q_lora_rank=20, kv_lora_rank=10, qk_nope_head_dim=8,
        qk_rope_head_dim=6, v_head_dim=6, n_routed_experts=8, n_group=4, topk_group=2,
        num_experts_per_tok=3, n_shared_experts=1, moe_intermediate_size=24,
        first_k_dense_replace=0, topk_method="group_limited_greedy", routed_scaling_factor=2.0,
        norm_topk_prob=True, rope_parameters={"rope_type": "default", "rope_theta": 1000.0})),
    "falcon-7b-style-multi-query": ("FalconConfig", "FalconForCausalLM", dict(
        hidden_size=48, num_attention_heads=6, num_hidden_layers=2, vocab_size=VOCAB,
        layer_norm_epsilon=1e-3, multi_query=True, parallel_attn=True, bias=False)),
    "falcon-40b-style-grouped": ("FalconConfig", "FalconForCausalLM", dict(
        hidden_size=48, num_attention_heads=6, num_kv_heads=2, num_hidden_layers=2,
        vocab_size=VOCAB, layer_norm_epsilon=1e-3, new_decoder_architecture=True, bias=False)),
    "falcon-old-mha-bias": ("FalconConfig", "FalconForCausalLM", dict(
        hidden_size=48, num_attention_heads=4, num_hidden_layers=2, vocab_size=VOCAB,
        layer_norm_epsilon=1e-3, multi_query=False, parallel_attn=True, bias=True)),
    "qwen3_next-hybrid": ("Qwen3NextConfig", "Qwen3NextForCausalLM", dict(
        LLAMA, num_hidden_layers=3, partial_rotary_factor=0.5,
        layer_types=["linear_attention", "full_attention", "linear_attention"],
        linear_num_key_heads=2, linear_num_value_heads=4, linear_key_head_dim=8,
        linear_value_head_dim=6, linear_conv_kernel_dim=4, num_experts=4, num_experts_per_tok=2,
        moe_intermediate_size=24, shared_expert_intermediate_size=16)),
    "phi3-fused-partial-rotary": ("Phi3Config", "Phi3ForCausalLM", dict(
        LLAMA, partial_rotary_factor=0.5, pad_token_id=0)),
    # Llama 4: chunks of 5 on 12 tokens (layers 0-2, RoPE + L2 QK-norm), a NoPE layer 3 whose
    # query temperature steps every 4 tokens, MoE on layers 1 and 3, dense (wider) on 0 and 2.
    "llama4_text-chunked-nope-interleaved-moe": ("Llama4TextConfig", "Llama4ForCausalLM", dict(
        LLAMA, num_hidden_layers=4, intermediate_size=24, intermediate_size_mlp=40,
        num_local_experts=4, num_experts_per_tok=1, interleave_moe_layer_step=2,
        attention_chunk_size=5, floor_scale=4, attn_scale=0.3,
        rope_parameters={"rope_type": "llama3", "factor": 8.0, "rope_theta": 500000.0,
                         "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 16})),
    # No QK-norm (as Maverick), every layer MoE with top-2, an explicit NoPE layer 1, chunks of 3.
    "llama4_text-all-moe-top2-no-qk-norm": ("Llama4TextConfig", "Llama4ForCausalLM", dict(
        LLAMA, num_hidden_layers=3, intermediate_size=16, num_local_experts=3,
        num_experts_per_tok=2, use_qk_norm=False, no_rope_layers=[1, 0, 1],
        attention_chunk_size=3, floor_scale=5, attn_scale=0.5)),
}


def _fan_in(name: str, shape: tuple[int, ...]) -> int:
    """Input width: nn.Linear is [out, in]; GPT-2 Conv1D and gpt-oss experts are [in, out]."""
    transposed = ".c_" in name or "experts.gate_up_proj" in name or "experts.down_proj" in name
    return shape[-2] if transposed else shape[-1]


def _randomise(model, seed: int) -> None:
    """Unit-scale weights: logits far from uniform, so every detail shows in them."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if p.dim() == 1 and ("norm" in name or "ln" in name):
                p.copy_(1 + 0.2 * noise)
            elif p.dim() == 1 or "sinks" in name:
                p.copy_(0.5 * noise)
            elif any(key in name for key in ("emb", "wte", "wpe", "shared", "relative_attention")):
                p.copy_(noise)
            else:
                gain = 3.0 if "lm_head" in name or "embed_out" in name else 1.0  # peaked logits
                p.copy_(gain * noise / math.sqrt(_fan_in(name, tuple(p.shape))))


def _build(case: str, folder: Path):
    config_cls, model_cls, kwargs = CASES[case]
    config = getattr(transformers, config_cls)(**kwargs)
    torch.manual_seed(0)
    model = getattr(transformers, model_cls)(config).eval()
    _randomise(model, seed=sum(map(ord, case)))
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            if name.endswith("e_score_correction_bias"):  # DeepSeek-V3: zero unless set
                buffer.copy_(0.5 * torch.randn(buffer.shape, generator=torch.Generator().manual_seed(5)))
    model.save_pretrained(folder)
    model.set_attn_implementation("eager")
    return model


def _old_keys(folder: Path) -> None:
    """Rewrite config.json with the 4.x RoPE keys instead of ``rope_parameters``."""
    path = folder / "config.json"
    config = json.loads(path.read_text())
    rope = dict(config.pop("rope_parameters"))
    rope_type = rope.pop("rope_type", "default")
    theta = rope.pop("rope_theta")
    fraction = rope.pop("partial_rotary_factor", None)
    if config["model_type"] == "gpt_neox":
        config["rotary_emb_base"] = theta
        config["rotary_pct"] = fraction if fraction is not None else 0.25
    else:
        config["rope_theta"] = theta
        if fraction is not None:
            config["partial_rotary_factor"] = fraction
    if rope_type != "default":
        config["rope_scaling"] = {"type": rope_type, **rope}
    path.write_text(json.dumps(config))


def _reference(model) -> np.ndarray:
    with torch.no_grad():
        return model(torch.tensor([TOKENS])).logits[0].numpy()


# Compared in float64 on both sides: float32 rounding alone moves their logits by more than
# the tolerance (see the docstring below).
FLOAT64_CASES = {"qwen3_next-hybrid"}


def _compared_dtype(case: str, model) -> str:
    """The dtype both sides run in: fp64 for ``FLOAT64_CASES`` (``model`` is switched to
    float64, with transformers' eager experts: grouped_mm has no float64 kernel), else fp32."""
    if case not in FLOAT64_CASES:
        return "fp32"
    model.set_experts_implementation("eager")
    model.double()
    return "fp64"


def _assert_close(ours: np.ndarray, ref: np.ndarray) -> None:
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    assert ref.std() > 2, "logits too close to uniform to prove anything"
    err = float(np.abs(ours - ref).max())
    assert err < TOLERANCE, f"max-abs logits difference {err:.2e}"


@pytest.mark.parametrize("case", sorted(CASES))
def test_logits_match_transformers_with_rope_parameters(case, tmp_path):
    """fp32 on both sides, or fp64 for ``FLOAT64_CASES``: Qwen3-Next's linear-attention layers
    put float32 rounding above 1e-4 on these logits (max |logit| 21), in transformers as in
    llmarch. The gated RMSNorm divides each head's delta-rule output by that head's RMS (down
    to 3e-6 here: x31 with eps 1e-3) and gates it with silu(z) (up to 8), so the output's
    absolute rounding error reaches the residual stream ~250x larger: noise of std 3e-8 on
    transformers' own layer-0 delta-rule output moves its logits by 1e-4 to 3.3e-4 a draw (the next
    test), and llmarch's fp32 logits differ from its fp32 ones by 2.5e-4. Fed the same inputs,
    llmarch's token-by-token kernel matches transformers' chunked one to 1e-7, so the algorithm
    is not the source. In float64 llmarch is within 2.0e-5; what remains is transformers'
    float32 islands inside a float64 model (its delta-rule kernel and Qwen3NextRMSNorm cast to
    float32; its own float32 and float64 logits differ by 4.0e-5).
    """
    model = _build(case, tmp_path)
    dtype = _compared_dtype(case, model)
    _assert_close(load_hf_model(resolve_model(str(tmp_path)), dtype=dtype).run(TOKENS).logits,
                  _reference(model))


def test_float32_rounding_alone_moves_the_hybrids_logits_past_the_tolerance(tmp_path):
    """Why ``FLOAT64_CASES``: noise as large as the disagreement of two float32 delta-rule
    kernels (transformers' chunked and token-by-token forms differ by 9e-8 on the same inputs),
    added to transformers' own layer-0 delta-rule output, moves its float32 logits by more than
    1e-4. When this stops holding, the case can return to float32."""
    model = _build("qwen3_next-hybrid", tmp_path)
    ref = _reference(model)
    gen = torch.Generator().manual_seed(0)

    def jitter(module, args):  # Qwen3NextRMSNormGated(delta-rule output, gate z)
        out, z = args
        return out + 3e-8 * torch.randn(out.shape, generator=gen), z  # max ~1e-7

    handle = model.model.layers[0].linear_attn.norm.register_forward_pre_hook(jitter)
    moved = max(float(np.abs(_reference(model) - ref).max()) for _ in range(5))
    handle.remove()
    assert moved > TOLERANCE, f"float32-sized noise moved the logits by only {moved:.2e}"


ROPE_CASES = sorted(c for c in CASES if c.split("-")[0] in {"llama", "mixtral", "gpt_neox", "gpt_oss",
                                                            "deepseek_v2", "llama4_text"})


@pytest.mark.parametrize("case", ROPE_CASES)
def test_logits_match_transformers_with_old_rope_keys(case, tmp_path):
    model = _build(case, tmp_path)
    _old_keys(tmp_path)
    _assert_close(load_hf_model(resolve_model(str(tmp_path))).run(TOKENS).logits, _reference(model))


def test_sharded_checkpoint_loads_like_a_single_file(tmp_path):
    model = _build("llama-gqa-untied", tmp_path / "one")
    model.save_pretrained(tmp_path / "sharded", max_shard_size="20KB")
    assert (tmp_path / "sharded" / "model.safetensors.index.json").is_file()
    ours = load_hf_model(resolve_model(str(tmp_path / "sharded"))).run(TOKENS).logits
    _assert_close(ours, _reference(model))


def test_bf16_forward_tracks_transformers_bf16(tmp_path):
    model = _build("llama-gqa-untied", tmp_path)
    ref = _reference(model.to(torch.bfloat16).float())  # bf16 weights, fp32 compute
    ours = load_hf_model(resolve_model(str(tmp_path)), dtype="bf16").run(TOKENS).logits
    fp32 = load_hf_model(resolve_model(str(tmp_path))).run(TOKENS).logits
    # bf16 keeps 8 bits of mantissa: close to the reference, clearly not fp32-exact.
    assert np.abs(ours - ref).max() < 0.25
    assert np.abs(ours - fp32).max() > 1e-3


# Encoder and encoder-decoder families: llmarch's encoder-decoder reads the same tokens on both
# sides (teacher forcing), so the reference passes them as ``decoder_input_ids`` too.
T5 = dict(vocab_size=VOCAB, d_model=48, d_kv=10, d_ff=40, num_layers=2, num_decoder_layers=3,
          num_heads=5, relative_attention_num_buckets=8, relative_attention_max_distance=10,
          layer_norm_epsilon=1e-3)
BART = dict(vocab_size=VOCAB, d_model=48, encoder_layers=2, decoder_layers=3,
            encoder_attention_heads=6, decoder_attention_heads=6, encoder_ffn_dim=40,
            decoder_ffn_dim=40, max_position_embeddings=32)
SEQ2SEQ_CASES: dict[str, tuple[str, str, dict]] = {
    "t5-v1.0-relu-tied-scaled": ("T5Config", "T5ForConditionalGeneration", dict(
        T5, feed_forward_proj="relu")),
    "t5-v1.1-gated-gelu": ("T5Config", "T5ForConditionalGeneration", dict(
        T5, feed_forward_proj="gated-gelu", tie_word_embeddings=False)),
    "bart": ("BartConfig", "BartForConditionalGeneration", BART),
    "bart-scaled-embedding": ("BartConfig", "BartForConditionalGeneration", dict(
        BART, scale_embedding=True, activation_function="relu")),
}


def _build_any(config_cls: str, model_cls: str, kwargs: dict, seed: int, folder: Path,
               config=None):
    torch.manual_seed(0)
    config = getattr(transformers, config_cls)(**kwargs) if config is None else config
    model = getattr(transformers, model_cls)(config).eval()
    _randomise(model, seed)
    with torch.no_grad():
        for name, buffer in model.named_buffers():
            if name == "final_logits_bias":  # a zero buffer: make it count
                buffer.copy_(torch.randn(buffer.shape, generator=torch.Generator().manual_seed(1)))
        if getattr(model.config, "scale_decoder_outputs", False):  # T5 v1.0: output * d^-0.5
            model.decoder.final_layer_norm.weight.mul_(3)
    model.save_pretrained(folder)
    model.set_attn_implementation("eager")
    return model


def _seq2seq_reference(model) -> np.ndarray:
    ids = torch.tensor([TOKENS])
    with torch.no_grad():
        return model(input_ids=ids, decoder_input_ids=ids).logits[0].numpy()


@pytest.mark.parametrize("case", sorted(SEQ2SEQ_CASES))
def test_encoder_decoder_logits_match_transformers(case, tmp_path):
    model = _build_any(*SEQ2SEQ_CASES[case], seed=sum(map(ord, case)), folder=tmp_path)
    _assert_close(load_hf_model(resolve_model(str(tmp_path))).run(TOKENS).logits, _seq2seq_reference(model))


def test_t5_v1_1_with_its_own_lm_head_matches_transformers(tmp_path):
    """A hub-style v1.1 file: ``tie_word_embeddings: false`` and a separate ``lm_head.weight``."""
    from safetensors.torch import save_file

    model = _build_any(*SEQ2SEQ_CASES["t5-v1.1-gated-gelu"], seed=7, folder=tmp_path)
    head = torch.randn(model.lm_head.weight.shape, generator=torch.Generator().manual_seed(2))
    model.lm_head = torch.nn.Linear(48, VOCAB, bias=False)
    with torch.no_grad():
        model.lm_head.weight.copy_(3 * head / math.sqrt(48))
    state = {k: v.contiguous() for k, v in model.state_dict().items()
             if "embed_tokens" not in k}  # ties transformers re-creates on load
    save_file(state, tmp_path / "model.safetensors")
    config = json.loads((tmp_path / "config.json").read_text())
    config.pop("scale_decoder_outputs", None)
    config["tie_word_embeddings"] = False
    (tmp_path / "config.json").write_text(json.dumps(config))
    _assert_close(load_hf_model(resolve_model(str(tmp_path))).run(TOKENS).logits, _seq2seq_reference(model))


def test_bert_masked_lm_logits_match_transformers(tmp_path):
    model = _build_any("BertConfig", "BertForMaskedLM", dict(
        vocab_size=VOCAB, hidden_size=48, num_hidden_layers=2, num_attention_heads=6,
        intermediate_size=40, max_position_embeddings=32, type_vocab_size=2,
        layer_norm_eps=1e-3), seed=11, folder=tmp_path)
    _assert_close(load_hf_model(resolve_model(str(tmp_path))).run(TOKENS).logits, _reference(model))


def test_llama4_multimodal_checkpoint_runs_its_language_model(tmp_path):
    """The hub's Llama 4 form, ``Llama4ForConditionalGeneration``: the text model's tensors
    under ``language_model.`` beside a vision tower, which forward leaves unread."""
    text = CASES["llama4_text-chunked-nope-interleaved-moe"][2]
    vision = dict(hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                  image_size=28, patch_size=14, vision_output_dim=16, projector_input_dim=16,
                  projector_output_dim=16)
    config = transformers.Llama4Config(text_config=text, vision_config=vision)
    model = _build_any("Llama4Config", "Llama4ForConditionalGeneration", {}, seed=8, folder=tmp_path,
                       config=config)
    # transformers 5's text-only forward of the wrapper fails; its language model runs alone
    _assert_close(load_hf_model(resolve_model(str(tmp_path))).run(TOKENS).logits,
                  _reference(model.language_model))


# Step-by-step decoding: N greedy tokens through llmarch's KV cache equal transformers'
# ``generate`` (greedy, eager attention, its own cache) on the same checkpoints.
NEW_TOKENS = 10


def _hf_greedy(model, decoder_start: int | None = None) -> list[int]:
    model.generation_config.forced_eos_token_id = None  # BART's would replace the last token
    model.generation_config.eos_token_id = None  # else a None below means the config's (stops)
    config = transformers.GenerationConfig(
        max_new_tokens=NEW_TOKENS, min_new_tokens=0, do_sample=False, num_beams=1,
        eos_token_id=None, pad_token_id=0, forced_bos_token_id=None, forced_eos_token_id=None,
        decoder_start_token_id=decoder_start)
    ids = torch.tensor([TOKENS])  # token 0 is the pad id: without a mask generate would hide it
    extra = {}
    if decoder_start is not None:  # caches that grow per layer: transformers sizes its default
        extra["past_key_values"] = transformers.EncoderDecoderCache(  # by the encoder's layers
            transformers.DynamicCache(), transformers.DynamicCache())
    with torch.no_grad():
        out = model.generate(ids, attention_mask=torch.ones_like(ids), generation_config=config,
                             **extra)[0].tolist()
    return out[1:] if decoder_start is not None else out[len(TOKENS):]


@pytest.mark.parametrize("case", sorted(CASES))
def test_greedy_decoding_through_the_cache_equals_transformers_generate(case, tmp_path):
    from llmarch_cli.forward.decoding import generate

    model = _build(case, tmp_path)
    ours = generate(load_hf_model(resolve_model(str(tmp_path))), TOKENS, NEW_TOKENS).tokens
    assert ours == _hf_greedy(model)


# Dynamic NTK re-derives RoPE from the length seen so far (in transformers too), so a step's
# logits legitimately differ from a longer sequence's forward at the same position.
GROWING_ROPE = {"llama-rope-dynamic"}


@pytest.mark.parametrize("case", sorted(set(CASES) - GROWING_ROPE))
def test_every_decode_step_gives_the_full_sequence_logits_at_its_position(case, tmp_path):
    """Through the cache (chunked, rolling, latent, recurrent) each step equals transformers'
    whole-sequence forward at that position, and llmarch's own."""
    from llmarch_cli.forward.decoding import generate

    reference = _build(case, tmp_path)
    model = load_hf_model(resolve_model(str(tmp_path)), dtype=_compared_dtype(case, reference))
    gen = generate(model, TOKENS, NEW_TOKENS, keep_logits=True)
    sequence = TOKENS + gen.tokens[:-1]  # the prompt, then every new token but the last
    with torch.no_grad():
        theirs = reference(torch.tensor([sequence])).logits[0].numpy()[len(TOKENS) - 1:]
    steps = np.stack(gen.logits)  # [NEW_TOKENS, V]
    assert float(np.abs(steps - model.run(sequence).logits[len(TOKENS) - 1:]).max()) <= TOLERANCE
    err = float(np.abs(steps - theirs).max())
    assert err < TOLERANCE, f"max-abs difference {err:.2e}"


@pytest.mark.parametrize("case", sorted(SEQ2SEQ_CASES))
def test_encoder_decoder_greedy_decoding_equals_transformers_generate(case, tmp_path):
    from llmarch_cli.forward.decoding import generate
    from llmarch_cli.forward.runner import decoder_start_token

    model = _build_any(*SEQ2SEQ_CASES[case], seed=sum(map(ord, case)), folder=tmp_path)
    start = decoder_start_token(resolve_model(str(tmp_path)))
    ours = generate(load_hf_model(resolve_model(str(tmp_path))), TOKENS, NEW_TOKENS, start_token=start).tokens
    assert ours == _hf_greedy(model, start)
