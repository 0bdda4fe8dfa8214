"""fit: which presets fit a budget, hardware presets, and the CLI commands end to end."""

from __future__ import annotations

import json

import pytest
from conftest import run

from llmarch_cli.analysis.fit import fit_all, fit_model
from llmarch_cli.analysis.hardware import all_gpus, load_gpu, resolve_gpu
from llmarch_cli.analysis.quant_formats import WEIGHT_FORMATS
from llmarch_cli.analysis.training import training_memory
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.loader import load_preset
from llmarch_cli.specs.registry import preset_ids

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
            rows = fit_all(specs, 24 * GIB, context=context, quants=[WEIGHT_FORMATS[quant]]).rows
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
    result = run(*["kvcache", "--gqa", "8", "--context", "4k", "--json"])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)[0]
    assert row["model"] == "llama-2-7b" and row["bytes_per_token"] == 131072
    assert row["baseline_bytes_per_token"] == 524288 and row["saving_ratio"] == 4


def test_kvcache_ladder_stops_at_the_model_maximum() -> None:
    result = run(*["kvcache", "mistral-7b-v0.1", "--json"])
    assert [r["context"] for r in json.loads(result.stdout)] == [2048, 8192, 32768]


def test_memory_json_has_the_training_keys() -> None:
    result = run(*["memory", "llama-2-7b", "--train", "lora", "--rank", "16",
                                 "--targets", "q,v", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["trainable_params"] == 16 * 32 * 2 * (4096 + 4096)
    assert {"weights_bytes", "gradient_bytes", "optimizer_bytes", "total_bytes"} <= set(data)


def test_fit_command_lists_models_for_a_gpu() -> None:
    result = run(*["fit", "--gpu", "rtx4090", "--json"])
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
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("llmarch: error:")
    assert "Traceback" not in result.stderr


def test_a_model_shorter_than_the_asked_context_is_left_out_and_named() -> None:
    # gpt3-175b takes 2,048 tokens (GPT-3 paper §2.1) and llama-2-70b 4,096 (Llama 2 §2.2):
    # neither can serve 128k, whatever the memory.
    specs = [load_preset(p) for p in ("gpt3-175b", "llama-2-70b", "llama-3.1-8b")]
    found = fit_all(specs, 80 * GIB, context=131072)
    assert [r.model for r in found.rows] == ["llama-3.1-8b"]
    assert found.context_too_long == ["gpt3-175b", "llama-2-70b"]
    with pytest.raises(LlmarchError, match="exceeds"):
        fit_model(specs[0], 80 * GIB, context=131072)


def test_fit_without_context_uses_min_of_4k_and_the_model_maximum() -> None:
    assert fit_model(load_preset("gpt2"), 24 * GIB).context == 1024
    assert fit_model(load_preset("llama-3.1-8b"), 24 * GIB).context == 4096


def test_eight_gpus_split_gpt2_by_the_largest_tp_dividing_its_12_heads() -> None:
    # 12 heads on 8 GPUs: tp = gcd(8, 12) = 4, the other 2 GPUs' worth are data parallel.
    row = fit_model(load_preset("gpt2"), load_gpu("h100-sxm").memory_bytes, gpus=8)
    assert (row.tp, row.dp, row.gpus) == (4, 2, 8)
    odd = fit_model(load_preset("gpt2-xl"), load_gpu("h100-sxm").memory_bytes, gpus=8)  # 25 heads
    assert (odd.tp, odd.dp) == (1, 8)


def test_fit_h100x8_omits_no_model_for_its_head_count() -> None:
    result = run(*["fit", "--gpu", "h100x8", "--json"])
    assert result.exit_code == 0, result.output
    listed = {r["model"] for r in json.loads(result.stdout)}
    assert {"gpt2", "gpt2-xl", "bert-base-uncased", "t5-base"} <= listed
    assert "does not divide the attention heads" in result.stderr


def test_fit_starts_at_bf16_and_tries_fp32_only_when_named() -> None:
    spec = load_preset("gpt2")  # 124M parameters: fp32 would fit anything
    assert fit_model(spec, 80 * GIB).weight_format == "bf16"
    assert fit_model(spec, 80 * GIB, quants=[WEIGHT_FORMATS["fp32"], WEIGHT_FORMATS["bf16"]]).weight_format == "fp32"


def test_fit_explain_uses_the_rows_own_context_and_layout() -> None:
    from llmarch_cli.analysis.fit import fit_memory

    spec = load_preset("gpt2")
    row = fit_model(spec, load_gpu("h100-sxm").memory_bytes, gpus=8)
    memory = fit_memory(spec, row)
    assert (memory.context, memory.total_bytes) == (row.context, row.total_bytes)


def test_memory_24g_is_si_and_24gib_is_iec() -> None:
    si = run(*["fit", "--memory", "24G", "--json"])
    iec = run(*["fit", "--memory", "24GiB", "--json"])
    assert json.loads(si.stdout)[0]["budget_bytes"] == 24 * 10**9
    assert json.loads(iec.stdout)[0]["budget_bytes"] == 24 * GIB


@pytest.mark.parametrize("text,field", [
    ('memory_bytes = "24GiB"', "memory_bytes must be an integer number of bytes"),
    ("memory_bytes = 1.5e10", "memory_bytes must be an integer number of bytes"),
    ("memory_bytes = 0", "memory_bytes must be positive"),
    ('memory_bytes = 25769803776\nbandwidth_bytes_per_s = "1 TB/s"', "bandwidth_bytes_per_s must be a number"),
])
def test_gpu_file_with_a_mistyped_field_is_bad_input_naming_it(tmp_path, text: str, field: str) -> None:
    fields = {"name": '"My GPU"', "memory_bytes": "25769803776", "bandwidth_bytes_per_s": "1.0e12",
              "source": '"https://example.com"'}
    for line in text.split("\n"):
        key, value = line.split(" = ", 1)
        fields[key] = value
    body = "".join(f"{k} = {v}\n" for k, v in fields.items()) + "[peak_flops]\nbf16 = 1e14\n"
    path = tmp_path / "my.toml"
    path.write_text(body)
    result = run(*["fit", "--gpu-file", str(path)])
    assert result.exit_code == 2, result.output
    assert field in result.stderr


def test_kvcache_on_an_encoder_only_model_says_it_keeps_no_cache() -> None:
    result = run(*["kvcache", "bert-base-uncased", "--gqa", "4"])
    assert result.exit_code == 2
    assert "encoder-only" in result.stderr and "no KV cache" in result.stderr


def test_kvcache_beyond_the_model_maximum_computes_with_a_note() -> None:
    result = run(*["kvcache", "-c", "1M", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)[0]["total_bytes"] == 524288 * (1 << 20)
    assert "exceeds the 4,096 tokens" in result.stderr


@pytest.mark.parametrize("args,message", [
    (["memory", "gpt2", "--targets", "foo"], "--targets applies to --train lora|qlora only"),
    (["memory", "gpt2", "--rank", "4"], "--rank applies to --train lora|qlora only"),
    (["memory", "gpt2", "--train", "full", "--rank", "4"], "--rank applies to --train lora|qlora"),
    (["memory", "gpt2", "--optimizer", "sgd"], "--optimizer applies to --train only"),
    (["memory", "gpt2", "--checkpointing", "full"], "--checkpointing applies to --train only"),
    (["memory", "gpt2", "--zero", "1"], "--zero applies to --train only"),
    (["memory", "gpt2", "--train", "lora", "--kv-dtype", "fp8"], "keeps no KV cache"),
    (["memory", "gpt2", "--train", "lora", "--engine", "full"], "keeps no KV cache"),
    (["memory", "gpt2", "--engine", "paged"], "unknown engine 'paged'"),
    (["memory", "gpt2", "--encoder-length", "1k"], "applies to encoder-decoder models"),
    (["kvcache", "t5-base", "--window", "4k"], "--window applies to decoder-only models"),
    (["kvcache", "--context", "0"], "--context: size must be positive, got '0'"),
    (["kvcache", "--window", "0"], "--window: size must be positive, got '0'"),
    (["fit", "--memory", "24G", "--batch", "abc"], "--batch: invalid size 'abc'"),
])
def test_an_option_that_does_not_apply_or_is_bad_is_one_line_naming_it(args, message) -> None:
    result = run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr and len(result.stderr.splitlines()) == 1


def test_window_and_batch_accept_sizes_like_4k() -> None:
    result = run(*["kvcache", "--window", "1k", "--batch", "2k", "-c", "4k", "--json"])
    row = json.loads(result.stdout)[0]
    assert (row["sliding_window"], row["batch"]) == (1024, 2048)
    assert row["total_bytes"] == 2048 * 524288 * 1024 and row["saving_ratio"] == 4


def test_memory_encoder_length_sizes_t5s_cross_attention_cache() -> None:
    # t5-base: 12 decoder layers x 12 heads x 64, fp16: self cache of 512 + cross cache of 2,048.
    result = run(*["memory", "t5-base", "-c", "512", "--encoder-length", "2k", "--json"])
    assert json.loads(result.stdout)["kv_cache_bytes"] == 12 * 2 * 12 * 64 * 2 * (512 + 2048)
