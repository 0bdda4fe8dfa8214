"""Many models per call: several MODELs, --all/--family/--feature, lists of contexts, batches
and weight formats, one row each (figures against published counts and the KV identity)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from conftest import run as run_any
from conftest import run_ok as run

PRESET_FILES = Path(__file__).resolve().parents[1] / "llmarch_cli" / "specs" / "presets"
LLAMA2_7B_PARAMS = 6_738_415_616  # Meta's Llama 2 7B checkpoint, transformers' count
MISTRAL_7B_PARAMS = 7_241_732_096  # Mistral 7B v0.1 checkpoint, transformers' count
LLAMA2_7B_KV_PER_TOKEN = 2 * 32 * 32 * 128 * 2  # K and V, 32 layers x 32 heads x 128, fp16


def tsv(*args: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(run(*args, "-f", "tsv").stdout), delimiter="\t"))


def test_params_all_is_one_row_per_preset_file():
    rows = tsv("params", "--all")
    assert [r["model"] for r in rows] == sorted(p.stem for p in PRESET_FILES.glob("*.toml"))
    by_model = {r["model"]: r for r in rows}
    assert int(by_model["llama-2-7b"]["total_params"]) == LLAMA2_7B_PARAMS
    assert int(by_model["mistral-7b-v0.1"]["total_params"]) == MISTRAL_7B_PARAMS


def test_params_of_several_models_is_a_json_array_and_one_model_an_object():
    both = json.loads(run("params", "llama-2-7b", "mistral-7b-v0.1", "--json").stdout)
    assert [r["total_params"] for r in both] == [LLAMA2_7B_PARAMS, MISTRAL_7B_PARAMS]
    one = json.loads(run("params", "llama-2-7b", "--json").stdout)
    assert one["total_params"] == LLAMA2_7B_PARAMS


def test_family_and_feature_select_presets():
    assert {r["model"] for r in tsv("params", "--family", "mixtral")} == {"mixtral-8x7b", "mixtral-8x22b"}
    moe = {r["model"] for r in tsv("show", "--feature", "moe")}
    assert moe == {"mixtral-8x7b", "mixtral-8x22b", "gpt-oss-20b", "gpt-oss-120b", "deepseek-r1",
                   "deepseek-v2-lite", "deepseek-v3", "kimi-k2", "glm-4.5-air", "jamba-1.5-mini",
                   "llama-4-maverick", "llama-4-scout", "qwen3-30b-a3b", "qwen3-235b-a22b",
                   "qwen3-next-80b-a3b"}


def test_kvcache_is_one_row_per_model_context_and_batch():
    rows = tsv("kvcache", "llama-2-7b", "mistral-7b-v0.1", "-c", "4k,128k", "-b", "1,8")
    assert [(r["model"], r["context"], r["batch"]) for r in rows] == [
        (m, c, b) for m in ("llama-2-7b", "mistral-7b-v0.1") for c in ("4096", "131072") for b in ("1", "8")]
    llama = [r for r in rows if r["model"] == "llama-2-7b"]
    assert [int(r["total_bytes"]) for r in llama] == [
        LLAMA2_7B_KV_PER_TOKEN * c * b for c in (4096, 131072) for b in (1, 8)]


def test_memory_takes_lists_of_contexts_batches_and_formats():
    rows = tsv("memory", "llama-2-7b", "--quant", "bf16,int8", "-c", "2k,4k", "-b", "1,2")
    assert len(rows) == 2 * 2 * 2
    bf16 = [r for r in rows if r["weight_format"] == "bf16"]
    assert {int(r["weights_bytes"]) for r in bf16} == {2 * LLAMA2_7B_PARAMS}
    for r in rows:
        assert int(r["kv_cache_bytes"]) == LLAMA2_7B_KV_PER_TOKEN * int(r["context"]) * int(r["batch"])


def test_fit_gives_a_row_per_context_that_fits():
    rows = json.loads(run("fit", "--memory", "80GiB", "-c", "2k,4k", "--quant", "bf16", "--json").stdout)
    llama = [r for r in rows if r["model"] == "llama-2-7b"]
    assert [r["context"] for r in llama] == [2048, 4096]


def test_kvcache_all_leaves_out_encoder_only_presets_with_a_note_but_refuses_one_named():
    result = run_any("kvcache", "--all", "-c", "512", "-f", "tsv")
    assert result.exit_code == 0 and "left out: bert-base-uncased, bert-large-uncased" in result.stderr
    assert "bert-base-uncased" not in result.stdout
    named = run_any("kvcache", "bert-base-uncased")
    assert named.exit_code == 2 and "encoder-only" in named.stderr
