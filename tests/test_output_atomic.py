"""--output writes exactly what stdout would have carried, atomically: a failure leaves no file
and no temporary file, and an existing file is replaced only on success."""

from __future__ import annotations

import json

import pytest
from conftest import assert_one_line_error, run

from llmarch_cli.errors import LlmarchError
from llmarch_cli.render import destination, output

COMMANDS = [
    ["list", "-f", "tsv"],
    ["show", "gpt2", "-f", "md"],
    ["compare", "gpt2", "llama-2-7b", "-f", "csv"],
    ["diff", "llama-2-7b", "--gqa", "8", "-f", "table"],
    ["params", "mixtral-8x7b", "--breakdown", "-f", "json"],
    ["kvcache", "mistral-7b-v0.1", "-c", "4k,32k", "-f", "jsonl"],
    ["memory", "llama-2-7b", "--train", "lora", "-f", "json"],
    ["fit", "--gpu", "rtx4090", "-f", "csv"],
    ["forward", "gpt2", "--tokens", "1,2,3", "-f", "json"],
    ["kernel", "alibi", "-f", "json"],
    ["spec", "export", "gpt2"],
    ["spec", "schema"],
]


def _untimed(text: str):
    """A forward pass's JSON without its wall-clock figures (keys ending in _ms)."""
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if not k.endswith("_ms")}
        return [strip(v) for v in value] if isinstance(value, list) else value

    return strip(json.loads(text))


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_output_file_holds_the_bytes_stdout_would_have(args, tmp_path):
    shown = run(*args)
    assert shown.exit_code == 0, shown.stderr
    target = tmp_path / "out.txt"
    written = run(*args, "-o", str(target))
    assert written.exit_code == 0, written.stderr
    assert written.stdout == ""
    if args[0] == "forward":  # timings differ between runs; everything else is deterministic
        assert _untimed(target.read_text()) == _untimed(shown.stdout)
    else:
        assert target.read_bytes() == shown.stdout_bytes
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_a_failing_write_leaves_no_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(UnicodeEncodeError):  # a lone surrogate fails half-way through the write
        output.write_text('{"a": 1}\n' * 1000 + "\ud800", target)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_replaced_only_on_success(tmp_path, monkeypatch):
    target = tmp_path / "out.json"
    target.write_text("old\n")

    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(destination.os, "replace", fail)
    with pytest.raises(LlmarchError, match="disk full"):
        output.write_text("new\n", target)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
    monkeypatch.undo()
    output.write_text("new\n", target)
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_a_bad_input_with_output_creates_nothing(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old\n")
    assert_one_line_error(run("params", "nosuch-model", "-o", str(target)))
    assert_one_line_error(run("kvcache", "--context", "12XB", "-o", str(tmp_path / "new.tsv")))
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.parametrize("args", [["params", "gpt2"], ["spec", "schema"], ["kernel", "rope"]])
def test_output_in_a_missing_folder_is_one_line_exit_2(args, tmp_path):
    result = run(*args, "-o", str(tmp_path / "missing" / "out.json"))
    assert_one_line_error(result)
    assert "missing" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("args", [["params", "gpt2"], ["spec", "schema"], ["list"]])
def test_output_naming_a_folder_is_one_line_exit_2(args, tmp_path):
    assert_one_line_error(run(*args, "-o", str(tmp_path)))
    assert list(tmp_path.iterdir()) == []


def test_write_text_refuses_a_folder_with_an_llmarch_error(tmp_path):
    with pytest.raises(LlmarchError, match="is a directory"):
        output.write_text("x\n", tmp_path)
