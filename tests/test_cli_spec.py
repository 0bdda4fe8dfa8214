"""spec schema / export / validate: the exported file is accepted back, identical."""

from __future__ import annotations

import json

import pytest
from conftest import run

from llmarch_cli.specs.loader import load_model, load_preset
from llmarch_cli.specs.model import ArchSpec
from llmarch_cli.specs.registry import preset_ids


def test_schema_is_the_archspec_json_schema():
    result = run("spec", "schema")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == ArchSpec.model_json_schema()


@pytest.mark.parametrize("fmt", ["toml", "json"])
@pytest.mark.parametrize("preset", preset_ids())
def test_export_round_trips_through_every_model_argument(preset, fmt, tmp_path):
    target = tmp_path / f"{preset}.{fmt}"
    result = run("spec", "export", preset, "--format", fmt, "-o", str(target))
    assert result.exit_code == 0, result.stderr
    assert load_model(str(target)) == load_preset(preset)
    check = run("spec", "validate", str(target))
    assert check.exit_code == 0
    assert check.stdout.startswith(f"{target}: OK") and check.stdout.count("\n") == 1


def test_export_to_stdout_reads_back_through_stdin():
    exported = run("spec", "export", "mistral", "--format", "json").stdout
    shown = run("show", "-", "--json", stdin=exported)
    assert json.loads(shown.stdout) == load_preset("mistral-7b-v0.1").model_dump(mode="json")


def test_export_with_a_what_if_override():
    exported = json.loads(run("spec", "export", "llama-2-7b", "-f", "json", "--gqa", "4").stdout)
    assert exported["attention"]["num_kv_heads"] == 4


def test_validate_accepts_a_config_json(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    result = run("spec", "validate", str(tmp_path))
    assert result.exit_code == 0 and ": OK" in result.stdout


def test_validate_reports_the_first_bad_field(tmp_path):
    exported = json.loads(run("spec", "export", "gpt2", "-f", "json").stdout)
    exported["attention"]["num_kv_heads"] = 5
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(exported))
    result = run("spec", "validate", str(path))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"llmarch: error: {path}: invalid spec: attention")
    assert result.stdout == ""


def test_validate_of_a_missing_file(tmp_path):
    result = run("spec", "validate", str(tmp_path / "gone.toml"))
    assert result.exit_code == 2 and result.stderr.startswith("llmarch: error:")
