"""``inspect``: a checkpoint's tensors grouped by layer and kind, parameters, bytes by dtype,
real bits per weight, the architecture and what its spec implies, from headers only.

Parameters exclude buffers (``Checkpoint.is_buffer``). Tied weights are stored once by
``save_pretrained``, so the measured count equals transformers' own. The estimate check puts
``llmarch memory --quant <format>`` weight bytes beside the file's tensor bytes: the format is
the GGUF ``general.file_type`` (Q4_K_M -> q4_k_m) or the safetensors dtype holding most
parameters (BF16 -> bf16, F16 -> fp16, F32 -> fp32).
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from llmarch_cli.checkpoints.architecture import infer
from llmarch_cli.checkpoints.checkpoint import Checkpoint, Tensor, open_checkpoint
from llmarch_cli.checkpoints.results import (
    Architecture,
    Buffer,
    Estimate,
    InspectResult,
    TensorGroup,
    TensorRow,
)
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.model import ArchSpec

SAFETENSORS_FORMATS = {"BF16": "bf16", "F16": "fp16", "F32": "fp32"}
NUMBER = re.compile(r"(?<=\.)\d+(?=\.|$)")


def open_target(target: str, file: str | None = None) -> Checkpoint:
    """A local file or folder, or else a Hugging Face id (``org/name[@revision]``; ``file``
    names a GGUF file in it) read remotely, headers only."""
    from llmarch_cli.specs.hub import looks_like_hub_id

    path = Path(target)
    if not path.exists() and looks_like_hub_id(target):
        from llmarch_cli.checkpoints.remote import open_remote

        return open_remote(target, file)
    if file is not None:
        raise LlmarchError("--file names a file in a Hugging Face repository",
                           f"for a local file pass its path instead of {target}")
    return open_checkpoint(path)


def inspect_path(path: Path | str, tensors: bool = False,
                 file: str | None = None) -> tuple[InspectResult, Checkpoint]:
    """Inspect the checkpoint at ``path`` (or Hub id); also return it (for ``--against``)."""
    ckpt = open_target(str(path), file)
    params = [t for t in ckpt.tensors if not ckpt.is_buffer(t)]
    dtypes: dict[str, int] = defaultdict(int)
    nbytes: dict[str, int] = defaultdict(int)
    for t in params:
        dtypes[t.dtype] += t.numel
        nbytes[t.dtype] += t.nbytes
    total, total_bytes = sum(dtypes.values()), sum(nbytes.values())
    fields, spec = infer(ckpt, ckpt.name)
    fmt = weight_format(ckpt, dtypes)
    estimate = None
    if spec is not None:
        fields.update(_spec_figures(spec, total, fmt))
        if fmt is not None:
            estimate = _estimate(spec, fmt, total_bytes)
        else:
            fields["note"] = f"llmarch memory has no format for {_stored_format(ckpt, dtypes)}: no estimate"
    elif fmt is not None:
        fields["weight_format"] = fmt
    result = InspectResult(
        path=str(path), format=ckpt.format, files=len(ckpt.sources), file_bytes=ckpt.file_bytes,
        total_params=total, total_bytes=total_bytes,
        bits_per_weight=round(total_bytes * 8 / total, 4) if total else 0.0,
        dtypes=_by_size(dtypes), bytes=_by_size(nbytes),
        dtype_bits_per_weight={d: round(nbytes[d] * 8 / n, 4) for d, n in _by_size(dtypes).items() if n},
        buffer_elements=sum(t.numel for t in ckpt.tensors if ckpt.is_buffer(t)),
        buffers=[Buffer(name=t.name, shape=list(t.shape), elements=t.numel)
                 for t in ckpt.tensors if ckpt.is_buffer(t)],
        architecture=Architecture(**fields), estimate=estimate, groups=groups(ckpt),
        tensors=[_row(ckpt, t) for t in ckpt.tensors] if tensors else None,
    )
    return result, ckpt


def _by_size(counts: dict[str, int]) -> dict[str, int]:
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def weight_format(ckpt: Checkpoint, dtypes: dict[str, int]) -> str | None:
    """The ``memory --quant`` format matching the file, or None when llmarch has none."""
    from llmarch_cli.analysis.quant_formats import WEIGHT_FORMATS

    if ckpt.format == "gguf":
        from llmarch_cli.checkpoints.gguf import file_types

        ftype = ckpt.metadata.get("general.file_type")
        name = file_types().get(ftype) if isinstance(ftype, int) else None
        key = {"ALL_F32": "fp32", "F16": "fp16"}.get(name or "", (name or "").lower())
        return key if key in WEIGHT_FORMATS else None
    if not dtypes:
        return None
    return SAFETENSORS_FORMATS.get(max(dtypes, key=lambda d: dtypes[d]))


def _stored_format(ckpt: Checkpoint, dtypes: dict[str, int]) -> str:
    """How the file stores its weights, for messages: the GGUF file type or the main dtype."""
    if ckpt.format == "gguf":
        from llmarch_cli.checkpoints.gguf import file_types

        ftype = ckpt.metadata.get("general.file_type")
        return f"file type {file_types().get(ftype, ftype) if isinstance(ftype, int) else 'unknown'}"
    return max(dtypes, key=lambda d: dtypes[d]) if dtypes else "an empty file"


def _spec_figures(spec: ArchSpec, total: int, fmt: str | None) -> dict:
    from llmarch_cli.analysis.kvcache import kv_bytes_per_token
    from llmarch_cli.analysis.memory import default_context, inference_memory
    from llmarch_cli.analysis.params import count_params
    from llmarch_cli.analysis.quant_formats import weight_format

    counted = count_params(spec).total_params
    figures = {"spec_params": counted, "params_match": counted == total,
               "kv_bytes_per_token": kv_bytes_per_token(spec) if spec.architecture != "encoder" else 0}
    if fmt is not None:
        context = default_context(spec)
        figures.update(weight_format=fmt, context=context,
                       memory_bytes=inference_memory(spec, quant=weight_format(fmt),
                                                    context=context).total_bytes)
    return figures


def _estimate(spec: ArchSpec, fmt: str, file_bytes: int) -> Estimate:
    from llmarch_cli.analysis.memory import weights_term
    from llmarch_cli.analysis.quant_formats import weight_format as find_format

    estimated = weights_term(spec, find_format(fmt)).bytes
    return Estimate(weight_format=fmt, estimated_bytes=estimated, file_bytes=file_bytes,
                    ratio=round(estimated / file_bytes, 4) if file_bytes else 0.0)


def _row(ckpt: Checkpoint, t: Tensor) -> TensorRow:
    return TensorRow(name=t.name, dtype=t.dtype, shape=list(t.shape), params=t.numel,
                     bytes=t.nbytes, file=t.file, buffer=ckpt.is_buffer(t))


def kind_of(name: str) -> tuple[str, int | None]:
    """(kind, layer): the first index in the name becomes ``{i}`` (the layer), later ones ``*``."""
    layer = None

    def swap(match: re.Match) -> str:
        nonlocal layer
        if layer is None:
            layer = int(match.group())
            return "{i}"
        return "*"

    return NUMBER.sub(swap, name), layer


def groups(ckpt: Checkpoint) -> list[TensorGroup]:
    """Tensors grouped by kind: non-layer kinds first, then by first layer and name (the same
    order however the tensors are sharded)."""
    members: dict[str, list[tuple[Tensor, int | None]]] = {}
    for t in ckpt.tensors:
        kind, layer = kind_of(t.name)
        members.setdefault(kind, []).append((t, layer))
    out = []
    for kind, items in members.items():
        shapes = {t.shape for t, _ in items}
        layers = sorted({layer for _, layer in items if layer is not None})
        out.append(TensorGroup(
            kind=kind, layers=_ranges(layers), tensors=len(items),
            shape=list(next(iter(shapes))) if len(shapes) == 1 else None,
            dtypes=sorted({t.dtype for t, _ in items}),
            params=sum(t.numel for t, _ in items), bytes=sum(t.nbytes for t, _ in items),
            buffer=all(ckpt.is_buffer(t) for t, _ in items)))
    return sorted(out, key=lambda g: (_first_layer(g.layers), g.kind))


def _first_layer(layers: str) -> int:
    """Sort key: non-layer groups first, then by first layer."""
    return -1 if not layers else int(layers.split("-")[0].split(",")[0])


def _ranges(values: list[int]) -> str:
    """[0, 1, 2, 5] -> '0-2,5'."""
    parts: list[str] = []
    for v in values:
        if parts and int(parts[-1].split("-")[-1]) == v - 1:
            parts[-1] = f"{parts[-1].split('-')[0]}-{v}"
        else:
            parts.append(str(v))
    return ",".join(parts)
