"""safetensors headers, validated before anything trusts them.

A safetensors file is an 8-byte little-endian header length ``N``, ``N`` bytes of UTF-8 JSON
(an object mapping tensor names to ``{"dtype", "shape", "data_offsets": [begin, end]}``, plus
an optional ``"__metadata__"`` object of strings), then the data buffer. Offsets are relative
to the start of the buffer. ``read_header`` checks every claim against the file size and the
dtype's item size using exact integers, so a hostile header (a length beyond the file, invalid
UTF-8, absurd shapes, overlapping or out-of-range offsets) fails with an ``LlmarchError``
before a single tensor byte is read or allocated. The layout rules match the reference
implementation: tensors sorted by offset tile the buffer with no gap and no overlap.

Parsing reads through a ``ByteSource`` (``checkpoints.source``): two reads, the length and the
header, whatever the storage. A sharded checkpoint's ``model.safetensors.index.json`` maps each
tensor to its shard; ``folder_headers`` validates the index and every shard it names.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from llmarch_cli.checkpoints.source import ByteSource, LocalFile
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.loader import WEIGHT_FILES

# Bytes per element of each safetensors dtype that holds whole bytes.
DTYPE_BYTES: dict[str, int] = {
    "BOOL": 1, "U8": 1, "I8": 1, "F8_E5M2": 1, "F8_E4M3": 1, "F8_E8M0": 1,
    "I16": 2, "U16": 2, "F16": 2, "BF16": 2,
    "I32": 4, "U32": 4, "F32": 4,
    "I64": 8, "U64": 8, "F64": 8,
}
MAX_HEADER_BYTES = 100_000_000  # the reference implementation's limit


@dataclass(frozen=True)
class TensorInfo:
    """One tensor's entry: dtype name, shape, and [begin, end) byte offsets in the buffer."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    begin: int
    end: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class SafetensorsHeader:
    """A validated header: tensors by name, string metadata, and where the buffer starts."""

    source: ByteSource
    tensors: dict[str, TensorInfo]
    metadata: dict[str, str]
    data_start: int  # absolute file offset of the data buffer (8 + header length)

    @property
    def path(self) -> Path:
        """The file on disk (local sources only)."""
        return self.source.path  # type: ignore[attr-defined]


def read_header(path: Path) -> SafetensorsHeader:
    """Parse and validate the header of the file at ``path``; reads only the header bytes."""
    return parse_header(LocalFile(path))


def parse_header(source: ByteSource) -> SafetensorsHeader:
    """Parse and validate the header of ``source``; reads only the header bytes."""
    name, size = source.name, source.size
    if size < 8:
        raise LlmarchError(f"{name}: not a safetensors file ({size} bytes, no header length)")
    n = int.from_bytes(source.read(0, 8), "little")
    if n > size - 8:
        raise LlmarchError(f"{name}: header length {n} runs beyond the file ({size} bytes)")
    if n > MAX_HEADER_BYTES:
        raise LlmarchError(f"{name}: header length {n} exceeds {MAX_HEADER_BYTES} bytes")
    raw = source.read(8, n)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LlmarchError(f"{name}: header is not valid UTF-8") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LlmarchError(f"{name}: header is not valid JSON ({exc.msg})") from None
    except (RecursionError, ValueError):  # deep nesting; integers past 4300 digits
        raise LlmarchError(f"{name}: header JSON is nested too deeply or holds an absurd number") from None
    if not isinstance(data, dict):
        raise LlmarchError(f"{name}: header must be a JSON object, got {type(data).__name__}")
    metadata = data.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise LlmarchError(f"{name}: __metadata__ must map strings to strings")
    tensors = {key: _tensor_info(name, key, entry) for key, entry in data.items()}
    _check_layout(name, tensors, buffer_bytes=size - 8 - n)
    return SafetensorsHeader(source=source, tensors=tensors, metadata=metadata, data_start=8 + n)


def _is_count(value: object) -> bool:
    """A non-negative JSON integer (not a bool, not a float)."""
    return type(value) is int and value >= 0


