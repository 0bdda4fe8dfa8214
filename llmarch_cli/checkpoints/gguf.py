"""GGUF headers (llama.cpp's file format), validated before anything trusts them.

Layout (GGUF v2/v3, little-endian): magic ``GGUF``, version u32, tensor count u64, metadata
count u64; then each metadata pair (key: u64 length + UTF-8, value type u32, value); then each
tensor's info (name, dimension count u32, dimensions u64 innermost first, ggml type u32, offset
u64 relative to the data section); then padding to ``general.alignment`` (default 32) and the
tensor data. Strings are a u64 length and bytes; arrays an element type u32, a u64 count and
the elements.

The parser reads through a ``ByteSource`` in chunks and checks every length and count against
the bytes that remain before reading, so a hostile header (a string or array longer than the
file, a bad magic or version, an unknown tensor type, offsets out of range or overlapping)
fails with one ``LlmarchError`` and no tensor byte is ever read. Block sizes and byte sizes of
the ggml tensor types come from the ``gguf`` package (llama.cpp's own Python library, the
``gguf`` extra), imported on first use; it imports numpy. That package's own ``GGUFReader``
memory-maps the whole file (``np.memmap``), views every tensor and validates little, so it can
neither run over HTTP ranges nor refuse hostile lengths cleanly; the tests compare this parser
with it on files gguf's writer made.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from functools import cache
from typing import Any

from llmarch_cli.checkpoints.source import ByteSource
from llmarch_cli.errors import LlmarchError

MAGIC = b"GGUF"
VERSIONS = (2, 3)  # v1 (32-bit counts) predates every published GGUF model
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 4  # GGML_MAX_DIMS
MAX_NESTING = 4  # arrays of arrays
KEEP_ARRAY = 1024  # longer arrays (token lists) keep only their length and element type
CHUNK = 1 << 20  # bytes fetched per read: few reads locally, few ranges remotely

STRING, ARRAY = 8, 9
# GGUF metadata value types (gguf_type in ggml's gguf.h): id -> (name, struct format).
SCALARS: dict[int, tuple[str, str]] = {
    0: ("u8", "<B"), 1: ("i8", "<b"), 2: ("u16", "<H"), 3: ("i16", "<h"), 4: ("u32", "<I"),
    5: ("i32", "<i"), 6: ("f32", "<f"), 7: ("bool", "<?"), 10: ("u64", "<Q"), 11: ("i64", "<q"),
    12: ("f64", "<d"),
}
MIN_KV_BYTES = 8 + 4 + 1  # key length, value type, the smallest value
MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8  # name length, dims, type, offset


@dataclass(frozen=True)
class TensorType:
    """A ggml tensor type: ``block`` elements take ``type_bytes`` bytes."""

    id: int
    name: str  # as llama.cpp names it: F16, Q8_0, Q4_K, IQ2_XS, MXFP4 ...
    block: int
    type_bytes: int

    @property
    def bits_per_weight(self) -> float:
        return self.type_bytes * 8 / self.block


@dataclass(frozen=True)
class ArrayInfo:
    """A metadata array too long to keep (token lists): its length and element type."""

    length: int
    element: str


@dataclass(frozen=True)
class GgufTensor:
    """One tensor's info. ``shape`` is in ggml order, innermost (row length) first."""

    name: str
    type: TensorType
    shape: tuple[int, ...]
    offset: int  # from the start of the data section
    nbytes: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class GgufHeader:
    """A validated GGUF header: metadata (short arrays as lists), tensors by name."""

    source: ByteSource
    version: int
    metadata: dict[str, Any]
    tensors: dict[str, GgufTensor]
    alignment: int
    data_start: int  # absolute offset of the tensor data section


@cache
def tensor_types() -> dict[int, TensorType]:
    """ggml tensor types by id, from the gguf package (llama.cpp's ``GGML_QUANT_SIZES``)."""
    try:
        from gguf.constants import GGML_QUANT_SIZES
    except ImportError:
        raise LlmarchError("reading GGUF files needs the gguf package (llama.cpp's reader)",
                           "pip install 'llmarch[gguf]'") from None
    return {int(t): TensorType(int(t), t.name, block, size)
            for t, (block, size) in GGML_QUANT_SIZES.items()}


@cache
def file_types() -> dict[int, str]:
    """``general.file_type`` ids -> llama.cpp's names without the prefix (Q4_K_M, MOSTLY_F16 -> F16)."""
    from gguf.constants import LlamaFileType

    return {int(t): t.name.removeprefix("MOSTLY_") for t in LlamaFileType}


