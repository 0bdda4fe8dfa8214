"""Remote inspect: a Hub id's checkpoint headers over HTTP ranges, against the local stand-in.

The 100 GB checkpoint is bench/sparse_checkpoint.py's (shards holding headers only, the data a
hole); the stand-in serves each shard's header bytes and reads zeros past them, counting every
byte it sends, so the test proves that only headers crossed the wire.
"""

from __future__ import annotations

import importlib.util
import json
import struct
from pathlib import Path

import pytest

pytest.importorskip("huggingface_hub")  # the optional [hub] extra

from checkpoint_files import write_gguf  # noqa: E402
from hub_server import FakeHub, HubFile, Repo  # noqa: E402
from test_hub_models import run  # noqa: E402

BENCH = Path(__file__).resolve().parents[1] / "bench" / "sparse_checkpoint.py"


def _sparse_builder():
    spec = importlib.util.spec_from_file_location("sparse_checkpoint", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def header_bytes(path: Path) -> int:
    """8 + the header length of a safetensors file."""
    with path.open("rb") as fh:
        return 8 + struct.unpack("<Q", fh.read(8))[0]


def as_hub_file(path: Path) -> HubFile:
    """A file served with only its header stored (the rest reads as zeros, as on disk)."""
    size = path.stat().st_size
    if path.suffix == ".safetensors":
        with path.open("rb") as fh:
            return HubFile(fh.read(header_bytes(path)), size)
    return HubFile.of(path.read_bytes())


@pytest.fixture(scope="module")
def sparse(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sparse")
    _sparse_builder().build(folder)
    return folder


@pytest.fixture
def hub(sparse, tmp_path):
    gguf = tmp_path / "tiny-q8_0.gguf"
    write_gguf(gguf)
    server = FakeHub(repos={
        "acme/big": Repo({p.name: as_hub_file(p) for p in sparse.iterdir()}),
        "acme/tiny-gguf": Repo({gguf.name: as_hub_file(gguf)}),
    }).start()
    yield server
    server.stop()


def inspect_json(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_remote_sharded_checkpoint_sends_headers_only_and_counts_like_local(hub, sparse, tmp_path):
    remote = inspect_json(run(hub, tmp_path, "inspect", "acme/big", "--json"))
    local = inspect_json(run(hub, tmp_path, "inspect", str(sparse), "--json"))
    # 2 x 128,256 x 8,192 (embeddings, head) + 8,192 (final norm) + 56 layers x (2 x 8,192^2
    # + 2 x 1,024 x 8,192 + 3 x 28,672 x 8,192 + 2 x 8,192), two bytes each in BF16
    assert remote["total_params"] == local["total_params"] == 50_018_000_896
    assert remote["bytes"] == local["bytes"] == {"BF16": 100_036_001_792}
    assert remote["architecture"] == local["architecture"]
    shards = sorted(sparse.glob("*.safetensors"))
    assert {k: v for k, v in hub.sent.items() if k.endswith(".safetensors")} == {
        p.name: header_bytes(p) for p in shards}
    index = (sparse / "model.safetensors.index.json").stat().st_size
    config = (sparse / "config.json").stat().st_size
    assert hub.bytes_sent == sum(header_bytes(p) for p in shards) + index + config
    assert hub.bytes_sent < 20 * 1024 * len(shards)  # a few kilobytes per shard of ~5 GB


def test_remote_gguf_file_reads_its_header(hub, tmp_path):
    remote = inspect_json(run(hub, tmp_path, "inspect", "acme/tiny-gguf", "--file",
                              "tiny-q8_0.gguf", "--json"))
    local_path = next(tmp_path.glob("*.gguf"))
    local = inspect_json(run(hub, tmp_path, "inspect", str(local_path), "--json"))
    assert remote["total_params"] == local["total_params"]
    assert remote["bytes"] == local["bytes"]


def test_remote_against_a_preset_uses_the_same_comparison(hub, tmp_path):
    proc = run(hub, tmp_path, "inspect", "acme/big", "--against", "llama-3-70b", "--json")
    assert proc.returncode == 3, proc.stderr  # 56 of 80 layers: a mismatch, for scripts
    assert json.loads(proc.stdout)["against"]["match"] is False


def test_offline_remote_inspect_makes_no_request(hub, tmp_path):
    proc = run(hub, tmp_path, "inspect", "acme/big", "--offline", "--json")
    assert proc.returncode == 2
    assert "not in the Hugging Face cache and offline mode is on" in proc.stderr
    assert hub.requests == []


@pytest.mark.parametrize(("args", "message"), [
    (["acme/big", "--file", "weights.bin"], "--file 'weights.bin' is not a GGUF file"),
    (["acme/tiny-gguf", "--file", "other.gguf"], "acme/tiny-gguf has no other.gguf"),
    (["acme/nope"], "no Hugging Face repository 'acme/nope'"),
])
def test_remote_inspect_errors_are_one_line(hub, tmp_path, args, message):
    proc = run(hub, tmp_path, "inspect", *args, "--json")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith(f"llmarch: error: {message}"), proc.stderr
