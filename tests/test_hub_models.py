"""Hugging Face ids resolve through huggingface_hub against a local stand-in of the Hub.

Each run is a fresh ``llmarch`` process with ``HF_ENDPOINT`` pointing at the stand-in and
``HF_HOME`` at a temporary cache, so what the server counts is exactly what llmarch asked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("huggingface_hub")  # the optional [hub] extra

from hub_server import TOKEN, FakeHub, HubFile, Repo  # noqa: E402

from llmarch_cli.specs.loader import preset_config  # noqa: E402

LLAMA = json.dumps(preset_config("llama-2-7b")).encode()
MISTRAL = json.dumps(preset_config("mistral-7b-v0.1")).encode()


@pytest.fixture
def hub():
    server = FakeHub(repos={
        "acme/llama-finetune": Repo({"config.json": HubFile.of(LLAMA)}),
        "acme/gated": Repo({"config.json": HubFile.of(MISTRAL)}, gated=True),
        "acme/broken": Repo({"config.json": HubFile.of(LLAMA)}, broken=True),
        "acme/slow": Repo({"config.json": HubFile.of(LLAMA)}, slow=3.0),
        "acme/no-config": Repo({"README.md": HubFile.of(b"# hi")}),
        "acme/no-type": Repo({"config.json": HubFile.of(b'{"hidden_size": 8}')}),
    }).start()
    yield server
    server.stop()


def run(hub: FakeHub | None, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {
        "PATH": os.environ.get("PATH", ""), "NO_COLOR": "1", "HF_HOME": str(tmp_path / "hf"),
        "HF_ENDPOINT": hub.endpoint if hub else "http://127.0.0.1:9", "HF_HUB_ETAG_TIMEOUT": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1", **env,
    }
    return subprocess.run([sys.executable, "-m", "llmarch_cli", *args], capture_output=True,
                          text=True, env=environ, timeout=120)


def params(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_hub_id_counts_as_its_config_and_names_the_fetch(hub, tmp_path):
    proc = run(hub, tmp_path, "params", "acme/llama-finetune", "--json")
    assert params(proc)["total_params"] == 6_738_415_616  # Llama-2-7B, transformers' count
    assert "acme/llama-finetune: config.json fetched from" in proc.stderr
    assert hub.sent == {"config.json": len(LLAMA)}


def test_second_run_reads_the_cache_without_a_request(hub, tmp_path):
    params(run(hub, tmp_path, "params", "acme/llama-finetune", "--json"))
    before = list(hub.requests)
    proc = run(hub, tmp_path, "params", "acme/llama-finetune", "--json")
    assert params(proc)["total_params"] == 6_738_415_616
    assert hub.requests == before
    assert "read from the cache" in proc.stderr


def test_offline_uses_the_cache_with_the_server_stopped(hub, tmp_path):
    params(run(hub, tmp_path, "params", "acme/llama-finetune", "--json"))
    hub.stop()
    proc = run(None, tmp_path, "params", "acme/llama-finetune", "--json", HF_HUB_OFFLINE="1")
    assert params(proc)["total_params"] == 6_738_415_616


def test_offline_flag_on_any_command_forbids_requests(hub, tmp_path):
    params(run(hub, tmp_path, "params", "acme/llama-finetune", "--json"))
    before = list(hub.requests)
    proc = run(hub, tmp_path, "kvcache", "acme/llama-finetune", "--offline", "-c", "4k", "--json")
    assert json.loads(proc.stdout)[0]["bytes_per_token"] == 524_288  # Llama-2-7B in fp16
    proc = run(hub, tmp_path, "show", "acme/never-fetched", "--offline", "--json")
    assert proc.returncode == 2 and "offline mode is on" in proc.stderr
    assert hub.requests == before


def test_offline_without_a_cached_copy_says_so(hub, tmp_path):
    proc = run(hub, tmp_path, "params", "acme/llama-finetune", "--json", HF_HUB_OFFLINE="1")
    assert proc.returncode == 2
    assert "not in the Hugging Face cache and offline mode is on" in proc.stderr
    assert hub.requests == []


def test_a_damaged_cache_entry_is_fetched_again(hub, tmp_path):
    params(run(hub, tmp_path, "params", "acme/llama-finetune", "--json"))
    for path in (tmp_path / "hf").rglob("config.json"):
        path.resolve().write_text('{"model_type": "lla')  # a partial write
    proc = run(hub, tmp_path, "params", "acme/llama-finetune", "--json")
    assert params(proc)["total_params"] == 6_738_415_616
    assert "fetched from" in proc.stderr


def test_presets_answer_their_hub_ids_without_any_request(hub, tmp_path):
    proc = run(hub, tmp_path, "params", "meta-llama/Llama-2-7b-hf", "--json")
    assert params(proc)["total_params"] == 6_738_415_616
    assert hub.requests == []


def test_gated_model_needs_a_token(hub, tmp_path):
    proc = run(hub, tmp_path, "params", "acme/gated", "--json")
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == "llmarch: error: acme/gated is a gated model"
    assert "HF_TOKEN" in proc.stderr
    proc = run(hub, tmp_path, "params", "acme/gated", "--json", HF_TOKEN=TOKEN)
    assert params(proc)["total_params"] == 7_241_732_096  # Mistral-7B-v0.1, transformers' count


@pytest.mark.parametrize(("model", "message"), [
    ("acme/nothing-here", "no Hugging Face repository 'acme/nothing-here'"),
    ("acme/llama-finetune@v9", "acme/llama-finetune has no revision 'v9'"),
    ("acme/no-config", "acme/no-config has no config.json"),
    ("acme/broken", "the Hub answered 500 (server error) for acme/broken"),
    ("acme/slow", "the Hub did not answer within 1 s"),
    ("acme/no-type", "acme/no-type: config.json has no model_type"),
    ("acme/bad name!", "'acme/bad name!' is not a valid Hugging Face model id"),
])
def test_hub_failures_are_one_line_exit_2(hub, tmp_path, model, message):
    proc = run(hub, tmp_path, "params", model, "--json")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"llmarch: error: {message}"), proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_unreachable_hub_suggests_presets_and_offline(tmp_path):
    proc = run(None, tmp_path, "params", "acme/llama-finetune", "--json")
    assert proc.returncode == 2
    assert proc.stderr.startswith("llmarch: error: cannot reach the Hub")
    assert "--offline" in proc.stderr


def test_unknown_repository_suggests_close_presets(hub, tmp_path):
    proc = run(hub, tmp_path, "params", "acme/mistral-7b-v0.2", "--json")
    assert proc.returncode == 2
    assert "did you mean" in proc.stderr and "mistral-7b-v0.1" in proc.stderr
