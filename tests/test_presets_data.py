"""The preset data files: well-formed, sourced, and carrying the published architecture facts.

Expected values come from the papers and the fact-check table (seed-factcheck.md), not from the
configs themselves, so a mistyped config fails here.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from llmarch_cli.specs.loader import load_model
from llmarch_cli.specs.registry import resolve_id

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PRESET_DIR = Path(__file__).resolve().parents[1] / "llmarch_cli" / "specs" / "presets"

REQUIRED_IDS = {
    "gpt2",
    "gpt2-medium",
    "gpt2-large",
    "gpt2-xl",
    "gpt3-175b",
    "transformer-base",
    "transformer-big",
    "bert-base-uncased",
    "bert-large-uncased",
    "t5-small",
    "t5-base",
    "t5-large",
    "flan-t5-base",
    "bart-base",
    "bart-large",
    "llama-7b",
    "llama-13b",
    "llama-33b",
    "llama-65b",
    "llama-2-7b",
    "llama-2-13b",
    "llama-2-70b",
    "llama-3-8b",
    "llama-3-70b",
    "llama-3.1-8b",
    "llama-3.1-70b",
    "llama-3.1-405b",
    "llama-3.2-1b",
    "llama-3.2-3b",
    "qwen-7b",
    "qwen2-0.5b",
    "qwen2-1.5b",
    "qwen2-7b",
    "qwen2-72b",
    "qwen2.5-0.5b",
    "qwen2.5-7b",
    "qwen2.5-14b",
    "qwen2.5-32b",
    "qwen2.5-72b",
    "mistral-7b-v0.1",
    "mistral-7b-v0.3",
    "mixtral-8x7b",
    "mixtral-8x22b",
    "bloom-560m",
    "bloom-7b1",
    "bloom",
    "pythia-70m",
    "pythia-160m",
    "pythia-1b",
    "pythia-12b",
    "gpt-neox-20b",
    "gpt-j-6b",
    "open-llama-7b",
    "gpt-oss-20b",
    "gpt-oss-120b",
    # issue 8
    "qwen3-0.6b", "qwen3-8b", "qwen3-32b", "qwen3-30b-a3b", "qwen3-235b-a22b", "qwen3-next-80b-a3b",
    "deepseek-v2-lite", "deepseek-v3", "deepseek-r1", "kimi-k2", "gemma-2-9b", "gemma-2-27b",
    "gemma-3-1b", "gemma-3-4b", "gemma-3-27b", "llama-3.3-70b", "llama-4-scout", "llama-4-maverick",
    "phi-2", "phi-3-mini", "phi-4", "mistral-nemo", "mistral-small-3.1", "olmo-2-7b", "glm-4.5-air",
    "command-r", "granite-3.1-8b", "falcon-7b", "falcon-40b", "jamba-1.5-mini", "mamba-2.8b",
    "starcoder2-3b",
}
FAMILIES = {
    "llama",
    "qwen",
    "mistral",
    "mixtral",
    "gpt",
    "gpt-oss",
    "gpt-neox",
    "pythia",
    "gpt-j",
    "bloom",
    "t5",
    "bert",
    "bart",
    "transformer",
    "qwen3", "deepseek", "gemma", "llama4", "phi", "olmo", "falcon", "glm", "cohere", "granite",
    "jamba", "mamba", "starcoder",
}
REQUIRED_META = (
    "name",
    "family",
    "developer",
    "released",
    "licence",
    "open_licence",
    "languages",
    "source",
)
OPEN_LICENCES = {"Apache-2.0", "MIT"}

IDS = sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


def preset(pid: str) -> dict:
    with (PRESET_DIR / f"{pid}.toml").open("rb") as fh:
        return tomllib.load(fh)


def config(pid: str) -> dict:
    return json.loads(preset(pid)["config_json"])


def test_exactly_the_required_presets_ship():
    assert set(IDS) == REQUIRED_IDS


@pytest.mark.parametrize("pid", IDS)
def test_preset_parses_with_sourced_meta(pid):
    data = preset(pid)
    meta = data["meta"]
    assert all(meta.get(key) not in (None, "") for key in REQUIRED_META), meta
    assert meta["family"] in FAMILIES
    assert meta["open_licence"] is (meta["licence"] in OPEN_LICENCES)
    assert len(meta["released"]) in (7, 10) and meta["released"][4] == "-"
    assert meta["source"].startswith("https://")
    assert ("config_json" in data) != ("spec" in data), (
        "a preset holds a config.json or a native spec"
    )


@pytest.mark.parametrize("pid", [p for p in IDS if "config_json" in preset(p)])
def test_config_json_is_a_json_object_with_a_model_type(pid):
    cfg = config(pid)
    assert isinstance(cfg, dict)
    assert isinstance(cfg["model_type"], str) and cfg["model_type"]


@pytest.mark.parametrize("pid", [p for p in IDS if "config_json" in preset(p) and p != "gpt3-175b"])
def test_config_json_source_is_the_hf_repo_of_its_hf_id(pid):
    meta = preset(pid)["meta"]
    assert meta["source"] == f"https://huggingface.co/{meta['hf_id']}/blob/main/config.json"


def test_hf_ids_and_aliases_are_unique_case_insensitively():
    seen: dict[str, str] = {}
    for pid in IDS:
        meta = preset(pid)["meta"]
        for name in [meta.get("hf_id"), *meta.get("aliases", [])]:
            if not name:
                continue
            key = name.lower()
            assert key not in seen or seen[key] == pid, f"{name} in {pid} and {seen[key]}"
            assert key not in REQUIRED_IDS - {pid}, f"{name} of {pid} shadows a preset id"
            seen[key] = pid


# --- published facts (papers and the fact-check table) ---------------------------------------


def test_gpt2_has_1024_learned_positions_and_50257_tokens():
    cfg = config("gpt2")
    assert (cfg["n_positions"], cfg["vocab_size"]) == (1024, 50257)


def test_gpt3_matches_table_2_1():
    cfg = config("gpt3-175b")
    assert (cfg["n_layer"], cfg["n_embd"], cfg["n_head"], cfg["n_positions"]) == (
        96,
        12288,
        96,
        2048,
    )
    assert cfg["n_embd"] // cfg["n_head"] == 128
    assert preset("gpt3-175b")["meta"]["licence"] == "closed"


@pytest.mark.parametrize(
    ("pid", "d_model", "d_ff", "heads"),
    [("transformer-base", 512, 2048, 8), ("transformer-big", 1024, 4096, 16)],
)
def test_transformer_matches_vaswani_table_3(pid, d_model, d_ff, heads):
    spec = preset(pid)["spec"]
    assert (
        spec["hidden_size"],
        spec["ffn"]["intermediate_size"],
        spec["attention"]["num_heads"],
    ) == (
        d_model,
        d_ff,
        heads,
    )
    assert spec["num_layers"] == spec["num_decoder_layers"] == 6
    assert spec["norm"]["placement"] == "post" and spec["positions"]["kind"] == "sinusoidal"
    assert spec["ffn"]["activation"] == "relu" and spec["head"]["tied"] is True


def test_llama_2_70b_uses_gqa_64_query_8_kv_heads():
    cfg = config("llama-2-70b")
    assert (cfg["num_attention_heads"], cfg["num_key_value_heads"]) == (64, 8)


@pytest.mark.parametrize(
    "pid", ["llama-7b", "llama-13b", "llama-33b", "llama-65b", "llama-2-7b", "llama-2-13b"]
)
def test_llama_1_and_small_llama_2_use_mha_and_32000_tokens(pid):
    cfg = config(pid)
    assert cfg.get("num_key_value_heads", cfg["num_attention_heads"]) == cfg["num_attention_heads"]
    assert cfg["vocab_size"] == 32000


@pytest.mark.parametrize(
    "pid", ["llama-3-8b", "llama-3-70b", "llama-3.1-8b", "llama-3.1-70b", "llama-3.1-405b"]
)
def test_llama_3_has_8_kv_heads_theta_500k_and_128256_tokens(pid):
    cfg = config(pid)
    assert (cfg["num_key_value_heads"], cfg["rope_theta"], cfg["vocab_size"]) == (
        8,
        500000.0,
        128256,
    )


def test_llama_3_1_scales_rope_to_128k():
    cfg = config("llama-3.1-8b")
    assert cfg["max_position_embeddings"] == 131072
    assert cfg["rope_scaling"]["rope_type"] == "llama3"


def test_mistral_v01_has_a_4096_window_and_v03_none():
    assert config("mistral-7b-v0.1")["sliding_window"] == 4096
    assert config("mistral-7b-v0.3").get("sliding_window") is None


def test_mistral_7b_is_gqa_32_8_with_14336_ffn():
    cfg = config("mistral-7b-v0.1")
    assert (cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["intermediate_size"]) == (
        32,
        8,
        14336,
    )


def test_mixtral_8x7b_routes_top_2_of_8_experts_densely():
    cfg = config("mixtral-8x7b")
    assert (cfg["num_local_experts"], cfg["num_experts_per_tok"]) == (8, 2)
    assert cfg.get("sliding_window") is None


def test_mixtral_8x22b_is_gqa_48_8_with_8_experts_top_2():
    cfg = config("mixtral-8x22b")
    assert (cfg["num_attention_heads"], cfg["num_key_value_heads"]) == (48, 8)
    assert (cfg["num_local_experts"], cfg["num_experts_per_tok"]) == (8, 2)


def test_qwen_1_uses_mha_and_a_doubled_intermediate_size():
    cfg = config("qwen-7b")
    assert cfg["model_type"] == "qwen"
    assert cfg["intermediate_size"] == 2 * 11008
    assert cfg["vocab_size"] >= 151851
    assert cfg["num_attention_heads"] * cfg["kv_channels"] == cfg["hidden_size"]


@pytest.mark.parametrize(("pid", "heads", "kv"), [("qwen2-7b", 28, 4), ("qwen2-72b", 64, 8)])
def test_qwen2_uses_gqa_at_the_reported_head_counts(pid, heads, kv):
    cfg = config(pid)
    assert (cfg["num_attention_heads"], cfg["num_key_value_heads"]) == (heads, kv)


def test_bloom_vocabulary_covers_250680_tokens_with_112_heads():
    cfg = config("bloom")
    assert cfg["vocab_size"] >= 250680
    assert (cfg["n_layer"], cfg["num_attention_heads"], cfg["n_embed"]) == (70, 112, 14336)


def test_gpt_j_rotates_64_dims_of_16_heads_over_2048_tokens():
    cfg = config("gpt-j-6b")
    assert (cfg["rotary_dim"], cfg["n_head"], cfg["n_positions"], cfg["vocab_size"]) == (
        64,
        16,
        2048,
        50400,
    )


@pytest.mark.parametrize(
    "pid", ["gpt-neox-20b", "pythia-70m", "pythia-160m", "pythia-1b", "pythia-12b"]
)
def test_neox_family_rotates_a_quarter_and_runs_parallel_blocks(pid):
    cfg = config(pid)
    assert cfg["rotary_pct"] == 0.25 and cfg["use_parallel_residual"] is True
    assert cfg["max_position_embeddings"] == 2048


@pytest.mark.parametrize(
    ("pid", "layers", "experts"), [("gpt-oss-20b", 24, 32), ("gpt-oss-120b", 36, 128)]
)
def test_gpt_oss_layers_experts_and_attention_pattern(pid, layers, experts):
    cfg = config(pid)
    assert (cfg["num_hidden_layers"], cfg["num_local_experts"], cfg["num_experts_per_tok"]) == (
        layers,
        experts,
        4,
    )
    assert (cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]) == (64, 8, 64)
    assert cfg["sliding_window"] == 128 and cfg["vocab_size"] == 201088
    assert cfg["layer_types"] == ["sliding_attention", "full_attention"] * (layers // 2)
    assert cfg["rope_theta"] == 150000 and cfg["rope_scaling"]["factor"] == 32.0
    assert cfg["max_position_embeddings"] == 131072


def test_bert_base_uncased_is_12_layers_of_768_with_30522_tokens():
    cfg = config("bert-base-uncased")
    assert (
        cfg["num_hidden_layers"],
        cfg["hidden_size"],
        cfg["vocab_size"],
        cfg["type_vocab_size"],
    ) == (
        12,
        768,
        30522,
        2,
    )


def test_t5_small_uses_32_relative_buckets_and_relu():
    cfg = config("t5-small")
    assert (cfg["num_layers"], cfg["d_model"], cfg["relative_attention_num_buckets"]) == (
        6,
        512,
        32,
    )
    assert cfg.get("feed_forward_proj", "relu") == "relu"



# issue 8's presets against their developers' own statements (each preset's notes name the copy)


def test_llama_4_scout_base_file_holds_a_fortieth_of_the_instruct_context():
    # huggingface/text-generation-inference PR #3245: the Instruct file's max_position_embeddings is
    # 40 times the base's; the Instruct's is Meta's "10M" context, 10 x 2^20 tokens.
    text = config("llama-4-scout")["text_config"]
    assert text["max_position_embeddings"] * 40 == 10 * 2**20
    # meta-llama/llama-models, models/llama4/args.py: Scout scales RoPE x16, high-frequency factor 1.
    scaling = text["rope_scaling"]
    assert (scaling["factor"], scaling["high_freq_factor"], scaling["low_freq_factor"]) == (16.0, 1.0, 1.0)


def test_glm_4_5_air_rotates_half_of_each_head_at_theta_one_million():
    # THUDM/slime, scripts/models/glm4.5-106B-A12B.sh: --rotary-base 1000000, --rotary-percent 0.5.
    cfg = config("glm-4.5-air")
    assert (cfg["rope_theta"], cfg["partial_rotary_factor"]) == (1_000_000, 0.5)
    assert (cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]) == (96, 8, 128)


def test_kimi_k2_is_the_original_128k_release():
    # The July 2025 Kimi K2 model card: 61 layers (1 dense), 64 heads, 384 experts (8 selected,
    # 1 shared), 128K context; the 0905 release (262,144 tokens) is a separate repo.
    cfg = config("kimi-k2")
    assert (cfg["num_hidden_layers"], cfg["first_k_dense_replace"], cfg["num_attention_heads"]) == (61, 1, 64)
    assert (cfg["n_routed_experts"], cfg["num_experts_per_tok"], cfg["n_shared_experts"]) == (384, 8, 1)
    scaling = cfg["rope_scaling"]
    assert cfg["max_position_embeddings"] == scaling["original_max_position_embeddings"] * scaling["factor"] == 128 * 1024


def test_gemma_3_4b_text_sizes_are_deepminds_gemma3_4b():
    # google-deepmind/gemma, gemma/gm/nn/_gemma.py, Gemma3_4B: embed 2,560, hidden 2,560 x 8 / 2,
    # 34 layers, a 1,024-token window.
    text = config("gemma-3-4b")["text_config"]
    assert (text["hidden_size"], text["intermediate_size"], text["num_hidden_layers"], text["sliding_window"]) == (
        2560,
        2560 * 8 // 2,
        34,
        1024,
    )

# --- the spec loader ----------------------------------------------------------------------------


@pytest.mark.parametrize("pid", IDS)
def test_every_preset_loads_as_an_archspec(pid):
    spec = load_model(pid)
    assert spec.id == pid
    assert spec.meta.family == preset(pid)["meta"]["family"]


def test_hf_ids_resolve_case_insensitively():
    assert resolve_id("META-LLAMA/llama-2-7B-HF")[0] == "llama-2-7b"
    assert resolve_id("openai/gpt-oss-120b")[0] == "gpt-oss-120b"
