"""The corrected facts of the fact-check (seed-factcheck.md) as llmarch shows them.

Each test pins one fact of the table "Data the tool must carry" or of the Model rules, read
through what users see: ``load_model(id)``, ``count_params`` and the CLI's JSON. Expected values
come from the papers, model cards and licences cited in each test's name or docstring, never
from llmarch's earlier output.
"""

from __future__ import annotations

import math

import pytest
from conftest import run_json as cli_json

from llmarch_cli.analysis.fit import matches
from llmarch_cli.analysis.params import count_params
from llmarch_cli.specs.loader import load_model
from llmarch_cli.specs.registry import preset_ids

B = 10**9

GPT2 = ["gpt2", "gpt2-medium", "gpt2-large", "gpt2-xl"]
LLAMA_1 = ["llama-7b", "llama-13b", "llama-33b", "llama-65b"]
LLAMA_2 = ["llama-2-7b", "llama-2-13b", "llama-2-70b"]
LLAMA_3 = ["llama-3-8b", "llama-3-70b"]
LLAMA_3_1 = ["llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b"]
QWEN2 = ["qwen2-0.5b", "qwen2-1.5b", "qwen2-7b", "qwen2-72b"]
QWEN2_5 = ["qwen2.5-0.5b", "qwen2.5-7b", "qwen2.5-14b", "qwen2.5-32b", "qwen2.5-72b"]
NEOX = ["gpt-neox-20b", "pythia-70m", "pythia-160m", "pythia-1b", "pythia-12b"]
GPT_OSS = ["gpt-oss-20b", "gpt-oss-120b"]
MISTRAL = ["mistral-7b-v0.1", "mistral-7b-v0.3", "mixtral-8x7b", "mixtral-8x22b"]


def billions(n: int, digits: int = 1) -> float:
    return round(n / B, digits)


def components(model: str) -> dict[str, int]:
    """Parameters per breakdown component, summed over stacks and layers."""
    out: dict[str, int] = {}
    for group in count_params(load_model(model)).breakdown:
        out[group.component] = out.get(group.component, 0) + group.total
    return out


# --- positions -----------------------------------------------------------------------------


def test_gpt_j_rotates_64_of_256_dims_per_head_not_learned_positions():
    """GPT-J-6B model card: RoPE on 64 dimensions of each 256-dim head (fact-check Q7)."""
    rope = load_model("gpt-j-6b").positions.rope
    assert load_model("gpt-j-6b").positions.kind == "rope"
    assert (rope.rotary_dim, load_model("gpt-j-6b").attention.head_dim) == (64, 256)
    assert rope.pairing == "interleaved"


@pytest.mark.parametrize("model", NEOX)
def test_gpt_neox_and_pythia_rotate_25_percent_of_dims_in_parallel_blocks(model):
    """GPT-NeoX-20B §2.1; configuration_gpt_neox.py rotary_pct=0.25, use_parallel_residual."""
    spec = load_model(model)
    assert spec.positions.kind == "rope"
    assert 4 * spec.positions.rope.rotary_dim == spec.attention.head_dim
    assert spec.residual == "parallel"


@pytest.mark.parametrize("model", GPT_OSS)
def test_gpt_oss_rope_theta_150k_with_yarn_x32_from_4096_to_131072(model):
    """gpt-oss model card and gpt_oss/torch/model.py ModelConfig (fact-check Q7)."""
    spec = load_model(model)
    rope = spec.positions.rope
    assert rope.theta == 150_000
    assert (rope.scaling.kind, rope.scaling.factor) == ("yarn", 32)
    assert rope.scaling.original_max_positions == 4096
    assert spec.max_context == 131_072 == 32 * 4096


@pytest.mark.parametrize(("model", "n_ctx"), [*((m, 1024) for m in GPT2), ("gpt3-175b", 2048)])
def test_gpt2_and_gpt3_use_learned_positions_capped_at_n_ctx(model, n_ctx):
    """GPT-2 §2.3 (n_positions 1024); GPT-3 §2.1 (n_ctx 2048)."""
    spec = load_model(model)
    assert spec.positions.kind == "learned"
    assert spec.positions.max_positions == spec.max_context == n_ctx


