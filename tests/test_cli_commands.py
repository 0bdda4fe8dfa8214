"""list, show, compare, diff and params through the CLI: shapes, figures, formats, overrides.

Expected figures come from outside llmarch: Llama 2 7B has 6,738,415,616 parameters (what
transformers builds from its config.json), and a KV cache entry per token is the analytic
2 x layers x kv_heads x head_dim x 2 bytes.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from conftest import run_json
from conftest import run_ok as run

from llmarch_cli.specs.loader import load_preset

LLAMA2_7B_PARAMS = 6_738_415_616
LLAMA2_7B_KV_PER_TOKEN = 2 * 32 * 32 * 128 * 2  # MHA: 32 layers, 32 KV heads of 128
MISTRAL_7B_KV_PER_TOKEN = 2 * 32 * 8 * 128 * 2  # GQA: 8 KV heads


def test_list_json_is_an_array_of_objects_with_model_and_family():
    rows = run_json("list")
    assert isinstance(rows, list) and rows
    assert all({"model", "family"} <= row.keys() for row in rows)
    assert {"llama-2-7b", "mistral-7b-v0.1", "gpt2"} <= {row["model"] for row in rows}


def test_list_feature_gqa_keeps_mistral_and_drops_llama2():
    ids = {row["model"] for row in run_json("list", "--feature", "gqa")}
    assert "mistral-7b-v0.1" in ids and "llama-2-7b" not in ids


def test_list_family_filter():
    rows = run_json("list", "--family", "llama")
    assert rows and {row["family"] for row in rows} == {"llama"}


def test_list_piped_is_tsv_with_a_header_row():
    out = run("list").stdout
    header, *lines = out.splitlines()
    assert header.split("\t")[:2] == ["model", "family"]
    assert all(line.count("\t") == header.count("\t") for line in lines)


def test_show_json_is_the_spec():
    data = run_json("show", "mistral-7b-v0.1")
    assert data == load_preset("mistral-7b-v0.1").model_dump(mode="json")
    assert data["attention"]["sliding_window"] == 4096


def test_show_table_groups_every_part():
    out = run("show", "llama-2-7b", "--format", "table", env={"COLUMNS": "200"}).stdout
    for group in ("attention", "positions", "norm", "ffn", "moe", "embeddings", "head", "meta"):
        assert f" {group} " in out
    assert "Llama 2 Community License" in out


def test_family_name_is_resolved_on_stderr_and_named_in_output():
    result = run("params", "llama", "--json")
    assert result.stderr == "llama -> llama-2-7b\n"
    assert json.loads(result.stdout)["model"] == "llama-2-7b"


def test_params_json_keys_and_llama2_7b_total():
    data = run_json("params", "llama-2-7b")
    assert data["model"] == "llama-2-7b"
    assert data["total_params"] == data["active_params"] == LLAMA2_7B_PARAMS
    assert data["lm_head_params"] == 32000 * 4096  # untied head
    assert data["non_embedding_params"] == (
        data["total_params"] - data["embedding_params"] - data["lm_head_params"])
    assert sum(group["total"] for group in data["breakdown"]) == LLAMA2_7B_PARAMS


def test_params_table_shows_si_and_exact_counts():
    out = run("params", "llama-2-7b", "-f", "table", "--breakdown").stdout
    assert "6.74 B" in out and "6,738,415,616" in out and "attention.q" in out


def test_params_csv_breakdown_rows():
    rows = list(csv.DictReader(io.StringIO(run("params", "gpt2", "-f", "csv", "--breakdown").stdout)))
    assert {"model", "stack", "component", "per_layer", "layers", "total"} == set(rows[0])


def test_params_reads_a_config_from_stdin(tmp_path):
    config = json.dumps({"model_type": "gpt2"})  # every size from GPT-2's defaults
    data = json.loads(run("params", "-", "--json", stdin=config).stdout)
    assert data["total_params"] == 124_439_808  # GPT-2 small, tied head


def test_compare_json_records_carry_the_figures():
    rows = run_json("compare", "llama", "mistral")
    assert [r["model"] for r in rows] == ["llama-2-7b", "mistral-7b-v0.1"]
    assert [r["family"] for r in rows] == ["llama", "mistral"]
    llama, mistral = rows
    assert llama["kv_bytes_per_token"] == LLAMA2_7B_KV_PER_TOKEN
    assert mistral["kv_bytes_per_token"] == MISTRAL_7B_KV_PER_TOKEN
    assert llama["total_params"] == LLAMA2_7B_PARAMS
    assert (llama["num_kv_heads"], mistral["num_kv_heads"]) == (32, 8)
    assert mistral["sliding_window"] == 4096 and mistral["window_pattern"] == "all sliding"
    assert all(key == key.lower() and " " not in key for key in llama)


def test_compare_table_has_a_column_per_model_and_human_units():
    out = run("compare", "llama", "mistral", "-f", "table").stdout
    assert "llama-2-7b" in out and "mistral-7b-v0.1" in out
    assert "512.00 KiB" in out and "128.00 KiB" in out and "6.74 B" in out


def test_compare_highlights_only_differing_rows_on_a_terminal():
    from llmarch_cli.analysis.summary import arch_record
    from llmarch_cli.render.views import side_by_side

    records = [arch_record(load_preset(p)).model_dump() for p in ("llama-2-7b", "mistral-7b-v0.1")]
    keys = ["hidden_size", "num_kv_heads", "vocab_size", "kv_bytes_per_token"]
    _, differing = side_by_side(records, keys)
    assert differing == (1, 3)


def test_compare_gpt_oss_window_pattern_alternates():
    (row,) = run_json("compare", "gpt-oss-20b")
    assert row["window_pattern"] == "(sliding, full) x 12" and row["sinks"] is True


def test_diff_lists_only_differing_fields():
    rows = run_json("diff", "llama-2-7b", "mistral-7b-v0.1")
    fields = {r["field"]: (r["a"], r["b"]) for r in rows}
    assert fields["attention.num_kv_heads"] == (32, 8)
    assert fields["ffn.intermediate_size"] == (11008, 14336)
    assert "hidden_size" not in fields and "norm.kind" not in fields


def test_diff_with_gqa_shows_the_what_if():
    rows = run_json("diff", "llama-2-7b", "--gqa", "8")
    fields = {r["field"]: (r["a"], r["b"]) for r in rows}
    assert fields["attention.num_kv_heads"] == (32, 8)
    assert fields["kv_bytes_per_token"] == (LLAMA2_7B_KV_PER_TOKEN, LLAMA2_7B_KV_PER_TOKEN // 4)
    # k and v shrink from 4096 x 4096 to 4096 x 1024 in each of 32 layers
    saved = 2 * 32 * 4096 * (4096 - 1024)
    assert fields["total_params"] == (LLAMA2_7B_PARAMS, LLAMA2_7B_PARAMS - saved)


def test_set_with_hf_names_applies_to_params():
    base = run_json("params", "llama-2-7b")["total_params"]
    data = run_json("params", "llama-2-7b", "--set", "vocab_size=32128")
    assert data["total_params"] - base == 2 * 128 * 4096  # embedding and untied head


def test_output_file_is_written_and_stdout_stays_empty(tmp_path):
    target = tmp_path / "out.json"
    result = run("compare", "gpt2", "mistral", "-o", str(target))
    assert result.stdout == ""
    rows = json.loads(target.read_text())  # auto + .json suffix -> JSON
    assert [r["model"] for r in rows] == ["gpt2", "mistral-7b-v0.1"]
    assert list(tmp_path.iterdir()) == [target]


def test_no_colour_when_piped_even_in_table_format():
    out = run("compare", "llama", "mistral", "-f", "table").stdout
    assert "\x1b[" not in out


def test_params_of_a_config_json_file_matches_the_closed_form():
    # tests/data/tiny-gqa.json: d=256, 2 layers, 8 heads / 2 KV heads of 32, SwiGLU 688, tied.
    d, kv, ffn, vocab = 256, 2 * 32, 688, 1000
    per_layer = 2 * d * d + 2 * d * kv + 3 * d * ffn + 2 * d  # q, o; k, v; gate/up/down; 2 norms
    expected = vocab * d + 2 * per_layer + d  # tied head, final norm
    data = run_json("params", str(Path(__file__).parent / "data" / "tiny-gqa.json"))
    assert data["total_params"] == expected == 1_641_728
    assert data["lm_head_params"] == 0
