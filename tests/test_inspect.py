"""``llmarch inspect`` on real files: safetensors written by the safetensors package (single,
sharded, a 100 GB sparse index), GGUF written by gguf's writer (Q8_0, Q4_K, Q6_K; split). The
expected counts are the element counts and block layouts of what the tests wrote."""

from __future__ import annotations

import importlib.util
import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import pytest
from checkpoint_files import (
    LLAMA,
    gguf_llama_shapes,
    llama_shapes,
    record_reads,
    write_gguf,
    write_safetensors,
)
from test_cli_bad_input import assert_one_line_error
from test_import_graph import loaded_packages
from typer.testing import CliRunner

from llmarch_cli.cli.app import app

ROOT = Path(__file__).resolve().parents[1]


def inspect(*args: str, code: int = 0) -> dict:
    result = CliRunner().invoke(app, ["inspect", *map(str, args), "--json"])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


@pytest.fixture
def folder(tmp_path):
    return write_safetensors(tmp_path / "tiny-llama", llama_shapes(), LLAMA)


def test_safetensors_folder_counts_every_element_written_and_its_bytes(folder):
    shapes = llama_shapes()
    params = sum(math.prod(s) for s in shapes.values())
    out = inspect(folder)
    assert out["total_params"] == params
    assert out["dtypes"] == {"F16": params}
    assert out["bytes"] == {"F16": 2 * params}
    assert out["bits_per_weight"] == 16.0
    assert out["format"] == "safetensors" and out["files"] == 1
    assert out["file_bytes"] == (folder / "model.safetensors").stat().st_size
    assert "tensors" not in out


def test_architecture_from_config_json_gives_the_spec_count_memory_and_kv_per_token(folder):
    arch = inspect(folder)["architecture"]
    assert arch["source"] == "config.json" and arch["model_type"] == "llama"
    assert arch["spec_params"] == sum(math.prod(s) for s in llama_shapes().values())
    assert arch["params_match"] is True
    # 2 (K and V) x 2 layers x 2 KV heads x head_dim 16 x 2 bytes (fp16)
    assert arch["kv_bytes_per_token"] == 2 * 2 * 2 * 16 * 2
    memory = CliRunner().invoke(app, ["memory", str(folder), "--quant", "fp16", "-c", "256",
                                      "--json"])
    assert arch["memory_bytes"] == json.loads(memory.stdout)["total_bytes"]
    assert arch["weight_format"] == "fp16" and arch["context"] == 256


def test_fp16_estimate_equals_the_file_bytes(folder):
    estimate = inspect(folder)["estimate"]
    assert estimate["weight_format"] == "fp16"
    assert estimate["estimated_bytes"] == estimate["file_bytes"]
    assert estimate["ratio"] == 1.0


def test_sharded_index_and_its_folder_equal_the_single_file(folder, tmp_path):
    single = inspect(folder / "model.safetensors")
    sharded = write_safetensors(tmp_path / "sharded", llama_shapes(), LLAMA, shards=3)
    for path in (sharded, sharded / "model.safetensors.index.json"):
        out = inspect(path)
        assert out["files"] == 3
        for key in ("total_params", "total_bytes", "dtypes", "bytes", "architecture"):
            assert out[key] == single[key], key


def test_groups_by_layer_and_kind_and_tensors_lists_each(folder):
    out = inspect(folder, "--tensors")
    q = next(g for g in out["groups"] if g["kind"] == "model.layers.{i}.self_attn.q_proj.weight")
    assert q == {"kind": "model.layers.{i}.self_attn.q_proj.weight", "layers": "0-1", "tensors": 2,
                 "shape": [64, 64], "dtypes": ["F16"], "params": 2 * 64 * 64,
                 "bytes": 2 * 64 * 64 * 2, "buffer": False}
    assert {t["name"]: tuple(t["shape"]) for t in out["tensors"]} == llama_shapes()
    assert sum(g["params"] for g in out["groups"]) == out["total_params"]


def test_buffers_in_the_file_are_listed_and_not_counted(tmp_path):
    """A GPT-2 file as the hub stores it: h.{i}.attn.bias causal masks are buffers."""
    h, n, v = 32, 16, 50
    shapes = {"wte.weight": (v, h), "wpe.weight": (n, h), "ln_f.weight": (h,), "ln_f.bias": (h,)}
    for i in range(2):
        p = f"h.{i}."
        shapes |= {p + "ln_1.weight": (h,), p + "ln_1.bias": (h,), p + "ln_2.weight": (h,),
                   p + "ln_2.bias": (h,), p + "attn.c_attn.weight": (h, 3 * h),
                   p + "attn.c_attn.bias": (3 * h,), p + "attn.c_proj.weight": (h, h),
                   p + "attn.c_proj.bias": (h,), p + "mlp.c_fc.weight": (h, 4 * h),
                   p + "mlp.c_fc.bias": (4 * h,), p + "mlp.c_proj.weight": (4 * h, h),
                   p + "mlp.c_proj.bias": (h,), p + "attn.bias": (1, 1, n, n)}
    config = {"model_type": "gpt2", "n_embd": h, "n_head": 4, "n_layer": 2, "n_positions": n,
              "vocab_size": v}
    out = inspect(write_safetensors(tmp_path / "gpt2", shapes, config, dtype=np.float32))
    masks = 2 * n * n
    assert out["total_params"] == sum(math.prod(s) for s in shapes.values()) - masks
    assert out["buffer_elements"] == masks
    assert [b["name"] for b in out["buffers"]] == ["h.0.attn.bias", "h.1.attn.bias"]
    assert out["architecture"]["params_match"] is True


