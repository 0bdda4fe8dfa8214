"""Exact parameter counts pinned to published figures and to closed-form identities."""

from __future__ import annotations

import math

import pytest

from llmarch_cli.analysis.params import count_params
from llmarch_cli.specs.hf import spec_from_hf_config
from llmarch_cli.specs.inventory import inventory
from llmarch_cli.specs.loader import load_preset

# gpt-oss-20b's official config.json; the 120b differs only in depth and expert count.
GPT_OSS_20B = {
    "model_type": "gpt_oss", "hidden_size": 2880, "intermediate_size": 2880,
    "num_hidden_layers": 24, "num_local_experts": 32, "num_experts_per_tok": 4,
    "num_attention_heads": 64, "num_key_value_heads": 8, "head_dim": 64,
    "vocab_size": 201088, "attention_bias": True, "tie_word_embeddings": False,
    "sliding_window": 128, "rope_theta": 150000, "max_position_embeddings": 131072,
    "rope_scaling": {"rope_type": "yarn", "factor": 32.0, "beta_fast": 32.0, "beta_slow": 1.0,
                     "original_max_position_embeddings": 4096, "truncate": False},
}
GPT_OSS_120B = {**GPT_OSS_20B, "num_hidden_layers": 36, "num_local_experts": 128}


def _count(config: dict, name: str = "m"):
    return count_params(spec_from_hf_config(config, name))


def _group_total(result, prefix: str) -> int:
    return sum(g.total for g in result.breakdown if g.component.startswith(prefix))


# Exact counts that transformers reports for the Hugging Face checkpoints (num_parameters() of
# openai-community/gpt2, meta-llama/Llama-2-7b-hf, mistralai/Mistral-7B-v0.1 and
# mistralai/Mixtral-8x7B-v0.1; the Hub pages show them rounded as 124M, 6.74B, 7.24B, 46.7B).
@pytest.mark.parametrize(
    ("preset_id", "total"),
    [
        ("gpt2", 124_439_808),
        ("llama-2-7b", 6_738_415_616),
        ("mistral-7b-v0.1", 7_241_732_096),
        ("mixtral-8x7b", 46_702_792_704),
    ],
)
def test_preset_total_matches_published_exact_count(preset_id: str, total: int) -> None:
    spec = load_preset(preset_id)
    assert count_params(spec).total_params == total
    assert sum(w.params for w in inventory(spec)) == total


def test_mixtral_8x7b_is_46_7b_total_and_12_9b_active_as_in_the_mixtral_paper() -> None:
    # "Mixtral of Experts" abstract: 47B parameters, 13B active; Mistral's blog: 46.7B / 12.9B.
    result = count_params(load_preset("mixtral-8x7b"))
    assert round(result.total_params / 1e9, 1) == 46.7
    assert round(result.active_params / 1e9, 1) == 12.9


def test_moe_active_params_drop_the_unused_experts_of_every_layer() -> None:
    spec = load_preset("mixtral-8x7b")
    result = count_params(spec)
    h, i = spec.hidden_size, spec.ffn.intermediate_size
    one_expert = 3 * h * i  # w1, w2, w3 without biases
    assert result.total_params - result.active_params == 32 * (8 - 2) * one_expert


@pytest.mark.parametrize(
    ("config", "total_b", "active_b", "mlp_b", "attention_b"),
    [(GPT_OSS_20B, 20.91, 3.61, 19.12, 0.64), (GPT_OSS_120B, 116.83, 5.13, 114.71, 0.96)],
)
def test_gpt_oss_counts_match_the_model_card_table(
    config: dict, total_b: float, active_b: float, mlp_b: float, attention_b: float
) -> None:
    # "gpt-oss-120b & gpt-oss-20b Model Card" (OpenAI, Aug 2025), Table 1: MLP, attention,
    # embed + unembed (1.16B), active and total parameters. The card's active count leaves out
    # the token embedding table; ours counts it (embeddings are active), hence the subtraction.
    result = _count(config)
    assert round(result.total_params / 1e9, 2) == total_b
    assert round((result.active_params - result.embedding_params) / 1e9, 2) == active_b
    assert round(_group_total(result, "moe.") / 1e9, 2) == mlp_b
    assert round(_group_total(result, "attention.") / 1e9, 2) == attention_b
    assert round((result.embedding_params + result.lm_head_params) / 1e9, 2) == 1.16


@pytest.mark.parametrize(
    ("dim", "heads", "layers", "inner", "billions"),
    [
        (4096, 32, 32, 11008, 6.7),
        (5120, 40, 40, 13824, 13.0),
        (6656, 52, 60, 17920, 32.5),
        (8192, 64, 80, 22016, 65.2),
    ],
)
def test_llama_1_sizes_match_table_2_of_the_llama_paper(
    dim: int, heads: int, layers: int, inner: int, billions: float
) -> None:
    # LLaMA (Touvron et al. 2023) Table 2: dimension, heads, layers and 6.7B/13.0B/32.5B/65.2B;
    # the FFN widths are those of the released Hugging Face configs. The paper truncates
    # (65,285,660,672 is listed as 65.2B).
    config = {
        "model_type": "llama", "hidden_size": dim, "num_attention_heads": heads,
        "num_hidden_layers": layers, "intermediate_size": inner, "vocab_size": 32000,
    }
    assert math.floor(_count(config).total_params / 1e8) / 10 == billions


BERT_BASE_UNCASED = {
    "model_type": "bert", "hidden_size": 768, "num_hidden_layers": 12,
    "num_attention_heads": 12, "intermediate_size": 3072, "vocab_size": 30522,
    "max_position_embeddings": 512, "type_vocab_size": 2, "hidden_act": "gelu",
}


