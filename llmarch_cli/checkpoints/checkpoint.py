"""A checkpoint on disk -> its tensors, from headers only: safetensors (one file, a sharded
index, a Hugging Face folder) or GGUF (one file or every split of ``-00001-of-0000N``).

``open_checkpoint(path)`` finds the files, validates every header (``checkpoints.safetensors``,
``checkpoints.gguf``) and returns one ``Checkpoint`` whatever the format: tensor names, dtypes
(safetensors dtype names or ggml types such as Q4_K), shapes as stored and byte sizes, plus the
``config.json`` beside safetensors weights or the GGUF metadata. ``from_safetensors`` and
``from_gguf`` build it from headers read through any byte source (local files here).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from llmarch_cli.checkpoints.safetensors import (
    INDEX,
    SINGLE,
    SafetensorsHeader,
    folder_headers,
    index_headers,
    read_header,
)
from llmarch_cli.checkpoints.source import ByteSource, LocalFile
from llmarch_cli.errors import LlmarchError

if TYPE_CHECKING:
    from llmarch_cli.checkpoints.gguf import GgufHeader

MAX_CONFIG_BYTES = 16 << 20
SPLIT = re.compile(r"^(?P<stem>.*)-(?P<no>\d{5})-of-(?P<count>\d{5})\.gguf$")

# Tensors that checkpoints carry but models register as buffers, not parameters: transformers'
# causal masks in GPT-2/GPT-J (attn.bias, attn.masked_bias) and GPT-NeoX (attention.bias,
# attention.masked_bias), rotary tables (inv_freq in older Llama/NeoX files, GPT-J's
# embed_positions), BERT's position_ids and token_type_ids, BART's final_logits_bias,
# DeepSeek-V3's router e_score_correction_bias; llama.cpp's rope_freqs (Llama 3 RoPE factors).
BUFFER_PAIRS = {("attn", "bias"), ("attn", "masked_bias"), ("attention", "bias"),
                ("attention", "masked_bias")}
BUFFER_NAMES = {"inv_freq", "original_inv_freq", "embed_positions", "position_ids",
                "token_type_ids", "final_logits_bias", "masked_bias", "e_score_correction_bias"}
GGUF_BUFFERS = {"rope_freqs.weight"}


@dataclass(frozen=True)
class Tensor:
    """One stored tensor: ``shape`` as stored (safetensors: row-major; GGUF: innermost first)."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    nbytes: int
    file: str

    @property
    def numel(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class Checkpoint:
    """Tensors of every file of one checkpoint; built from headers read through any source."""

    format: Literal["safetensors", "gguf"]
    name: str  # what its spec is called: the weights' folder or the GGUF file's stem
    sources: tuple[ByteSource, ...]  # one per file
    tensors: tuple[Tensor, ...]
    config: dict[str, Any] | None = None  # config.json beside safetensors weights
    metadata: dict[str, Any] = field(default_factory=dict)  # GGUF key/values (split 1)

    @property
    def file_bytes(self) -> int:
        return sum(s.size for s in self.sources)

    def is_buffer(self, tensor: Tensor) -> bool:
        """A tensor the model registers as a buffer (not a parameter)."""
        if self.format == "gguf":
            return tensor.name in GGUF_BUFFERS
        parts = tuple(tensor.name.split("."))
        return parts[-2:] in BUFFER_PAIRS or parts[-1] in BUFFER_NAMES


def open_checkpoint(path: Path) -> Checkpoint:
    """Validated headers of the checkpoint at ``path`` (file, index or folder)."""
    path = Path(path)
    if not path.exists():
        raise LlmarchError(f"{path}: no such file or folder")
    if path.is_dir():
        if not (path / SINGLE).is_file() and not (path / INDEX).is_file():
            ggufs = sorted(path.glob("*.gguf"))
            hint = (f"pass a .gguf file, e.g. {ggufs[0]}" if ggufs
                    else "only safetensors and GGUF are read (pytorch_model.bin is a pickle)"
                    if any(path.glob("*.bin")) else None)
            raise LlmarchError(f"{path}: no {SINGLE} or {INDEX}", hint)
        return _local_safetensors(folder_headers(path), path)
    if path.name.endswith(".index.json"):
        return _local_safetensors(index_headers(path), path.parent)
    if path.suffix == ".gguf" or _magic(path) == b"GGUF":
        from llmarch_cli.checkpoints.gguf import parse_header

        files = split_files(path)
        match = SPLIT.match(path.name)
        return from_gguf(match["stem"] if match else path.stem,
                         [parse_header(LocalFile(f)) for f in files])
    return _local_safetensors([read_header(path)], path.parent)


def _magic(path: Path) -> bytes:
    source = LocalFile(path)
    return source.read(0, 4) if source.size >= 4 else b""


def _local_safetensors(headers: list[SafetensorsHeader], folder: Path) -> Checkpoint:
    return from_safetensors(folder.resolve().name, headers, _config(folder / "config.json"))


def from_safetensors(name: str, headers: list[SafetensorsHeader],
                     config: dict[str, Any] | None) -> Checkpoint:
    """One checkpoint from validated safetensors headers (one file or every shard)."""
    tensors = tuple(Tensor(n, t.dtype, t.shape, t.end - t.begin, h.source.name)
                    for h in headers for n, t in h.tensors.items())
    _check_unique(tensors)
    return Checkpoint("safetensors", _plain(name), tuple(h.source for h in headers), tensors,
                      config=config)


def _plain(name: str) -> str:
    """A spec id: whitespace folded to '-' (a folder 'My Model' -> 'My-Model')."""
    return "-".join(name.split()) or "checkpoint"


def _check_unique(tensors: tuple[Tensor, ...]) -> None:
    seen: dict[str, str] = {}
    for t in tensors:
        if t.name in seen:
            raise LlmarchError(f"tensor {t.name!r} is stored twice ({seen[t.name]} and {t.file})")
        seen[t.name] = t.file


def _config(path: Path) -> dict[str, Any] | None:
    """config.json beside the weights, or None when there is none."""
    if not path.is_file():
        return None
    source = LocalFile(path)
    if source.size > MAX_CONFIG_BYTES:
        raise LlmarchError(f"{path}: over {MAX_CONFIG_BYTES >> 20} MiB, not a config.json")
    try:
        data = json.loads(source.read(0, source.size).decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # bad UTF-8 or JSON, absurd numbers, deep nesting
        raise LlmarchError(f"{path}: not valid JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise LlmarchError(f"{path}: must be a JSON object")
    return data


def split_files(path: Path) -> tuple[Path, ...]:
    """Every split of a ``NAME-0000k-of-0000N.gguf`` set (just ``path`` when not split)."""
    match = SPLIT.match(path.name)
    if match is None:
        return (path,)
    count = int(match["count"])
    if not 1 <= int(match["no"]) <= count:
        raise LlmarchError(f"{path.name}: split {int(match['no'])} of {count} is out of range")
    files = tuple(path.with_name(f"{match['stem']}-{k:05d}-of-{count:05d}.gguf")
                  for k in range(1, count + 1))
    for f in files:
        if not f.is_file():
            raise LlmarchError(f"{path.name}: split {f.name} is missing")
    return files


def from_gguf(name: str, headers: list[GgufHeader]) -> Checkpoint:
    """One checkpoint from the validated headers of every split, in split order."""
    if len(headers) > 1:
        for k, h in enumerate(headers, start=1):
            no, count = h.metadata.get("split.no"), h.metadata.get("split.count")
            if (no, count) != (k - 1, len(headers)):
                raise LlmarchError(f"{h.source.name}: split.no {no!r} / split.count {count!r} "
                                   f"disagree with its name (split {k} of {len(headers)})")
    tensors = tuple(Tensor(n, t.type.name, t.shape, t.nbytes, h.source.name)
                    for h in headers for n, t in h.tensors.items())
    _check_unique(tensors)
    return Checkpoint("gguf", _plain(name), tuple(h.source for h in headers), tensors,
                      metadata=headers[0].metadata)