def test_without_config_the_family_and_sizes_come_from_tensor_names(tmp_path):
    out = inspect(write_safetensors(tmp_path / "bare", llama_shapes(), None))
    arch = out["architecture"]
    assert (arch["source"], arch["num_layers"], arch["hidden_size"], arch["vocab_size"]) == (
        "tensor names", 2, 64, 96)
    assert "spec_params" not in arch or arch["spec_params"] is None


# GGUF: Q8_0 = 34 bytes per 32 weights, Q4_K = 144 per 256, Q6_K = 210 per 256 (ggml-common.h).
BLOCKS = {"Q8_0": (32, 34), "Q4_K": (256, 144), "Q6_K": (256, 210), "F16": (1, 2), "F32": (1, 4)}


def _gguf_expected(tied: bool = False) -> tuple[dict[str, int], dict[str, int]]:
    params: dict[str, int] = {}
    nbytes: dict[str, int] = {}
    for shape, kind in gguf_llama_shapes(tied).values():
        block, size = BLOCKS[kind]
        params[kind] = params.get(kind, 0) + math.prod(shape)
        nbytes[kind] = nbytes.get(kind, 0) + math.prod(shape) // block * size
    return params, nbytes


def test_gguf_counts_bytes_by_quant_type_and_real_bits_per_weight(tmp_path):
    path, = write_gguf(tmp_path / "tiny-q4_k_m.gguf")
    out = inspect(path)
    params, nbytes = _gguf_expected()
    assert out["dtypes"] == params and out["bytes"] == nbytes
    assert out["total_params"] == sum(params.values())
    assert out["bits_per_weight"] == round(sum(nbytes.values()) * 8 / sum(params.values()), 4)
    assert out["dtype_bits_per_weight"] == {"Q4_K": 4.5, "Q8_0": 8.5, "Q6_K": 6.5625, "F16": 16.0,
                                            "F32": 32.0}
    assert out["format"] == "gguf" and out["file_bytes"] == path.stat().st_size


def test_gguf_architecture_from_metadata_builds_the_llama_spec(tmp_path):
    path, = write_gguf(tmp_path / "tiny.gguf")
    arch = inspect(path)["architecture"]
    assert (arch["source"], arch["model_type"], arch["name"]) == ("gguf metadata", "llama", "tiny-llama")
    assert (arch["num_layers"], arch["hidden_size"], arch["num_heads"], arch["num_kv_heads"],
            arch["vocab_size"]) == (2, 256, 4, 2, 320)
    assert arch["params_match"] is True
    assert arch["weight_format"] == "q4_k_m"  # general.file_type MOSTLY_Q4_K_M


def test_gguf_estimate_puts_memory_quant_beside_the_real_bytes(tmp_path):
    path, = write_gguf(tmp_path / "tiny.gguf", file_type="MOSTLY_Q8_0")
    out = inspect(path)
    params = out["total_params"]
    estimate = out["estimate"]
    assert estimate["weight_format"] == "q8_0"
    assert estimate["estimated_bytes"] == math.ceil(params * 8.5 / 8)  # q8_0 over every tensor
    assert estimate["file_bytes"] == out["total_bytes"]
    assert estimate["ratio"] == round(estimate["estimated_bytes"] / out["total_bytes"], 4)


def test_qwen2_gguf_builds_the_qwen2_spec_with_its_qkv_biases(tmp_path):
    path, = write_gguf(tmp_path / "qwen.gguf", arch="qwen2")
    out = inspect(path)
    assert out["architecture"]["model_type"] == "qwen2"
    assert out["total_params"] == sum(math.prod(s) for s, _ in gguf_llama_shapes(arch="qwen2").values())
    assert out["architecture"]["params_match"] is True


