"""One meaning per option: the same what-ifs on every command that takes a model, lists for
--context/--batch/--quant where rows are produced, --kv-dtype for the cache everywhere (with
config.json's dtype spellings), and one JSON key per concept."""

from __future__ import annotations

import json

import pytest
from conftest import run as run_cli
from conftest import run_ok as run

from llmarch_cli.cli.app import _build_command

WHAT_IFS = {"--set", "--gqa", "--mqa", "--mha", "--window"}
LLAMA2_7B_KV_PER_TOKEN = 2 * 32 * 32 * 128 * 2  # fp16: 2 bytes per value
# Keys renamed to one name per concept (docs/changelog.md); none may come back.
OLD_KEYS = {"id", "dtype", "kv_heads", "window", "baseline_kv_heads", "baseline_window",
            "term", "memory_bytes"}


def options(name: str, sub: str | None = None) -> set[str]:
    command = _build_command(name)
    if sub is not None:
        command = command.commands[sub]
    return {opt for param in command.params for opt in param.opts}


def keys(data) -> set[str]:
    if isinstance(data, list):
        return set().union(*(keys(d) for d in data))
    if isinstance(data, dict):
        return set(data).union(*(keys(v) for v in data.values()))
    return set()


@pytest.mark.parametrize("command", ["show", "compare", "diff", "params", "kvcache", "memory",
                                     "fit", "forward", "spec export"])
def test_every_command_that_takes_a_model_takes_every_what_if(command):
    assert WHAT_IFS <= options(*command.split())


@pytest.mark.parametrize("command", ["kvcache", "memory", "fit"])
def test_row_commands_share_context_batch_kv_dtype_and_engine_or_quant(command):
    assert {"--context", "-c", "--batch", "-b", "--kv-dtype"} <= options(command)


def test_kvcache_dtype_is_a_hidden_alias_of_kv_dtype():
    hidden = [p for p in _build_command("kvcache").params if "--dtype" in p.opts]
    assert hidden and hidden[0].hidden
    old = json.loads(run("kvcache", "-c", "4k", "--dtype", "fp8", "--json").stdout)
    new = json.loads(run("kvcache", "-c", "4k", "--kv-dtype", "fp8", "--json").stdout)
    assert old == new and new[0]["kv_dtype"] == "fp8"


@pytest.mark.parametrize(("spelled", "name", "bytes_per_value"),
                         [("float16", "fp16", 2), ("bfloat16", "bf16", 2), ("float32", "fp32", 4)])
def test_config_json_dtype_spellings_are_accepted(spelled, name, bytes_per_value):
    row = json.loads(run("kvcache", "llama-2-7b", "-c", "1", "--kv-dtype", spelled, "--json").stdout)[0]
    assert row["kv_dtype"] == name and row["total_bytes"] == LLAMA2_7B_KV_PER_TOKEN // 2 * bytes_per_value
    memory = json.loads(run("memory", "llama-2-7b", "--quant", spelled, "--kv-dtype", spelled,
                            "--json").stdout)
    assert (memory["weight_format"], memory["kv_dtype"]) == (name, name)


def test_forward_dtype_accepts_config_spellings_and_what_ifs():
    data = json.loads(run("forward", "llama-2-7b", "-t", "1,2", "--dtype", "bfloat16", "--mqa",
                          "--json").stdout)
    assert data["dtype"] == "bf16"


def test_fit_takes_what_ifs_and_leaves_out_the_models_they_do_not_fit():
    result = run("fit", "--memory", "80GiB", "--gqa", "8", "-c", "2k", "--json")
    rows = {r["model"]: r for r in json.loads(result.stdout)}
    assert rows["llama-2-7b"]["kv_bytes_per_token"] == LLAMA2_7B_KV_PER_TOKEN // 4
    assert "gpt2" not in rows and "gpt2" in result.stderr  # 12 heads: 8 KV heads do not divide them


@pytest.mark.parametrize("args", [
    ["params", "llama-2-7b"], ["kvcache", "llama-2-7b", "--gqa", "8"], ["memory", "llama-2-7b"],
    ["memory", "llama-2-7b", "-c", "1k,2k"], ["fit", "--gpu", "rtx4090"], ["compare", "gpt2", "t5-small"],
    ["list"], ["diff", "gpt2", "--gqa", "4"],
])
def test_json_keys_use_one_name_per_concept(args):
    assert not keys(json.loads(run(*args, "--json").stdout)) & OLD_KEYS


def test_memory_tsv_uses_the_json_names_of_terms():
    header = run("memory", "llama-2-7b", "-f", "tsv").stdout.splitlines()[0]
    result = json.loads(run("memory", "llama-2-7b", "--json").stdout)
    assert header.split("\t") == list(result["terms"][0])[:2] == ["name", "bytes"]


def test_a_bad_list_entry_names_the_option():
    result = run_cli("memory", "gpt2", "-c", "1k,zero")
    assert result.exit_code == 2 and "--context" in result.stderr


@pytest.mark.parametrize(("args", "option"), [
    (["memory", "gpt2", "--train", "bogus"], "--train"),
    (["memory", "gpt2", "--train", "lora", "--optimizer", "adam"], "--optimizer"),
    (["memory", "gpt2", "--train", "full", "--checkpointing", "some"], "--checkpointing"),
    (["memory", "gpt2", "--train", "full", "--zero", "4"], "--zero"),
    (["fit", "--gpu", "h100-sxm", "--task", "gen"], "--task"),
    (["kvcache", "--engine", "paged"], "--engine"),
    (["kvcache", "--kv-dtype", "fp7"], "--kv-dtype"),
    (["memory", "gpt2", "--quant", "bf16,q5_k_x"], "--quant"),
])
def test_choices_are_checked_where_they_are_typed_with_one_line_naming_the_option(args, option):
    result = run_cli(*args)
    assert result.exit_code == 2 and option in result.stderr.splitlines()[0]


# Option names that mean something else on some command, with why; every other option reads
# the same (one shared definition in cli/options.py) on every command that takes it.
DIFFERENT_MEANINGS = {
    "--batch": "roofline: one batch decoded together, not a list of rows",
    "--context": "roofline: one context, not a list of rows",
    "--kv-dtype": "roofline: one cache dtype for its roofline",
    "--quant": "roofline: one weight format, not a list",
    "--tp": "roofline: tensor-parallel GPUs per replica, default all of them",
    "--gpu": "roofline: required, GPU and count of the roofline",
    "--format": "spec export: the spec file's format (toml, json)",
    "--explain": "fit: the terms behind the top recommendation",
    "--lang": "fit: a language the model lists; explain and quiz: the language they speak",
    "--window": "kernel: the demo mask's width; complexity: the sliding curve's window",
    "--dtype": "forward: compute precision; kvcache: hidden old name of --kv-dtype",
    "--rank": "kernel: the demo adapter's rank",
    "--seed": "forward, kernel and quiz seed different things",
    "--top-k": "forward: sampling; kernel: experts per token",
}


def test_an_option_name_has_one_meaning_except_the_listed_ones():
    from llmarch_cli.cli.app import COMMANDS

    helps: dict[str, set[str]] = {}
    for name in COMMANDS:
        command = _build_command(name)
        for part in (getattr(command, "commands", None) or {"": command}).values():
            for param in part.params:
                longs = [o for o in param.opts if o.startswith("--")]
                if longs and param.param_type_name == "option":
                    helps.setdefault(longs[0], set()).add(param.help)
    assert {o for o, texts in helps.items() if len(texts) > 1} == set(DIFFERENT_MEANINGS)