@pytest.mark.parametrize("model", ["bloom", "bloom-560m", "bloom-7b1"])
def test_bloom_uses_alibi_not_rope(model):
    """BLOOM §3.2: ALiBi positional biases, no position embeddings."""
    assert load_model(model).positions.kind == "alibi"


@pytest.mark.parametrize("model", ["transformer-base", "transformer-big"])
def test_transformer_2017_uses_sinusoidal_positions(model):
    """Vaswani 2017 §3.5."""
    assert load_model(model).positions.kind == "sinusoidal"


@pytest.mark.parametrize(
    "model", [*LLAMA_1, *LLAMA_2, "qwen-7b", *QWEN2, *QWEN2_5, *MISTRAL, "open-llama-7b"]
)
def test_llama_qwen_and_mistral_use_rope_on_every_head_dim(model):
    """LLaMA §2.2; Qwen tech memo; Mistral 7B §2 (fact-check Q3)."""
    spec = load_model(model)
    assert spec.positions.kind == "rope"
    assert spec.positions.rope.rotary_dim == spec.attention.head_dim


@pytest.mark.parametrize("model", [*LLAMA_3, *LLAMA_3_1])
def test_llama_3_rope_theta_is_500k(model):
    """Llama 3 / 3.1 model cards: RoPE theta 500,000."""
    assert load_model(model).positions.rope.theta == 500_000


@pytest.mark.parametrize("model", LLAMA_3_1)
def test_llama_3_1_scales_rope_from_8k_to_128k_context(model):
    """Llama 3.1 model card: 128K context through 'llama3' RoPE scaling of the 8K original."""
    spec = load_model(model)
    scaling = spec.positions.rope.scaling
    assert (scaling.kind, scaling.original_max_positions) == ("llama3", 8192)
    assert spec.max_context == 128 * 1024


@pytest.mark.parametrize(
    ("model", "theta"), [("mistral-7b-v0.1", 1e4), ("mistral-7b-v0.3", 1e6), ("mixtral-8x7b", 1e6)]
)
def test_mistral_v0_1_rope_theta_is_1e4_and_later_versions_1e6(model, theta):
    """Mistral 7B v0.1 config; v0.2 model card (rope theta 1e6); Mixtral config."""
    assert load_model(model).positions.rope.theta == theta


# --- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize("model", [*GPT2, "gpt3-175b"])
def test_gpt2_is_pre_ln_not_post_ln(model):
    """GPT-2 §2.3 moved LayerNorm to each sub-block's input and added a final LayerNorm;
    GPT-3 §2.1 keeps it (fact-check Q4: 'GPT has no pre-normalisation' is wrong)."""
    norm = load_model(model).norm
    assert (norm.kind, norm.placement, norm.final_norm) == ("layernorm", "pre", True)


@pytest.mark.parametrize(
    "model",
    [
        "transformer-base",
        "transformer-big",
        "bert-base-uncased",
        "bert-large-uncased",
        "bart-base",
        "bart-large",
    ],
)
def test_bert_bart_and_the_2017_transformer_are_post_ln(model):
    """Vaswani 2017 §3.1 LayerNorm(x + Sublayer(x)); BERT and BART keep that placement."""
    norm = load_model(model).norm
    assert (norm.kind, norm.placement) == ("layernorm", "post")


@pytest.mark.parametrize("model", ["bloom", "bloom-560m", "bloom-7b1"])
def test_bloom_is_pre_ln_with_an_extra_layernorm_after_the_embeddings(model):
    """BLOOM §3.2 (embedding LayerNorm) and fact-check Q14."""
    norm = load_model(model).norm
    assert (norm.kind, norm.placement, norm.embedding_norm) == ("layernorm", "pre", True)


@pytest.mark.parametrize(
    "model", [*LLAMA_1, *LLAMA_2, *LLAMA_3, "qwen-7b", *QWEN2, *MISTRAL, *GPT_OSS, "open-llama-7b"]
)
def test_llama_qwen_mistral_mixtral_and_gpt_oss_use_pre_rmsnorm(model):
    """RMSNorm paper; LLaMA §2.2 pre-normalisation of each sub-layer; fact-check Q10."""
    norm = load_model(model).norm
    assert (norm.kind, norm.placement, norm.bias) == ("rmsnorm", "pre", False)


# --- feed-forward ----------------------------------------------------------------------------