def test_gpt_neox_gguf_rotary_dimensions_become_rotary_pct():
    from llmarch_cli.checkpoints.architecture import gguf_config

    meta = {"general.architecture": "gptneox", "gptneox.embedding_length": 64,
            "gptneox.attention.head_count": 4, "gptneox.rope.dimension_count": 4,
            "gptneox.block_count": 2, "gptneox.use_parallel_residual": True}
    config = gguf_config(meta, {"output.weight"})
    assert config["model_type"] == "gpt_neox" and config["rotary_pct"] == 0.25
    assert config["tie_word_embeddings"] is False and config["use_parallel_residual"] is True


@pytest.mark.parametrize("drop", ["gptneox.embedding_length", "gptneox.attention.head_count"])
def test_gpt_neox_gguf_rotary_dimensions_without_head_size_is_a_clean_error(drop):
    from llmarch_cli.checkpoints.architecture import gguf_config
    from llmarch_cli.errors import LlmarchError

    meta = {"general.architecture": "gptneox", "gptneox.embedding_length": 64,
            "gptneox.attention.head_count": 4, "gptneox.rope.dimension_count": 4}
    meta[drop] = 0
    with pytest.raises(LlmarchError, match="rope.dimension_count needs positive integer"):
        gguf_config(meta, set())
    del meta[drop]
    with pytest.raises(LlmarchError, match="rope.dimension_count needs positive integer"):
        gguf_config(meta, set())


def test_a_file_type_memory_cannot_size_says_so_instead_of_estimating(tmp_path):
    path, = write_gguf(tmp_path / "mx.gguf", file_type="MOSTLY_MXFP4_MOE")
    out = inspect(path)
    assert "estimate" not in out
    assert out["architecture"]["note"] == "llmarch memory has no format for file type MXFP4_MOE: no estimate"


def test_an_architecture_without_a_spec_reader_is_still_inspected(tmp_path):
    path, = write_gguf(tmp_path / "other.gguf", arch="rwkv6")
    out = inspect(path)
    assert out["total_params"] == sum(_gguf_expected()[0].values())
    assert out["architecture"]["model_type"] == "rwkv6"
    assert out["architecture"]["note"].startswith("llmarch has no spec reader for GGUF architecture 'rwkv6'")


def test_tied_gguf_has_no_output_tensor_and_still_matches_its_spec(tmp_path):
    path, = write_gguf(tmp_path / "tied.gguf", tied=True)
    out = inspect(path)
    assert out["total_params"] == sum(_gguf_expected(tied=True)[0].values())
    assert out["architecture"]["params_match"] is True


def test_split_gguf_from_any_split_equals_the_single_file(tmp_path):
    single = inspect(write_gguf(tmp_path / "one.gguf")[0])
    (tmp_path / "split").mkdir()
    splits = write_gguf(tmp_path / "split" / "tiny.gguf", split_max_tensors=8)
    assert len(splits) == 3
    out = inspect(splits[1])
    assert out["files"] == 3
    for key in ("total_params", "total_bytes", "dtypes", "bytes"):
        assert out[key] == single[key]


def test_a_missing_split_is_one_error(tmp_path):
    splits = write_gguf(tmp_path / "tiny.gguf", split_max_tensors=8)
    splits[2].unlink()
    result = CliRunner().invoke(app, ["inspect", str(splits[0])])
    assert_one_line_error(result, "tiny-00003-of-00003.gguf is missing")


