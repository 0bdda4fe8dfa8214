"""safetensors headers: valid files parse; hostile headers fail with one LlmarchError, unread."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmarch_cli.checkpoints.safetensors import read_header
from llmarch_cli.errors import LlmarchError

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def _write(path, header: bytes, data: bytes = b"", length: int | None = None):
    """A raw safetensors file: 8-byte little-endian length, header bytes, data buffer."""
    n = len(header) if length is None else length
    path.write_bytes(struct.pack("<Q", n) + header + data)
    return path


def _entry(dtype="F32", shape=(2,), begin=0, end=8):
    return {"dtype": dtype, "shape": list(shape), "data_offsets": [begin, end]}


def _json(path, entries: dict, data: bytes):
    return _write(path, json.dumps(entries).encode(), data)


def test_header_written_by_safetensors_lists_names_shapes_dtypes_and_offsets(tmp_path):
    path = tmp_path / "ok.safetensors"
    safetensors_numpy.save_file(
        {"a": np.zeros((2, 3), np.float32), "b": np.zeros(5, np.float16)}, str(path),
        metadata={"format": "np"},
    )
    header = read_header(path)
    assert {n: (t.dtype, t.shape) for n, t in header.tensors.items()} == {
        "a": ("F32", (2, 3)), "b": ("F16", (5,)),
    }
    assert header.metadata == {"format": "np"}
    assert sum(t.end - t.begin for t in header.tensors.values()) == 2 * 3 * 4 + 5 * 2


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda p: _write(p, b"{}", length=10**12), "beyond the file"),
        (lambda p: p.write_bytes(b"\x01\x02") and p, "no header length"),
        (lambda p: _write(p, b'{"a": "\xff\xfe"}'), "not valid UTF-8"),
        (lambda p: _write(p, b"[1, 2, 3]"), "must be a JSON object"),
        (lambda p: _write(p, b"{not json"), "not valid JSON"),
        (lambda p: _json(p, {"a": _entry(shape=(2**40, 2**40), end=8)}, b"\0" * 8), "needs"),
        (lambda p: _json(p, {"a": _entry(shape=(-1,))}, b"\0" * 8), "non-negative"),
        (lambda p: _json(p, {"a": _entry(dtype="F99")}, b"\0" * 8), "unsupported dtype"),
        (lambda p: _json(p, {"a": _entry(shape=(3,))}, b"\0" * 8), "needs 12 bytes"),
        (lambda p: _json(p, {"a": _entry(), "b": _entry(shape=(1,), begin=4, end=8)}, b"\0" * 8),
         "overlaps"),
        (lambda p: _json(p, {"a": _entry(begin=8, end=16)}, b"\0" * 8), "gap"),
        (lambda p: _json(p, {"a": _entry()}, b"\0" * 4), "beyond the 4-byte data buffer"),
        (lambda p: _json(p, {"a": _entry()}, b"\0" * 12), "not covered"),
        (lambda p: _json(p, {"a": _entry(begin=8, end=0)}, b"\0" * 8), "begin <= end"),
        (lambda p: _json(p, {"__metadata__": {"k": 1}}, b""), "__metadata__"),
    ],
    ids=["length-beyond-file", "truncated", "invalid-utf8", "non-object", "not-json",
         "absurd-shape", "negative-dim", "unknown-dtype", "size-mismatch", "overlap", "gap",
         "out-of-range", "trailing-bytes", "reversed-offsets", "bad-metadata"],
)
def test_hostile_header_is_one_line_error(tmp_path, build, message):
    path = build(tmp_path / "bad.safetensors")
    with pytest.raises(LlmarchError, match=message) as info:
        read_header(path)
    assert "\n" not in info.value.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_corruption_of_a_header_is_parsed_or_one_llmarch_error(tmp_path, data):
    header = json.dumps({"a": _entry(), "b": _entry(dtype="F16", shape=(2, 2), begin=8, end=16),
                         "__metadata__": {"format": "pt"}}).encode()
    raw = bytearray(struct.pack("<Q", len(header)) + header + b"\0" * 16)
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    path = tmp_path / "fuzz.safetensors"
    path.write_bytes(bytes(raw[:cut] if data.draw(st.booleans()) else raw))
    try:
        read_header(path)
    except LlmarchError as exc:
        assert "\n" not in exc.message