def test_llama_uses_swiglu_at_two_thirds_of_4d():
    """LLaMA §2.2: SwiGLU with hidden 2/3 * 4d, 4096 -> 11008 for 7B (fact-check Q9)."""
    spec = load_model("llama-7b")
    assert (spec.ffn.kind, spec.ffn.activation, spec.ffn.label) == ("gated", "silu", "SwiGLU")
    assert (spec.hidden_size, spec.ffn.intermediate_size) == (4096, 11008)


@pytest.mark.parametrize("model", ["mistral-7b-v0.1", "llama-3-8b"])
def test_mistral_and_llama_3_8b_ffn_is_3_5_times_the_width(model):
    """Mistral 7B Table 1 (4096 -> 14336); fact-check Q9: 3.5x, not the old 4x."""
    spec = load_model(model)
    assert 2 * spec.ffn.intermediate_size == 7 * spec.hidden_size


@pytest.mark.parametrize("model", GPT_OSS)
def test_gpt_oss_ffn_is_swiglu_clamped_at_7_with_alpha_1_702(model):
    """gpt_oss/torch/model.py swiglu: limit 7, Swish beta 1.702 (fact-check Q7, Q9)."""
    ffn = load_model(model).ffn
    assert (ffn.kind, ffn.activation) == ("gated", "silu")
    assert (ffn.glu_limit, ffn.glu_alpha) == (7.0, 1.702)
    assert ffn.label == "SwiGLU (clamped)"


@pytest.mark.parametrize("model", ["t5-small", "t5-base", "t5-large"])
def test_t5_v1_0_uses_a_plain_relu_ffn(model):
    """T5 §3.1 and fact-check Q9: ReLU belongs to the Transformer, T5 v1.0 and OPT."""
    ffn = load_model(model).ffn
    assert (ffn.kind, ffn.activation) == ("plain", "relu")


def test_flan_t5_uses_gated_gelu_not_relu():
    """Flan-T5 is T5 v1.1: feed_forward_proj 'gated-gelu' (GEGLU, Shazeer 2020)."""
    ffn = load_model("flan-t5-base").ffn
    assert ffn.kind == "gated" and ffn.activation.startswith("gelu")


@pytest.mark.parametrize("model", [*GPT2, "gpt3-175b"])
def test_gpt2_and_gpt3_use_gelu_not_relu_in_a_4x_ffn(model):
    """GPT-1 §4.1 GELU, kept by GPT-2 ('gelu_new') and GPT-3 §2.1 (d_ff = 4 d_model)."""
    spec = load_model(model)
    assert spec.ffn.kind == "plain" and spec.ffn.activation.startswith("gelu")
    assert spec.ffn.intermediate_size == 4 * spec.hidden_size


@pytest.mark.parametrize("model", ["transformer-base", "transformer-big"])
def test_transformer_2017_ffn_is_relu_at_4x(model):
    """Vaswani 2017 §3.3: d_ff = 2048 for d_model = 512, ReLU."""
    spec = load_model(model)
    assert (spec.ffn.activation, spec.ffn.intermediate_size) == ("relu", 4 * spec.hidden_size)


@pytest.mark.parametrize("model", ["gpt-j-6b", *NEOX, "bloom"])
def test_eleutherai_models_and_bloom_use_gelu_not_a_gated_ffn(model):
    """GPT-NeoX-20B §2.1, GPT-J card, BLOOM §3.2: LayerNorm and GELU (fact-check Q7, Q14)."""
    spec = load_model(model)
    assert spec.norm.kind == "layernorm"
    assert spec.ffn.kind == "plain" and spec.ffn.activation.startswith("gelu")


# --- attention -------------------------------------------------------------------------------


def test_qwen1_uses_mha_not_gqa():
    """Qwen tech memo and Qwen2 report §2.2.1: Qwen 1 is MHA; GQA came with Qwen1.5-32B/110B."""
    attention = load_model("qwen-7b").attention
    assert attention.kind == "MHA"
    assert attention.num_kv_heads == attention.num_heads == 32


@pytest.mark.parametrize("model", ["qwen-7b", *QWEN2, *QWEN2_5])
def test_qwen_1_to_2_5_have_bias_on_q_k_v_only(model):
    """Qwen tech memo; transformers modular_qwen2.py (q/k/v bias=True, o_proj bias=False)."""
    a = load_model(model).attention
    assert (a.q_bias, a.k_bias, a.v_bias, a.o_bias) == (True, True, True, False)