def test_bert_base_counts_the_masked_lm_model_and_matches_the_published_bert_model_count() -> None:
    # bert-base-uncased as BertModel (with pooler) is 109,482,240 parameters (the "110M" of the
    # BERT paper; transformers' num_parameters()). The MLM model drops the pooler (768x768 + 768)
    # and adds the transform dense + LayerNorm and the vocabulary bias.
    result = _count(BERT_BASE_UNCASED)
    pooler = 768 * 768 + 768
    transform = _group_total(result, "head.transform")
    assert transform == 768 * 768 + 768 + 2 * 768
    assert _group_total(result, "head.bias") == 30522
    assert result.total_params - transform - 30522 + pooler == 109_482_240
    assert result.lm_head_params == 0  # the decoder weight is the tied word embedding


def test_qwen_7b_halves_intermediate_size_and_matches_its_7_72b_hub_count() -> None:
    # Qwen/Qwen-7B config.json; the Hub page lists 7.72B parameters.
    config = {
        "model_type": "qwen", "hidden_size": 4096, "num_hidden_layers": 32,
        "num_attention_heads": 32, "kv_channels": 128, "intermediate_size": 22016,
        "vocab_size": 151936, "no_bias": True, "tie_word_embeddings": False,
        "rotary_emb_base": 10000, "rotary_pct": 1.0, "seq_length": 8192,
    }
    result = _count(config)
    assert round(result.total_params / 1e9, 2) == 7.72
    up = next(g for g in result.breakdown if g.component == "ffn.up")
    assert up.per_layer == 4096 * 11008


def test_t5_relative_bias_lives_only_in_the_first_block_of_each_stack() -> None:
    config = {"model_type": "t5", "d_model": 512, "num_heads": 8, "num_layers": 6}
    groups = [g for g in _count(config).breakdown if g.component == "attention.relative_bias"]
    assert [(g.stack, g.layers, g.per_layer) for g in groups] == [
        ("encoder", 1, 32 * 8),
        ("decoder", 1, 32 * 8),
    ]


def test_t5_small_is_60_5m_with_its_head_tied_to_the_shared_embedding() -> None:
    # T5 paper §3.7: "Small" has about 60 million parameters; t5-small's head is tied.
    config = {"model_type": "t5", "d_model": 512, "d_ff": 2048, "d_kv": 64, "num_heads": 8,
              "num_layers": 6, "vocab_size": 32128}
    result = _count(config)
    assert result.lm_head_params == 0
    assert result.total_params == 60_506_624


def test_t5_v1_1_counts_a_separate_head() -> None:
    base = {"model_type": "t5", "d_model": 64, "num_heads": 4, "num_layers": 2,
            "vocab_size": 100, "feed_forward_proj": "gated-gelu"}
    tied, untied = _count(base), _count({**base, "tie_word_embeddings": False})
    assert untied.total_params - tied.total_params == 100 * 64
    assert untied.lm_head_params == 100 * 64


def test_bart_position_tables_have_two_extra_rows_per_stack() -> None:
    config = {"model_type": "bart", "d_model": 64, "encoder_attention_heads": 4,
              "decoder_attention_heads": 4, "max_position_embeddings": 100,
              "vocab_size": 50, "encoder_layers": 1, "decoder_layers": 1}
    positions = [g for g in _count(config).breakdown if g.component == "embeddings.position"]
    assert [(g.stack, g.total) for g in positions] == [("encoder", 102 * 64), ("decoder", 102 * 64)]


def test_dense_model_has_active_equal_to_total_and_consistent_totals() -> None:
    result = count_params(load_preset("llama-2-7b"))
    assert result.active_params == result.total_params
    assert result.embedding_params == result.lm_head_params == 32000 * 4096
    assert result.non_embedding_params == (
        result.total_params - result.embedding_params - result.lm_head_params
    )
    assert sum(g.total for g in result.breakdown) == result.total_params
    assert all(g.total == g.per_layer * g.layers for g in result.breakdown)


def test_tied_head_is_counted_once() -> None:
    result = count_params(load_preset("gpt2"))
    assert result.lm_head_params == 0
    assert result.embedding_params == 50257 * 768 + 1024 * 768


def test_huge_config_count_is_the_exact_closed_form_integer() -> None:
    # 10,000 layers, hidden 2^20, GQA 1024/256 heads of 1024, 128 experts of SwiGLU width
    # 3 * 2^20 (top-2), untied head: far beyond int64, so only exact integers get it right.
    layers, h, heads, kv, hd, inner, vocab = 10_000, 2**20, 1024, 256, 1024, 3 * 2**20, 2**17 + 3
    experts, top_k = 128, 2
    config = {
        "model_type": "mixtral", "hidden_size": h, "num_hidden_layers": layers,
        "num_attention_heads": heads, "num_key_value_heads": kv, "head_dim": hd,
        "intermediate_size": inner, "vocab_size": vocab, "num_local_experts": experts,
        "num_experts_per_tok": top_k,
    }
    # Per layer: q and o are h x (heads*hd); k and v are h x (kv*hd); a router h x experts;
    # each expert three h x inner matrices; two RMSNorm weights. Plus embedding, untied head
    # and the final norm.
    expert = 3 * h * inner
    per_layer = 2 * h * heads * hd + 2 * h * kv * hd + h * experts + experts * expert + 2 * h
    expected = layers * per_layer + 2 * vocab * h + h
    result = _count(config)
    assert type(result.total_params) is int
    assert result.total_params == expected > 2**63
    assert result.active_params == expected - layers * (experts - top_k) * expert
