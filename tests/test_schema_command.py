"""`llmarch schema COMMAND` is the schema the command's real JSON output validates against
(checked by jsonschema, an independent validator), and lists the commands without COMMAND."""

from __future__ import annotations

import json

import jsonschema
import pytest
from conftest import run as run_cli
from conftest import run_ok


def run(*args: str) -> str:
    return run_ok(*args).stdout


@pytest.mark.parametrize("args", [
    ["params", "mixtral-8x7b"], ["params", "gpt2", "t5-small"], ["show", "llama-2-7b"],
    ["kvcache", "llama-2-7b", "--gqa", "8"], ["kvcache", "t5-small", "-c", "512"],
    ["memory", "llama-2-7b"], ["memory", "llama-2-7b", "--train", "lora"],
    ["memory", "gpt2", "-c", "1k,2k"], ["fit", "--gpu", "rtx4090"],
    ["compare", "gpt2", "mixtral-8x7b"], ["diff", "llama-2-7b", "--gqa", "8"],
    ["forward", "gpt2", "-t", "1,2", "--show", "attention"], ["forward", "t5-small", "-t", "1,2"],
    ["list", "--feature", "moe"],
])
def test_real_json_output_validates_against_the_printed_schema(args):
    schema = json.loads(run("schema", args[0]))
    data = json.loads(run(*args, "--json"))
    if schema.get("type") != "array" and isinstance(data, list):  # several models: one each
        for item in data:
            jsonschema.validate(item, schema)
    else:
        jsonschema.validate(data, schema)


def test_a_renamed_key_fails_the_schema():
    schema = json.loads(run("schema", "kvcache"))
    row = json.loads(run("kvcache", "-c", "4k", "--json"))[0]
    row["dtype"] = row.pop("kv_dtype")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([row], schema)


def test_without_a_command_it_lists_the_commands_with_a_result_model():
    rows = json.loads(run("schema", "--json"))
    assert {r["command"] for r in rows} >= {"params", "kvcache", "memory", "fit", "show"}


def test_an_unknown_command_is_one_line_listing_the_known_ones():
    result = run_cli("schema", "nope")
    assert result.exit_code == 2 and "params" in result.stderr