@pytest.mark.parametrize(
    ("model", "heads", "kv_heads"), [("qwen2-7b", 28, 4), ("qwen2-72b", 64, 8)]
)
def test_qwen2_uses_gqa_at_the_reported_head_counts(model, heads, kv_heads):
    """Qwen2 report §2.2.1: 7B 28/4, 72B 64/8."""
    a = load_model(model).attention
    assert (a.kind, a.num_heads, a.num_kv_heads) == ("GQA", heads, kv_heads)


@pytest.mark.parametrize("model", [*QWEN2, *QWEN2_5])
def test_every_qwen2_and_qwen2_5_size_uses_gqa(model):
    """Qwen2 report: GQA at every size (fact-check Q5, Q11: not 'adopted in Qwen 2.5')."""
    assert load_model(model).attention.kind == "GQA"


def test_mistral_v0_1_has_a_4096_sliding_window_on_every_layer():
    """Mistral 7B §2 and config sliding_window 4096 (v0.1 only)."""
    spec = load_model("mistral-7b-v0.1")
    assert spec.attention.sliding_window == 4096
    assert {spec.attention.layer_window(i) for i in range(spec.num_layers)} == {4096}
    assert "swa" in spec.features


@pytest.mark.parametrize("model", ["mistral-7b-v0.3", "mixtral-8x7b", "mixtral-8x22b"])
def test_mistral_v0_3_and_mixtral_have_no_sliding_window(model):
    """v0.2 card: 'No Sliding-Window Attention'; Mixtral §2 fully dense 32k; PR #28115."""
    spec = load_model(model)
    assert spec.attention.sliding_window is None
    assert "swa" not in spec.features


@pytest.mark.parametrize("model", MISTRAL)
def test_mistral_and_mixtral_use_gqa_with_8_kv_heads(model):
    """Mistral 7B Table 1 (32/8); Mixtral 8x22B config (48/8)."""
    a = load_model(model).attention
    assert a.kind == "GQA" and a.num_kv_heads == 8


@pytest.mark.parametrize("model", GPT_OSS)
def test_gpt_oss_uses_gqa_64_8_head_dim_64_with_sinks_and_qkv_bias(model):
    """gpt-oss model card: 64 query heads, 8 KV heads of dim 64, a learned sink per head."""
    a = load_model(model).attention
    assert (a.kind, a.num_heads, a.num_kv_heads, a.head_dim) == ("GQA", 64, 8, 64)
    assert a.sinks and a.q_bias and a.k_bias and a.v_bias