class _Reader:
    """Sequential reads over a source through a chunk buffer; every read bounds-checked."""

    def __init__(self, source: ByteSource) -> None:
        self.source, self.size, self.pos = source, source.size, 0
        self.buf, self.start = b"", 0

    def fail(self, message: str) -> LlmarchError:
        return LlmarchError(f"{self.source.name}: {message}")

    def take(self, n: int, what: str) -> bytes:
        if n > self.size - self.pos:
            raise self.fail(f"{what} at byte {self.pos} needs {n} bytes, beyond the file "
                            f"({self.size} bytes)")
        end = self.pos + n
        if end > self.start + len(self.buf):
            self.buf = self.source.read(self.pos, min(max(n, CHUNK), self.size - self.pos))
            self.start = self.pos
        i = self.pos - self.start
        self.pos = end
        return self.buf[i:i + n]

    def skip(self, n: int, what: str) -> None:
        if n > self.size - self.pos:
            raise self.fail(f"{what} at byte {self.pos} needs {n} bytes, beyond the file "
                            f"({self.size} bytes)")
        self.pos += n

    def scalar(self, fmt: str, what: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))[0]

    def string(self, what: str) -> str:
        raw = self.take(self.scalar("<Q", f"{what} length"), what)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail(f"{what} is not valid UTF-8") from None

    def skip_string(self, what: str) -> None:
        self.skip(self.scalar("<Q", f"{what} length"), what)

    def value(self, vtype: int, what: str, depth: int = 0) -> Any:
        if vtype in SCALARS:
            return self.scalar(SCALARS[vtype][1], what)
        if vtype == STRING:
            return self.string(what)
        if vtype != ARRAY:
            raise self.fail(f"{what} has unknown value type {vtype}")
        if depth >= MAX_NESTING:
            raise self.fail(f"{what} nests arrays more than {MAX_NESTING} deep")
        etype = self.scalar("<I", f"{what} element type")
        count = self.scalar("<Q", f"{what} length")
        least = struct.calcsize(SCALARS[etype][1]) if etype in SCALARS else 8
        if etype not in SCALARS and etype not in (STRING, ARRAY):
            raise self.fail(f"{what} has unknown element type {etype}")
        if count > (self.size - self.pos) // least:
            raise self.fail(f"{what} length {count} runs beyond the file ({self.size} bytes)")
        if count <= KEEP_ARRAY:
            return [self.value(etype, what, depth + 1) for _ in range(count)]
        element = SCALARS[etype][0] if etype in SCALARS else "string" if etype == STRING else "array"
        if etype in SCALARS:
            self.skip(count * least, what)
        elif etype == STRING:
            for _ in range(count):
                self.skip_string(what)
        else:
            for _ in range(count):
                self.value(etype, what, depth + 1)
        return ArrayInfo(count, element)


def parse_header(source: ByteSource) -> GgufHeader:
    """Parse and validate the GGUF header of ``source``; reads no tensor data."""
    r = _Reader(source)
    if source.size < 4 or r.take(4, "magic") != MAGIC:
        raise r.fail("not a GGUF file (bad magic)")
    version = r.scalar("<I", "version")
    if version not in VERSIONS:
        swapped = version & 0xFFFF == 0
        raise r.fail(f"GGUF version {version} is not supported (known: 2, 3)"
                     + ("; big-endian files are not read" if swapped else ""))
    n_tensors = r.scalar("<Q", "tensor count")
    n_kv = r.scalar("<Q", "metadata count")
    if n_kv > (source.size - r.pos) // MIN_KV_BYTES:
        raise r.fail(f"metadata count {n_kv} runs beyond the file ({source.size} bytes)")
    metadata: dict[str, Any] = {}
    for _ in range(n_kv):
        key = r.string("metadata key")
        if key in metadata:
            raise r.fail(f"metadata key {key!r} appears twice")
        metadata[key] = r.value(r.scalar("<I", f"{key} type"), f"metadata {key!r}")
    if n_tensors > (source.size - r.pos) // MIN_TENSOR_INFO_BYTES:
        raise r.fail(f"tensor count {n_tensors} runs beyond the file ({source.size} bytes)")
    types = tensor_types()
    infos = []
    for _ in range(n_tensors):
        name = r.string("tensor name")
        n_dims = r.scalar("<I", f"tensor {name!r} dimension count")
        if not 1 <= n_dims <= MAX_DIMS:
            raise r.fail(f"tensor {name!r} has {n_dims} dimensions (1 to {MAX_DIMS} allowed)")
        shape = tuple(r.scalar("<Q", f"tensor {name!r} shape") for _ in range(n_dims))
        type_id = r.scalar("<I", f"tensor {name!r} type")
        if type_id not in types:
            raise r.fail(f"tensor {name!r} has unknown ggml type {type_id}")
        infos.append((name, types[type_id], shape, r.scalar("<Q", f"tensor {name!r} offset")))
    alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or isinstance(alignment, bool) or alignment <= 0 \
            or alignment & (alignment - 1):
        raise r.fail(f"general.alignment {alignment!r} is not a power of two")
    data_start = -(-r.pos // alignment) * alignment
    tensors = _check_tensors(r, infos, alignment, source.size - data_start)
    return GgufHeader(source, version, metadata, tensors, alignment, data_start)


def _check_tensors(r: _Reader, infos: list, alignment: int, data_bytes: int) -> dict[str, GgufTensor]:
    """Sizes from shape and type, offsets aligned, inside the data section, not overlapping."""
    tensors: dict[str, GgufTensor] = {}
    for name, ttype, shape, offset in infos:
        if name in tensors:
            raise r.fail(f"tensor {name!r} appears twice")
        if shape[0] % ttype.block:
            raise r.fail(f"tensor {name!r} rows of {shape[0]} are not whole {ttype.name} blocks "
                         f"of {ttype.block}")
        nbytes = math.prod(shape) // ttype.block * ttype.type_bytes
        if offset % alignment:
            raise r.fail(f"tensor {name!r} offset {offset} is not a multiple of the alignment {alignment}")
        if offset + nbytes > data_bytes:
            raise r.fail(f"tensor {name!r} ({nbytes} bytes at offset {offset}) runs beyond the "
                         f"{max(data_bytes, 0)}-byte data section")
        tensors[name] = GgufTensor(name, ttype, shape, offset, nbytes)
    end = 0
    for t in sorted(tensors.values(), key=lambda t: t.offset):
        if t.offset < end:
            raise r.fail(f"tensor {t.name!r} overlaps the tensor before it")
        end = t.offset + t.nbytes
    return tensors
