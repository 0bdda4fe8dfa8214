"""The flops, complexity and roofline commands: JSON shapes, bad input, plots, measurement."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from test_cli_bad_input import assert_one_line_error
from typer.testing import CliRunner

from llmarch_cli.cli.app import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_flops_json_is_one_object_per_model_and_context_with_a_breakdown():
    result = run("flops", "llama-3.1-8b", "mistral-7b-v0.1", "-c", "4k,8k", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [(r["model"], r["context"]) for r in rows] == [
        ("llama-3.1-8b", 4096), ("llama-3.1-8b", 8192), ("mistral-7b-v0.1", 4096), ("mistral-7b-v0.1", 8192)]
    first = rows[0]
    assert first["forward_flops_per_token"] == first["linear_flops_per_token"] + first["attention_flops_per_token"]
    assert sum(c["flops_per_token"] for c in first["breakdown"]) == first["forward_flops_per_token"]


def test_flops_and_roofline_take_the_what_ifs_every_model_command_takes():
    flops = json.loads(run("flops", "llama-2-7b", "-c", "4k", "--window", "1k", "--json").stdout)[0]
    # a 1,024-token window: 4 x 32 heads x 128 dims x 1,024 keys x 32 layers per token
    assert flops["attention_flops_per_token"] == 4 * 32 * 128 * 1024 * 32
    roof = json.loads(run("roofline", "llama-2-7b", "--gpu", "a100", "-c", "32k", "--gqa", "8",
                          "--json").stdout)
    # 8 KV heads: 2 (K, V) x 32 layers x 8 heads x 128 dims x 2 B = 131,072 B per token
    assert roof["kv_cache_bytes_per_step"] == 32768 * 131072
    mqa = json.loads(run("roofline", "llama-2-7b", "--gpu", "a100", "-c", "32k", "--mqa",
                         "--json").stdout)
    assert mqa["kv_cache_bytes_per_step"] == 32768 * 2 * 32 * 1 * 128 * 2


def test_complexity_json_is_an_array_one_object_per_length():
    rows = json.loads(run("complexity", "--seq", "1k,8k,64k", "--json").stdout)
    assert [r["seq_len"] for r in rows] == [1024, 8192, 65536]
    assert all(r["sliding_window"] == 4096 for r in rows)  # Mistral 7B's own window by default


def test_roofline_json_names_the_bound_and_the_speed():
    data = json.loads(run("roofline", "llama-3-8b", "--gpu", "h100", "--json").stdout)
    assert data["decode_bound"] == "memory" and data["decode_tokens_per_s"] > 0
    assert {t["name"] for t in data["terms"]} >= {"weights_read", "kv_cache_read", "memory_time"}


def test_explain_prints_formulas_for_all_three():
    for args in (["flops", "mixtral"], ["complexity"], ["roofline", "mixtral", "--gpu", "h100x2"]):
        result = run(*args, "--explain", "-f", "md")
        assert result.exit_code == 0, result.output
        assert "formula:" in result.stdout and "inputs:" in result.stdout


@pytest.mark.parametrize("args,contains", [
    (["roofline", "llama-3-8b", "--gpu", "h900"], "unknown GPU 'h900' (valid: a100-40gb"),
    (["complexity", "--seq", "0"], "--seq: size must be positive"),
    (["complexity", "--seq", "-4k"], "--seq: size must be positive"),
    (["complexity", "--seq", "four"], "--seq: invalid size"),
    (["complexity", "--seq", "1k,2k", "--window", "8k"], "would equal full attention"),
    (["roofline", "llama-3-8b", "--gpu", "h100x3"], "does not divide the 32 attention heads"),
    (["roofline", "llama-3-8b", "--gpu", "h100", "--bandwidth-efficiency", "0"], "(0, 1]"),
    (["roofline", "llama-3-8b", "--gpu", "h100", "--compute-efficiency", "1.01"], "(0, 1]"),
    (["flops", "llama", "-c", "0"], "--context: size must be positive"),
    (["roofline", "bert-base-uncased", "--gpu", "h100"], "encoder-only"),
])
def test_bad_input_exits_2_with_one_line(args, contains):
    assert_one_line_error(run(*args), contains)


def test_plot_draws_the_curves_and_names_the_extra_when_plotext_is_missing(monkeypatch):
    pytest.importorskip("plotext")
    result = run("complexity", "--seq", "1k,8k,64k", "--plot", "-f", "md")
    assert result.exit_code == 0, result.output
    assert "full O(n²)" in result.stdout and "window 4,096 O(nW)" in result.stdout
    monkeypatch.setitem(sys.modules, "plotext", None)
    assert_one_line_error(run("complexity", "--plot"), "pip install 'llmarch[plot]'")


def test_measure_reports_exponents_for_every_kernel():
    # Tiny lengths: this checks the wiring, not the exponents (those are `make bench`).
    result = run("complexity", "--measure", "--seq", "256,512", "-w", "32", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["kernel"] for r in rows] == ["full", "latent", "sliding", "chunked", "linear"]
    assert all(len(r["seconds"]) == 2 and r["peak_bytes"][1] > 0 for r in rows)
    if importlib.util.find_spec("plotext") is not None:
        plotted = run("complexity", "--measure", "--seq", "256,512", "-w", "32", "--plot", "-f", "md")
        assert "linear measured (scaled)" in plotted.stdout