@pytest.mark.parametrize("model", GPT_OSS)
def test_gpt_oss_alternates_a_128_token_window_with_full_attention(model):
    """gpt_oss/torch/model.py sliding_window=128 on even layers; config layer_types."""
    spec = load_model(model)
    windows = [spec.attention.layer_window(i) for i in range(spec.num_layers)]
    assert windows == [128, None] * (spec.num_layers // 2)


@pytest.mark.parametrize("model", GPT_OSS)
def test_gpt_oss_uses_rope_rmsnorm_swiglu_not_learned_layernorm_gelu(model):
    """Fact-check Q7 and Q14: the article's 'learned positions, LayerNorm, GELU, MHA' is wrong."""
    spec = load_model(model)
    assert spec.positions.kind == "rope"
    assert spec.norm.kind == "rmsnorm"
    assert spec.ffn.label.startswith("SwiGLU")
    assert spec.attention.kind != "MHA"


@pytest.mark.parametrize("model", [*LLAMA_1, "llama-2-7b", "llama-2-13b", "open-llama-7b"])
def test_llama_1_and_small_llama_2_use_mha(model):
    """LLaMA §2.2; Llama 2 App. A.2.1: only 34B (unreleased) and 70B use GQA."""
    assert load_model(model).attention.kind == "MHA"


@pytest.mark.parametrize(
    "model", ["llama-2-70b", *LLAMA_3, *LLAMA_3_1, "llama-3.2-1b", "llama-3.2-3b"]
)
def test_llama_2_70b_and_every_llama_3_use_gqa_with_8_kv_heads(model):
    """Llama 2 App. A.2.1 (70B: 64/8); Llama 3 card: GQA at all sizes."""
    a = load_model(model).attention
    assert a.kind == "GQA" and a.num_kv_heads == 8


def test_bloom_176b_is_mha_with_112_heads():
    """BLOOM §3.3 and Table: 112 heads, no GQA."""
    a = load_model("bloom").attention
    assert (a.kind, a.num_heads) == ("MHA", 112)


@pytest.mark.parametrize("model", ["gpt-j-6b", *NEOX])
def test_gpt_j_and_neox_are_mha_with_dense_attention_only(model):
    """GPT-J card (16 heads); GPT-NeoX-20B §2.1: dense attention, no sparse layers."""
    a = load_model(model).attention
    assert a.kind == "MHA" and a.sliding_window is None


# --- mixture of experts ----------------------------------------------------------------------


def test_mixtral_8x7b_is_46_7b_total_12_9b_active_not_56b():
    """Mixtral abstract and Mistral's Mixtral blog: 46.7B total, 12.9B used per token."""
    result = count_params(load_model("mixtral-8x7b"))
    assert billions(result.total_params) == 46.7
    assert billions(result.active_params) == 12.9
    assert result.total_params < 56 * B


def test_mixtral_replicates_only_the_ffn_8_experts_top_2():
    """Mixtral §2: 8 FFN experts per layer, top-2; attention is shared, not 8 x 7B models."""
    spec = load_model("mixtral-8x7b")
    assert (spec.moe.num_experts, spec.moe.top_k) == (8, 2)
    parts = components("mixtral-8x7b")
    attention = sum(v for k, v in parts.items() if k.startswith("attention."))
    assert attention == spec.num_layers * 4096 * (2 * 4096 + 2 * 8 * 128)


def test_mixtral_8x22b_is_141b_total_39b_active():
    """Mistral's Mixtral 8x22B announcement: 141B parameters, 39B active."""
    result = count_params(load_model("mixtral-8x22b"))
    assert (round(result.total_params / B), round(result.active_params / B)) == (141, 39)


@pytest.mark.parametrize(
    ("model", "total", "layers", "experts"),
    [("gpt-oss-20b", 20.91, 24, 32), ("gpt-oss-120b", 116.83, 36, 128)],
)
def test_gpt_oss_totals_layers_and_experts_match_the_model_card(model, total, layers, experts):
    """gpt-oss model card, parameter table: 20.91B / 116.83B; 24 / 36 layers; 32 / 128 experts,
    top-4."""
    spec = load_model(model)
    assert billions(count_params(spec).total_params, 2) == total
    assert (spec.num_layers, spec.moe.num_experts, spec.moe.top_k) == (layers, experts, 4)


@pytest.mark.parametrize(
    ("model", "mlp", "attention", "active"),
    [("gpt-oss-20b", 19.12, 0.64, 3.61), ("gpt-oss-120b", 114.71, 0.96, 5.13)],
)
def test_gpt_oss_component_counts_match_the_model_card(model, mlp, attention, active):
    """gpt-oss model card table: MLP, attention and embed+unembed (1.16B) rows; its active count
    (3.61B / 5.13B) leaves out the token embedding, so it is our active minus embeddings."""
    parts = components(model)
    result = count_params(load_model(model))
    assert billions(parts["moe.router"] + parts["moe.experts"], 2) == mlp
    assert billions(sum(v for k, v in parts.items() if k.startswith("attention.")), 2) == attention
    assert billions(result.embedding_params + result.lm_head_params, 2) == 1.16
    assert billions(result.active_params - result.embedding_params, 2) == active


@pytest.mark.parametrize("model", ["mixtral-8x7b", "mixtral-8x22b", *GPT_OSS])
def test_moe_models_carry_both_total_and_active_params(model):
    """Model rule: store both total and active parameters for MoE models."""
    result = count_params(load_model(model))
    assert 0 < result.active_params < result.total_params


def test_compare_json_shows_mixtral_and_gpt_oss_totals_and_active_counts():
    """Mixtral abstract (46.7B / 12.9B) and gpt-oss card (20.9B) through `compare -f json`."""
    rows = {row["model"]: row for row in cli_json("compare", "mixtral-8x7b", "gpt-oss-20b")}
    assert billions(rows["mixtral-8x7b"]["total_params"]) == 46.7
    assert billions(rows["mixtral-8x7b"]["active_params"]) == 12.9
    assert billions(rows["gpt-oss-20b"]["total_params"]) == 20.9
    assert rows["gpt-oss-20b"]["experts_per_token"] == 4


# --- sizes, vocabularies and context -----------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "paper"),
    [("llama-7b", 6.7), ("llama-13b", 13.0), ("llama-33b", 32.5), ("llama-65b", 65.2)],
)
def test_llama_1_sizes_match_table_2(model, paper):
    """LLaMA Table 2 lists 6.7B, 13.0B, 32.5B and 65.2B (truncated to one decimal)."""
    assert math.floor(count_params(load_model(model)).total_params / 10**8) / 10 == paper