def _tensor_info(file: str, key: str, entry: object) -> TensorInfo:
    """One entry, its types checked and its byte length equal to numel x item size."""
    if not isinstance(entry, dict):
        raise LlmarchError(f"{file}: tensor {key!r} entry is not an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
        raise LlmarchError(f"{file}: tensor {key!r} has unsupported dtype {dtype!r}")
    if type(shape) is not list or not all(map(_is_count, shape)):
        raise LlmarchError(f"{file}: tensor {key!r} shape must be a list of non-negative integers")
    if (
        type(offsets) is not list
        or len(offsets) != 2
        or not all(map(_is_count, offsets))
        or offsets[1] < offsets[0]
    ):
        raise LlmarchError(f"{file}: tensor {key!r} data_offsets must be [begin, end] with begin <= end")
    info = TensorInfo(key, dtype, tuple(shape), offsets[0], offsets[1])
    expected = info.numel * DTYPE_BYTES[dtype]  # exact integer: absurd shapes cannot overflow
    if expected != info.end - info.begin:
        raise LlmarchError(
            f"{file}: tensor {key!r} shape {list(shape)} ({dtype}) needs {expected} bytes "
            f"but its offsets span {info.end - info.begin}"
        )
    return info


def _check_layout(file: str, tensors: dict[str, TensorInfo], buffer_bytes: int) -> None:
    """Sorted by offset, tensors must tile [0, buffer_bytes) exactly."""
    cursor = 0
    for info in sorted(tensors.values(), key=lambda t: (t.begin, t.end)):
        if info.begin < cursor:
            raise LlmarchError(f"{file}: tensor {info.name!r} overlaps the tensor before it")
        if info.begin > cursor:
            raise LlmarchError(f"{file}: gap in the data buffer before tensor {info.name!r}")
        if info.end > buffer_bytes:
            raise LlmarchError(
                f"{file}: tensor {info.name!r} ends at byte {info.end}, beyond the "
                f"{buffer_bytes}-byte data buffer"
            )
        cursor = info.end
    if cursor != buffer_bytes:
        raise LlmarchError(
            f"{file}: data buffer has {buffer_bytes - cursor} bytes not covered by any tensor"
        )


SINGLE, INDEX = WEIGHT_FILES  # one file, or the index of its shards
MAX_INDEX_BYTES = 64 << 20  # an index lists names: a few MiB for the largest models


def parse_index(source: ByteSource) -> dict[str, str]:
    """The ``weight_map`` (tensor name -> shard file name) of a ``*.safetensors.index.json``."""
    if source.size > MAX_INDEX_BYTES:
        raise LlmarchError(f"{source.name}: {source.size} bytes, over {MAX_INDEX_BYTES >> 20} MiB "
                           "for an index")
    try:
        data = json.loads(source.read(0, source.size).decode("utf-8"))
    except UnicodeDecodeError:
        raise LlmarchError(f"{source.name}: not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise LlmarchError(f"{source.name}: not valid JSON ({exc.msg})") from None
    except (RecursionError, ValueError):
        raise LlmarchError(f"{source.name}: JSON nested too deeply or holds an absurd number") from None
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in weight_map.items()
    ):
        raise LlmarchError(f"{source.name}: weight_map must map tensor names to file names")
    for shard in set(weight_map.values()):
        if Path(shard).name != shard or shard in (".", ".."):
            raise LlmarchError(f"{source.name}: shard {shard!r} is not a plain file name in the folder")
    return weight_map


def check_index(index_name: str, weight_map: dict[str, str], headers: list[SafetensorsHeader]) -> None:
    """Every tensor the index names is in the shard it names (shards are keyed by name)."""
    by_file = {h.source.name: h for h in headers}
    for name, shard in weight_map.items():
        if name not in by_file[shard].tensors:
            raise LlmarchError(f"{index_name}: tensor {name!r} is not in {shard}")


def index_headers(index: Path) -> list[SafetensorsHeader]:
    """Validated headers of every shard an index file names, in shard-name order."""
    weight_map = parse_index(LocalFile(index))
    headers = []
    for shard in sorted(set(weight_map.values())):
        path = index.parent / shard
        if not path.is_file():
            raise LlmarchError(f"{index.name}: shard {shard!r} is missing")
        headers.append(read_header(path))
    check_index(index.name, weight_map, headers)
    return headers


def folder_headers(folder: Path) -> list[SafetensorsHeader]:
    """Validated headers of a folder's ``model.safetensors``, or of every shard of its index."""
    single, index = folder / SINGLE, folder / INDEX
    if single.is_file():
        return [read_header(single)]
    if not index.is_file():
        raise LlmarchError(f"{folder}: no {SINGLE} or {INDEX}", "only safetensors weights are read")
    return index_headers(index)
