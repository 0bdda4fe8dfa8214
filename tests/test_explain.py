"""--explain itemises the rows it prints: kvcache the largest context of each model, fit the
terms its own rows carry (the same terms memory gives), memory every result."""

from __future__ import annotations

import json
import re

from conftest import run_ok

LLAMA2_7B_KV_PER_TOKEN = 2 * 32 * 32 * 128 * 2  # K and V, 32 layers, 32 heads of 128, fp16


def explained_bytes(text: str) -> list[int]:
    """The exact byte counts of the explanation's terms: 'name: 1.00 GiB (1,073,741,824 B)'."""
    return [int(n.replace(",", "")) for n in re.findall(r"^\S.*\(([\d,]+) B\)$", text, flags=re.M)]


def test_kvcache_explains_its_largest_context_whatever_the_order_given():
    result = run_ok("kvcache", "llama-2-7b", "-c", "128k,2k", "--explain", "-f", "json")
    rows = json.loads(result.stdout)
    assert [r["context"] for r in rows] == [131072, 2048]
    assert "context 131,072, batch 1" in result.stderr
    assert sum(explained_bytes(result.stderr)) == LLAMA2_7B_KV_PER_TOKEN * 131072 == rows[0]["total_bytes"]


def test_kvcache_explains_each_model():
    result = run_ok("kvcache", "llama-2-7b", "mistral-7b-v0.1", "-c", "4k", "--explain", "-f", "tsv")
    assert "llama-2-7b, context 4,096" in result.stderr and "mistral-7b-v0.1, context 4,096" in result.stderr


def test_fit_rows_carry_terms_that_sum_to_their_total_and_explain_prints_them():
    rows = json.loads(run_ok("fit", "--gpu", "rtx4090", "-f", "json").stdout)
    assert rows and all(sum(t["bytes"] for t in r["terms"]) == r["total_bytes"] for r in rows)
    memory = json.loads(run_ok("memory", rows[0]["model"], "--quant", rows[0]["weight_format"],
                               "-c", str(rows[0]["context"]), "-f", "json").stdout)
    assert rows[0]["terms"] == memory["terms"]
    explained = run_ok("fit", "--gpu", "rtx4090", "--explain", "-f", "tsv").stderr
    assert explained_bytes(explained) == [t["bytes"] for t in rows[0]["terms"]]


def test_memory_explains_every_result_it_prints():
    result = run_ok("memory", "llama-2-7b", "-c", "4k,8k", "--explain", "-f", "tsv")
    assert "context 4,096" in result.stderr and "context 8,192" in result.stderr