def _sparse():
    spec = importlib.util.spec_from_file_location("sparse_checkpoint",
                                                  ROOT / "bench" / "sparse_checkpoint.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_100_gb_sharded_checkpoint_is_read_from_headers_only(tmp_path, monkeypatch):
    total = _sparse().build(tmp_path / "big")
    assert total > 100 * 10**9
    reads = record_reads(monkeypatch)
    out = inspect(tmp_path / "big")
    assert out["total_bytes"] == total and out["total_params"] == total // 2
    assert out["architecture"]["params_match"] is True
    assert sum(reads) < 1 << 20  # headers and the index: well under a MiB of 100 GB


def _safetensors(path: Path, header: bytes, data: bytes = b"", length: int | None = None) -> Path:
    path.write_bytes(struct.pack("<Q", len(header) if length is None else length) + header + data)
    return path


def _entry(dtype="F32", shape=(2,), begin=0, end=8):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": [begin, end]}


def _absurd(path: Path) -> Path:
    """A header length of 150 MB inside a 200 MB (sparse) file: over the 100 MB limit."""
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", 150_000_000))
        fh.truncate(200_000_000)
    return path


def _missing_shard(path: Path) -> Path:
    folder = path.parent / "sharded"
    write_safetensors(folder, llama_shapes(), LLAMA, shards=3)
    (folder / "model-00002-of-00003.safetensors").unlink()
    return folder


BAD = {
    "length-beyond-file": (lambda p: _safetensors(p, b"{}", length=10**12), "beyond the file"),
    "absurd-length": (_absurd, "exceeds 100000000 bytes"),
    "truncated-json": (lambda p: _safetensors(p, b'{"a": {"dtype": "F32", "sha'), "not valid JSON"),
    "invalid-utf8": (lambda p: _safetensors(p, b'{"a": "\xff\xfe"}'), "not valid UTF-8"),
    "missing-shard": (_missing_shard, "shard 'model-00002-of-00003.safetensors' is missing"),
    "overlapping": (lambda p: _safetensors(p, json.dumps(
        {"a": _entry(), "b": _entry(shape=(1,), begin=4, end=8)}).encode(), b"\0" * 8), "overlaps"),
    "out-of-range": (lambda p: _safetensors(p, json.dumps({"a": _entry()}).encode(), b"\0" * 4),
                     "beyond the 4-byte data buffer"),
    "size-vs-shape": (lambda p: _safetensors(p, json.dumps({"a": _entry(shape=(3,))}).encode(),
                                             b"\0" * 8), "needs 12 bytes"),
    "dtype-not-a-string": (lambda p: _safetensors(p, b'{"a": {"dtype": [], "shape": [], '
                                                     b'"data_offsets": [0, 0]}}'), "unsupported dtype"),
    "absurd-integer": (lambda p: _safetensors(p, b'{"a": {"shape": [' + b"9" * 5000 + b"]}}"),
                       "absurd number"),
    "bad-config-json": (lambda p: (write_safetensors(p.parent / "cfg", llama_shapes(), None),
                                   (p.parent / "cfg" / "config.json").write_bytes(b"{\xff"),
                                   p.parent / "cfg")[2], "config.json: not valid JSON"),
    "gguf-bad-magic": (lambda p: (p.with_suffix(".gguf").write_bytes(b"GGUX" + b"\0" * 60),
                                  p.with_suffix(".gguf"))[1], "bad magic"),
    "gguf-bad-version": (lambda p: (p.with_suffix(".gguf").write_bytes(
        b"GGUF" + struct.pack("<IQQ", 1, 0, 0)), p.with_suffix(".gguf"))[1], "version 1"),
    "no-such-path": (lambda p: p.parent / "nothing-here", "no such file or folder"),
    "folder-without-weights": (lambda p: p.parent, "no model.safetensors"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_exits_2_with_one_line(tmp_path, monkeypatch, case):
    build, message = BAD[case]
    path = build(tmp_path / "bad.safetensors")
    reads = record_reads(monkeypatch)
    assert_one_line_error(CliRunner().invoke(app, ["inspect", str(path)]), message)
    assert sum(reads) < 1 << 20  # the header at most, never the data


def test_json_keys_the_issue_names(folder):
    out = inspect(folder, "--tensors")
    assert {"total_params", "bytes", "bits_per_weight", "dtypes", "architecture", "tensors"} <= set(out)


def test_several_paths_give_a_json_list_and_tables_for_each(folder, tmp_path):
    gguf_path, = write_gguf(tmp_path / "tiny.gguf")
    out = inspect(folder, gguf_path)
    assert [o["format"] for o in out] == ["safetensors", "gguf"]
    table = CliRunner().invoke(app, ["inspect", str(folder), str(gguf_path), "-f", "md"])
    assert table.exit_code == 0
    assert "model.layers.{i}.self_attn.q_proj.weight" in table.stdout
    assert "blk.{i}.ffn_gate.weight" in table.stdout and "Q4_K" in table.stdout


def test_tsv_rows_are_the_groups_with_raw_numbers(folder):
    result = CliRunner().invoke(app, ["inspect", str(folder), "-f", "tsv"])
    lines = result.stdout.splitlines()
    assert lines[0].split("\t") == ["kind", "layers", "tensors", "shape", "dtypes",
                                    "group_params", "group_bytes"]
    assert "model.layers.{i}.mlp.down_proj.weight\t0-1\t2\t64x128\tF16\t16384\t32768" in lines


def test_safetensors_json_path_imports_neither_numpy_nor_rich(folder):
    loaded = loaded_packages("inspect", str(folder), "--json")
    assert "numpy" not in loaded and "rich" not in loaded


def test_gguf_json_path_imports_no_rich(tmp_path):
    path, = write_gguf(tmp_path / "tiny.gguf")
    assert "rich" not in loaded_packages("inspect", str(path), "--json")  # gguf imports numpy


def test_without_the_gguf_package_a_gguf_file_is_one_error_naming_the_extra(tmp_path, monkeypatch):
    from llmarch_cli.checkpoints import gguf as reader

    path, = write_gguf(tmp_path / "tiny.gguf")
    reader.tensor_types.cache_clear()
    monkeypatch.setitem(sys.modules, "gguf.constants", None)
    try:
        result = CliRunner().invoke(app, ["inspect", str(path)])
    finally:
        reader.tensor_types.cache_clear()
    assert_one_line_error(result, "needs the gguf package")
    assert "pip install 'llmarch[gguf]'" in result.stderr
