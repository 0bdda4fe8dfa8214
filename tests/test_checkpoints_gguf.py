"""GGUF headers: files written by gguf's writer parse exactly as gguf's own reader sees them;
hostile headers fail with one LlmarchError before any tensor byte is needed."""

from __future__ import annotations

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmarch_cli.checkpoints.gguf import CHUNK, ArrayInfo, parse_header
from llmarch_cli.checkpoints.source import LocalFile
from llmarch_cli.errors import LlmarchError

gguf = pytest.importorskip("gguf")

from checkpoint_files import gguf_llama_shapes, record_reads, write_gguf  # noqa: E402


def test_parsed_tensors_equal_gguf_readers_types_shapes_sizes_and_offsets(tmp_path):
    path, = write_gguf(tmp_path / "tiny.gguf")
    ours = parse_header(LocalFile(path))
    reader = gguf.GGUFReader(path)
    assert ours.data_start == reader.data_offset
    assert len(ours.tensors) == len(reader.tensors)
    for t in reader.tensors:
        mine = ours.tensors[t.name]
        assert mine.type.name == t.tensor_type.name
        assert mine.shape == tuple(int(d) for d in t.shape)
        assert mine.nbytes == int(t.n_bytes)
        assert ours.data_start + mine.offset == int(t.data_offset)
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        value = ours.metadata[key]
        if isinstance(value, ArrayInfo):
            assert value.length == len(field.data)
        else:
            expected = field.contents()
            assert value == (pytest.approx(expected) if isinstance(expected, float) else expected)


def test_block_sizes_match_ggml_layouts(tmp_path):
    """Q8_0: 34 bytes per 32 weights; Q4_K: 144 per 256; Q6_K: 210 per 256 (ggml-common.h)."""
    path, = write_gguf(tmp_path / "tiny.gguf")
    header = parse_header(LocalFile(path))
    per_block = {"Q8_0": (32, 34), "Q4_K": (256, 144), "Q6_K": (256, 210), "F16": (1, 2), "F32": (1, 4)}
    for name, (shape, kind) in gguf_llama_shapes().items():
        t = header.tensors[name]
        block, size = per_block[kind]
        assert t.type.name == kind
        assert t.shape == tuple(reversed(shape))  # ggml order: row length first
        assert t.nbytes == shape[0] * shape[-1] // block * size if len(shape) == 2 else shape[0] * size


# Raw GGUF bytes, to build what no writer would.
def _str(text: str | bytes, length: int | None = None) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw) if length is None else length) + raw


def _kv_u32(key: str, value: int) -> bytes:
    return _str(key) + struct.pack("<II", 4, value)


def _tensor(name: str, dims: tuple[int, ...], ttype: int = 0, offset: int = 0) -> bytes:
    return (_str(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
            + struct.pack("<IQ", ttype, offset))


def _file(path, kvs: list[bytes] = (), tensors: list[bytes] = (), *, magic=b"GGUF", version=3,
          n_kv=None, n_tensors=None, data=b"", tail=8 << 20):
    """A GGUF file; ``tail`` bytes (a hole, 8 MiB) after ``data`` stand for more tensor data."""
    head = (magic + struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                                len(kvs) if n_kv is None else n_kv)
            + b"".join(kvs) + b"".join(tensors))
    head += b"\0" * (-len(head) % 32)
    with open(path, "wb") as fh:
        fh.write(head + data)
        fh.truncate(len(head) + len(data) + tail)
    return path


HOSTILE = {
    "bad-magic": (lambda p: _file(p, magic=b"GGUX"), "bad magic"),
    "bad-version": (lambda p: _file(p, version=7), "version 7 is not supported"),
    "big-endian": (lambda p: _file(p, version=3 << 24), "big-endian"),
    "unknown-tensor-type": (lambda p: _file(p, tensors=[_tensor("w", (32,), ttype=99)], data=b"\0" * 128),
                            "unknown ggml type 99"),
    "string-beyond-file": (lambda p: _file(p, kvs=[_str("general.name", length=2**40)]),
                           "beyond the file"),
    "array-beyond-file": (lambda p: _file(p, kvs=[_str("tokens") + struct.pack("<IIQ", 9, 4, 2**40)]),
                          "length 1099511627776 runs beyond the file"),
    "metadata-count-absurd": (lambda p: _file(p, n_kv=2**62), "metadata count"),
    "tensor-count-absurd": (lambda p: _file(p, n_tensors=2**62), "tensor count"),
    "key-invalid-utf8": (lambda p: _file(p, kvs=[_str(b"\xff\xfe") + struct.pack("<II", 4, 1)]),
                         "not valid UTF-8"),
    "unknown-value-type": (lambda p: _file(p, kvs=[_str("k") + struct.pack("<II", 77, 0)]),
                           "unknown value type 77"),
    "duplicate-key": (lambda p: _file(p, kvs=[_kv_u32("k", 1), _kv_u32("k", 2)]), "appears twice"),
    "tensor-beyond-data": (lambda p: _file(p, tensors=[_tensor("w", (2**30,))]),
                           "runs beyond the 8388608-byte data section"),
    "tensors-overlap": (lambda p: _file(p, tensors=[_tensor("a", (16,)), _tensor("b", (16,))],
                                        data=b"\0" * 128), "overlaps"),
    "offset-unaligned": (lambda p: _file(p, tensors=[_tensor("w", (4,), offset=4)], data=b"\0" * 64),
                         "not a multiple of the alignment"),
    "partial-block": (lambda p: _file(p, tensors=[_tensor("w", (33,), ttype=8)], data=b"\0" * 64),
                      "not whole Q8_0 blocks"),
    "too-many-dims": (lambda p: _file(p, tensors=[_tensor("w", (1, 1, 1, 1, 1))], data=b"\0" * 32),
                      "5 dimensions"),
    "bad-alignment": (lambda p: _file(p, kvs=[_kv_u32("general.alignment", 24)]), "power of two"),
    "truncated": (lambda p: p.write_bytes(b"GGUF" + struct.pack("<I", 3) + b"\1") and p, "beyond the file"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_header_is_one_error_that_reads_no_tensor_data(tmp_path, monkeypatch, case):
    build, message = HOSTILE[case]
    path = build(tmp_path / "bad.gguf")
    reads = record_reads(monkeypatch)
    with pytest.raises(LlmarchError, match=message) as info:
        parse_header(LocalFile(path))
    assert "\n" not in info.value.message
    assert sum(reads) <= CHUNK  # one chunk of read-ahead at most, never the data


@pytest.fixture(scope="module")
def small_gguf(tmp_path_factory) -> bytes:
    """A valid header with strings, an array, several tensor types; data as a few bytes."""
    kvs = [_str("general.architecture") + struct.pack("<I", 8) + _str("llama"),
           _kv_u32("llama.block_count", 1), _str("tokens") + struct.pack("<IIQ", 8, 8, 2) + _str("a") + _str("bc")]
    tensors = [_tensor("a", (32,), ttype=8, offset=0), _tensor("b", (4, 2), ttype=0, offset=64)]
    path = _file(tmp_path_factory.mktemp("fuzz") / "s.gguf", kvs, tensors, data=b"\0" * 96, tail=0)
    return path.read_bytes()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_corruption_of_a_header_is_parsed_or_one_llmarch_error(tmp_path, small_gguf, data):
    raw = bytearray(small_gguf)
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    path = tmp_path / "fuzz.gguf"
    path.write_bytes(bytes(raw[:cut] if data.draw(st.booleans()) else raw))
    try:
        parse_header(LocalFile(path))
    except LlmarchError as exc:
        assert "\n" not in exc.message
