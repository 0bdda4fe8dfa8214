"""fit: which presets fit a budget, hardware presets, and the CLI commands end to end."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from llmarch_cli.analysis.fit import fit_all, fit_model
from llmarch_cli.analysis.hardware import all_gpus, load_gpu, resolve_gpu
from llmarch_cli.analysis.quant_formats import WEIGHT_FORMATS
from llmarch_cli.analysis.training import training_memory
from llmarch_cli.cli.app import app
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.registry import load_preset, preset_ids

runner = CliRunner()
GIB = 1 << 30


def test_every_gpu_preset_has_memory_bandwidth_flops_and_source() -> None:
    gpus = all_gpus()
    assert len(gpus) >= 14
    for g in gpus:
        assert g.memory_bytes > 0 and g.bandwidth_bytes_per_s > 0
        assert g.peak_flops and g.source.startswith("https://")


def test_gpu_names_with_counts() -> None:
    assert resolve_gpu("h100x8")[1] == 8
    assert resolve_gpu("rtx4090")[0].id == "rtx4090"
    with pytest.raises(LlmarchError, match="valid: "):
        resolve_gpu("h900")


def test_fit_picks_the_widest_format_that_fits_and_its_limits() -> None:
    row = fit_model(load_preset("llama-2-7b"), 24 * GIB)
    assert row is not None and row.weight_format == "bf16"  # fp32 (25.1 GiB of weights) does not fit
    assert row.max_context == 4096 and row.max_batch >= 1 and row.total_bytes <= 24 * GIB


def test_fit_over_every_preset_quantisation_and_context_ladder_sorts_largest_first() -> None:
    # Its speed (budget 0.3 s) is the fit-all-presets benchmark in bench/, not a timed test.
    specs = [load_preset(p) for p in preset_ids()]
    for context in (2048, 8192, 32768, 131072):
        for quant in WEIGHT_FORMATS:
            rows = fit_all(specs, 24 * GIB, context=context, quants=[quant])
            assert rows == sorted(rows, key=lambda r: -r.total_params)


@pytest.mark.parametrize("gpu,mib", [
    ("a100-40gb", 40960), ("a100-80gb", 81920), ("h100-sxm", 81559), ("h100-pcie", 81559),
    ("h200", 143771), ("b200", 183359), ("l4", 23034), ("l40s", 46068), ("rtx3090", 24576),
    ("rtx4090", 24564), ("rtx5090", 32607),
])
def test_nvidia_presets_hold_the_memory_nvidia_smi_reports(gpu: str, mib: int) -> None:
    # memory.total as printed by nvidia-smi on each card (ECC on for L4/L40S, the default).
    assert load_gpu(gpu).memory_bytes == mib << 20


def test_fit_training_uses_memorys_default_checkpointing() -> None:
    spec = load_preset("llama-3-8b")
    row = fit_model(spec, 24 * GIB, context=4096, train="qlora")
    assert row is not None
    assert row.total_bytes == training_memory(spec, mode="qlora", context=4096).total_bytes


def test_kvcache_without_model_uses_llama2_7b_and_gqa() -> None:
    result = runner.invoke(app, ["kvcache", "--gqa", "8", "--context", "4k", "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)[0]
    assert row["model"] == "llama-2-7b" and row["bytes_per_token"] == 131072
    assert row["baseline_bytes_per_token"] == 524288 and row["saving"] == 4


def test_kvcache_ladder_stops_at_the_model_maximum() -> None:
    result = runner.invoke(app, ["kvcache", "mistral-7b-v0.1", "--json"])
    assert [r["context"] for r in json.loads(result.stdout)] == [2048, 8192, 32768]


def test_memory_json_has_the_training_keys() -> None:
    result = runner.invoke(app, ["memory", "llama-2-7b", "--train", "lora", "--rank", "16",
                                 "--targets", "q,v", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["trainable_params"] == 16 * 32 * 2 * (4096 + 4096)
    assert {"weights_bytes", "gradient_bytes", "optimizer_bytes", "total_bytes"} <= set(data)


def test_fit_command_lists_models_for_a_gpu() -> None:
    result = runner.invoke(app, ["fit", "--gpu", "rtx4090", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)


@pytest.mark.parametrize("args", [
    ["kvcache", "--context", "0"], ["kvcache", "--batch", "-1"], ["kvcache", "--context", "12XB"],
    ["kvcache", "--dtype", "fp7"], ["kvcache", "--gqa", "5"], ["kvcache", "--gqa", "0"],
    ["memory", "gpt2", "--quant", "q9"], ["memory", "llama-2-7b", "--tp", "3"],
    ["memory", "llama-2-7b", "--train", "lora", "--rank", "0"],
    ["memory", "llama-2-7b", "--train", "lora", "--targets", "c_attn"],
    ["fit", "--memory", "abc"], ["fit", "--gpu", "h900"],
])
def test_bad_input_exits_2_with_one_line(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert result.stderr.startswith("llmarch: error:")
    assert "Traceback" not in result.stderr
