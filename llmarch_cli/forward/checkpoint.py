"""Tensors of a local Hugging Face checkpoint: ``model.safetensors`` or a sharded index.

Every file's header is validated by ``checkpoints.safetensors.folder_headers`` before the
``safetensors`` package sees it; names and shapes are known before any tensor is read, so a
missing tensor or a contradicting shape fails without loading weights. Tensors are read with
``safetensors.safe_open(framework="np")``; BF16, which numpy cannot represent, is read as its
raw 16-bit patterns and widened to float32 exactly.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from llmarch_cli.checkpoints.safetensors import SafetensorsHeader, TensorInfo, folder_headers
from llmarch_cli.errors import LlmarchError

FLOAT_DTYPES = {"F16", "BF16", "F32", "F64"}


class Checkpoint:
    """Name -> (file header, tensor entry) over one file or every shard of an index."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._entries: dict[str, tuple[SafetensorsHeader, TensorInfo]] = {}
        self._handles: dict[Path, object] = {}
        for header in folder_headers(folder):
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
