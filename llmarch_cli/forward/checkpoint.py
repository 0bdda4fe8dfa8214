"""Tensors of a local Hugging Face checkpoint: ``model.safetensors`` or a sharded index.

Every file's header is validated by ``checkpoints.safetensors.read_header`` before the
``safetensors`` package sees it; names and shapes are known before any tensor is read, so a
missing tensor or a contradicting shape fails without loading weights. Tensors are read with
``safetensors.safe_open(framework="np")``; BF16, which numpy cannot represent, is read as its
raw 16-bit patterns and widened to float32 exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from llmarch_cli.checkpoints.safetensors import SafetensorsHeader, TensorInfo, read_header
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.loader import WEIGHT_FILES

SINGLE, INDEX = WEIGHT_FILES
FLOAT_DTYPES = {"F16", "BF16", "F32", "F64"}


class Checkpoint:
    """Name -> (file header, tensor entry) over one file or every shard of an index."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._entries: dict[str, tuple[SafetensorsHeader, TensorInfo]] = {}
        self._handles: dict[Path, object] = {}
        for header in _headers(folder):
            for name, info in header.tensors.items():
                self._entries[name] = (header, info)

    def __contains__(self, name: str) -> bool:
        return name in self._entries

    def shape(self, name: str) -> tuple[int, ...]:
        return self._entries[name][1].shape

    def nbytes(self, name: str) -> int:
        """Bytes the tensor occupies on disk."""
        info = self._entries[name][1]
        return info.end - info.begin

    def get(self, name: str) -> np.ndarray:
        """The tensor as float32 (exact widening from F16/BF16)."""
        header, info = self._entries[name]
        if info.dtype not in FLOAT_DTYPES:
            raise LlmarchError(f"{header.path.name}: tensor {name!r} is {info.dtype}, not a float weight")
        if info.dtype == "BF16":
            bits = np.fromfile(
                header.path, dtype="<u2", count=info.numel, offset=header.data_start + info.begin
            )
            return (bits.astype(np.uint32) << 16).view(np.float32).reshape(info.shape)
        return self._handle(header.path).get_tensor(name).astype(np.float32, copy=False)

    def _handle(self, path: Path):
        from safetensors import safe_open

        if path not in self._handles:
            self._handles[path] = safe_open(str(path), framework="np")
        return self._handles[path]


def _headers(folder: Path) -> list[SafetensorsHeader]:
    """Validated headers of the single file, or of every shard the index names."""
    single, index = folder / SINGLE, folder / INDEX
    if single.is_file():
        return [read_header(single)]
    if not index.is_file():
        raise LlmarchError(f"{folder}: no {SINGLE} or {INDEX}", "only safetensors weights are read")
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LlmarchError(f"{INDEX}: unreadable ({exc})") from None
    weight_map = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(weight_map, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in weight_map.items()
    ):
        raise LlmarchError(f"{INDEX}: weight_map must map tensor names to file names")
    headers = []
    for shard in sorted(set(weight_map.values())):
        if Path(shard).name != shard:
            raise LlmarchError(f"{INDEX}: shard {shard!r} is not a plain file name in the folder")
        if not (folder / shard).is_file():
            raise LlmarchError(f"{INDEX}: shard {shard!r} is missing")
        headers.append(read_header(folder / shard))
    by_file = {h.path.name: h for h in headers}
    for name, shard in weight_map.items():
        if name not in by_file[shard].tensors:
            raise LlmarchError(f"{INDEX}: tensor {name!r} is not in {shard}")
    return headers