@pytest.mark.parametrize(
    ("model", "vocab"),
    [
        ("gpt2", 50257),
        ("gpt3-175b", 50257),
        ("gpt-j-6b", 50400),
        ("llama-7b", 32000),
        ("llama-2-70b", 32000),
        ("llama-3-8b", 128256),
        ("llama-3.1-405b", 128256),
        ("mistral-7b-v0.1", 32000),
        ("mistral-7b-v0.3", 32768),
        ("mixtral-8x7b", 32000),
        ("mixtral-8x22b", 32768),
        ("gpt-oss-20b", 201088),
        ("gpt-oss-120b", 201088),
    ],
)
def test_vocabulary_sizes_match_the_fact_check_table(model, vocab):
    """'Data the tool must carry', Vocab column (GPT-2 §2.3, LLaMA, Llama 3 card, Mistral,
    Mixtral 8x22B v3 tokenizer, gpt-oss o200k_harmony)."""
    assert load_model(model).embeddings.vocab_size == vocab


@pytest.mark.parametrize(("model", "tokens"), [("qwen-7b", 151_851), ("bloom", 250_680)])
def test_padded_vocabularies_cover_the_reported_tokenizer(model, tokens):
    """Qwen tech memo (151,851 tokens); BLOOM §3.3 (250,680): the embedding rows are padded."""
    spec = load_model(model)
    assert spec.embeddings.vocab_size >= tokens
    assert f"{tokens:,}" in spec.meta.notes


@pytest.mark.parametrize(
    ("model", "context"),
    [
        *((m, 2048) for m in LLAMA_1),
        *((m, 4096) for m in LLAMA_2),
        *((m, 8192) for m in LLAMA_3),
        *((m, 131_072) for m in LLAMA_3_1),
        ("gpt-j-6b", 2048),
        ("gpt-neox-20b", 2048),
        ("bloom", 2048),
        ("mixtral-8x7b", 32_768),
        ("mistral-7b-v0.3", 32_768),
        ("mixtral-8x22b", 65_536),
        *((m, 131_072) for m in GPT_OSS),
    ],
)
def test_context_lengths_match_the_fact_check_table(model, context):
    """'Data the tool must carry', Context column (papers and model cards)."""
    assert load_model(model).max_context == context


def test_mistral_v0_1_says_it_was_trained_at_8k():
    """Mistral 7B §2 / fact-check table: 8K trained, although max_position_embeddings is 32K."""
    assert "trained at 8K" in load_model("mistral-7b-v0.1").meta.notes


# --- licences --------------------------------------------------------------------------------


@pytest.mark.parametrize("model", LLAMA_1)
def test_llama_1_is_non_commercial_research_not_open(model):
    """Meta's LLaMA blog (Feb 2023): 'a noncommercial license focused on research use cases'."""
    meta = load_model(model).meta
    assert "non-commercial" in meta.licence and not meta.open_licence


@pytest.mark.parametrize(
    ("model", "version"),
    [*((m, "2") for m in LLAMA_2), *((m, "3") for m in LLAMA_3), *((m, "3.1") for m in LLAMA_3_1)],
)
def test_llama_2_and_3_use_their_own_community_licence_which_is_not_osi_open(model, version):
    """OSI statement (Jul 2023) on Llama 2; Llama 3 / 3.1 cards: licence keyed by version."""
    meta = load_model(model).meta
    assert meta.licence == f"Llama {version} Community License"
    assert not meta.open_licence


def test_qwen1_uses_the_tongyi_qianwen_licence():
    """QwenLM/Qwen README: Tongyi Qianwen licence agreement."""
    meta = load_model("qwen-7b").meta
    assert "Tongyi Qianwen" in meta.licence and not meta.open_licence


@pytest.mark.parametrize("model", [*QWEN2, *QWEN2_5])
def test_qwen2_and_2_5_are_apache_except_the_72b_models(model):
    """Qwen2 report and Qwen2.5 README ('except for the 3B and 72B variants')."""
    meta = load_model(model).meta
    if model.endswith("72b"):
        assert meta.licence != "Apache-2.0" and not meta.open_licence
    else:
        assert meta.licence == "Apache-2.0" and meta.open_licence


@pytest.mark.parametrize("model", ["bloom", "bloom-560m", "bloom-7b1"])
def test_bloom_licence_is_not_osi_open(model):
    """BigScience RAIL v1.0: use-based restrictions fail OSD §6 (fact-check Q15)."""
    meta = load_model(model).meta
    assert "RAIL" in meta.licence and not meta.open_licence


@pytest.mark.parametrize("model", GPT_OSS)
def test_gpt_oss_is_apache_2_with_a_usage_policy_and_no_released_data(model):
    """openai/gpt-oss README: Apache-2.0 plus a usage policy; training data not released."""
    meta = load_model(model).meta
    assert meta.licence == "Apache-2.0" and meta.open_licence
    assert "usage policy" in meta.notes and "training data not released" in meta.notes


@pytest.mark.parametrize("model", MISTRAL)
def test_mistral_7b_and_mixtral_are_apache_2(model):
    """Mistral release announcements: Mistral 7B and Mixtral under Apache-2.0."""
    assert load_model(model).meta.licence == "Apache-2.0"


def test_gpt2_notes_that_openai_calls_its_licence_modified_mit():
    """openai/gpt-2 LICENSE: 'Modified MIT License' (fact-check table)."""
    assert "Modified MIT" in load_model("gpt2").meta.notes


@pytest.mark.parametrize("model", preset_ids())
def test_open_licence_is_true_only_for_apache_2_or_mit(model):
    """Model rule: mark a licence OSI open source only for Apache-2.0 or MIT."""
    meta = load_model(model).meta
    assert meta.open_licence is (meta.licence in {"Apache-2.0", "MIT"})


# --- release, developer, languages, families -----------------------------------------------


@pytest.mark.parametrize(
    ("model", "released"),
    [
        ("transformer-base", "2017-06"),
        ("gpt2", "2019-02"),
        ("gpt3-175b", "2020-05"),
        ("llama-7b", "2023-02"),
        ("llama-2-7b", "2023-07"),
        ("llama-3-8b", "2024-04"),
        ("llama-3.1-405b", "2024-07"),
        ("qwen-7b", "2023-08"),
        ("qwen2-7b", "2024-06"),
        ("mistral-7b-v0.1", "2023-09"),
        ("mixtral-8x7b", "2023-12"),
        ("mixtral-8x22b", "2024-04"),
        ("bloom", "2022-07"),
        ("gpt-oss-20b", "2025-08-05"),
        ("gpt-oss-120b", "2025-08-05"),
    ],
)
def test_release_dates_match_the_announcements(model, released):
    """Papers' and model cards' dates (gpt-oss: 5 Aug 2025, fact-check Q7)."""
    assert load_model(model).meta.released.startswith(released)


@pytest.mark.parametrize(
    ("model", "developer"),
    [
        ("gpt-oss-20b", "OpenAI"),
        ("gpt2", "OpenAI"),
        ("gpt-j-6b", "EleutherAI"),
        ("gpt-neox-20b", "EleutherAI"),
        ("pythia-1b", "EleutherAI"),
        ("bloom", "BigScience"),
        ("qwen-7b", "Alibaba Cloud"),
        ("llama-2-7b", "Meta"),
        ("mistral-7b-v0.1", "Mistral AI"),
    ],
)
def test_developers_match_the_model_cards(model, developer):
    """Model cards; fact-check Q1 (Google), Q5 (Alibaba Cloud), Q7 (OpenAI vs EleutherAI)."""
    assert load_model(model).meta.developer.startswith(developer)


@pytest.mark.parametrize("model", LLAMA_3_1)
def test_llama_3_1_supports_exactly_8_languages(model):
    """Llama 3.1 model card: English, German, French, Italian, Portuguese, Hindi, Spanish, Thai."""
    languages = load_model(model).meta.languages
    assert set(languages) == {"en", "de", "fr", "it", "pt", "hi", "es", "th"}


@pytest.mark.parametrize("model", ["bloom", "bloom-560m", "bloom-7b1"])
def test_bloom_lists_46_natural_and_13_programming_languages(model):
    """BLOOM §3.1 (ROOTS): 46 natural and 13 programming languages."""
    languages = load_model(model).meta.languages
    assert "en" in languages
    assert any("46 natural + 13 programming" in lang for lang in languages)


@pytest.mark.parametrize("model", ["qwen-7b", *QWEN2, *QWEN2_5])
def test_qwen_is_chinese_english_and_multilingual(model):
    """Qwen tech memo, Qwen2 report (about 30 languages): strong in Chinese and multilingual."""
    languages = load_model(model).meta.languages
    assert {"zh", "en"} <= set(languages)
    assert any(lang.startswith("multilingual") for lang in languages)


@pytest.mark.parametrize(
    ("lang", "model"),
    [
        ("en", "llama-3.1-8b"),
        ("th", "llama-3.1-8b"),
        ("en", "bloom"),
        ("zh", "bloom"),
        ("zh", "qwen-7b"),
        ("fr", "qwen2.5-7b"),
    ],
)
def test_fit_lang_finds_multilingual_models_by_language_code(lang, model):
    """Llama 3.1 card (8 languages incl. Thai), BLOOM §3.1, Qwen2.5 README: `fit --lang` matches."""
    assert matches(load_model(model), None, False, lang)


def test_gpt_oss_is_its_own_family_apart_from_gpt_and_eleutherai():
    """Model rule: OpenAI's gpt-oss and EleutherAI's GPT-J / NeoX / Pythia are separate."""
    families = {
        m: load_model(m).meta.family
        for m in ["gpt-oss-20b", "gpt-oss-120b", "gpt2", "gpt-j-6b", "gpt-neox-20b", "pythia-1b"]
    }
    assert families["gpt-oss-20b"] == families["gpt-oss-120b"] == "gpt-oss"
    assert families["gpt-oss-20b"] not in {
        families[m] for m in ["gpt2", "gpt-j-6b", "gpt-neox-20b", "pythia-1b"]
    }
    assert load_model("gpt-j-6b").meta.developer != "OpenAI"


def test_open_llama_is_a_llama_reproduction_not_a_gpt():
    """OpenLLaMA README: a reproduction of LLaMA (RMSNorm, SwiGLU, RoPE) (fact-check Q7)."""
    spec, llama = load_model("open-llama-7b"), load_model("llama-7b")
    assert spec.meta.family == "llama"
    assert (spec.norm.kind, spec.ffn.label, spec.positions.kind) == ("rmsnorm", "SwiGLU", "rope")
    assert spec.model_dump(exclude={"id", "meta"}) == llama.model_dump(exclude={"id", "meta"})


# --- what the CLI shows ----------------------------------------------------------------------


def test_show_json_gives_gpt2_pre_ln_with_a_final_norm():
    """GPT-2 §2.3, through `llmarch show gpt2 -f json`."""
    norm = cli_json("show", "gpt2")["norm"]
    assert (norm["placement"], norm["final_norm"]) == ("pre", True)


def test_show_json_gives_gpt_oss_its_licence_and_window_pattern():
    """gpt-oss card, through `llmarch show gpt-oss-120b -f json`."""
    shown = cli_json("show", "gpt-oss-120b")
    assert shown["meta"]["licence"] == "Apache-2.0" and shown["meta"]["family"] == "gpt-oss"
    assert shown["attention"]["layer_types"] == ["sliding", "full"] * 18


def test_list_json_keys_attention_kind_by_version_not_family():
    """Model rule: GQA, window and licence by version (Qwen 1 MHA, Qwen2 GQA; v0.1 SWA only)."""
    rows = {row["model"]: row for row in cli_json("list")}
    assert (rows["qwen-7b"]["attention"], rows["qwen2-7b"]["attention"]) == ("MHA", "GQA")
    assert "swa" in rows["mistral-7b-v0.1"]["features"]
    assert "swa" not in rows["mistral-7b-v0.3"]["features"]
    assert rows["qwen2-72b"]["licence"] != rows["qwen2-7b"]["licence"]
