"""Pydantic results of ``llmarch inspect``: the JSON schema (snake_case, units in names).

Parameter counts exclude buffers (tensors a model registers as buffers, such as GPT-2's causal
mask ``attn.bias``), listed apart. Byte counts are tensor data, headers excluded, except
``file_bytes``. GGUF shapes are in ggml order (innermost first), as the file stores them.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class TensorRow(_Result):
    """One stored tensor (``--tensors``)."""

    name: str
    dtype: str
    shape: list[int]
    params: int
    bytes: int
    file: str
    buffer: bool = False


class TensorGroup(_Result):
    """Tensors of one kind: ``kind`` is the name with the layer index as ``{i}`` (and later
    indices such as experts as ``*``); ``layers`` the layer indices it occurs in (``0-31``)."""

    kind: str
    layers: str
    tensors: int
    shape: list[int] | None  # None when the tensors of the group differ in shape
    dtypes: list[str]
    params: int
    bytes: int
    buffer: bool = False


class Buffer(_Result):
    name: str
    shape: list[int]
    elements: int


class Architecture(_Result):
    """What the checkpoint is: from config.json, GGUF metadata or tensor names; with a spec,
    its parameter count beside the measured one and the memory it implies."""

    source: str  # "config.json", "gguf metadata" or "tensor names"
    model_type: str | None
    name: str | None = None
    num_layers: int | None = None
    hidden_size: int | None = None
    num_heads: int | None = None
    num_kv_heads: int | None = None
    vocab_size: int | None = None
    num_experts: int | None = None
    spec_params: int | None = None  # the spec's exact count (llmarch params)
    params_match: bool | None = None  # spec_params == total_params
    weight_format: str | None = None  # the memory --quant that matches the file
    context: int | None = None  # tokens for memory_bytes
    memory_bytes: int | None = None  # llmarch memory: weights + KV cache + activations + overhead
    kv_bytes_per_token: int | None = None  # fp16 KV cache, every layer
    note: str | None = None  # why there is no spec


class Estimate(_Result):
    """``llmarch memory --quant <format>`` weight bytes beside the file's real tensor bytes."""

    weight_format: str
    estimated_bytes: int
    file_bytes: int
    ratio: float  # estimated / file


class Mismatch(_Result):
    name: str
    expected_shape: list[int] | None = None
    file_shape: list[int] | None = None


class Against(_Result):
    """The checkpoint compared with MODEL's weight inventory."""

    model: str
    match: bool
    expected_tensors: int
    missing: list[Mismatch]
    extra: list[Mismatch]
    misshaped: list[Mismatch]


class InspectResult(_Result):
    path: str
    format: str  # safetensors | gguf
    files: int
    file_bytes: int
    total_params: int
    total_bytes: int  # tensor data of the parameters
    bits_per_weight: float  # total_bytes x 8 / total_params
    dtypes: dict[str, int]  # dtype or ggml type -> parameters
    bytes: dict[str, int]  # dtype or ggml type -> bytes
    dtype_bits_per_weight: dict[str, float]  # dtype or ggml type -> bytes x 8 / parameters
    buffer_elements: int
    buffers: list[Buffer]
    architecture: Architecture
    estimate: Estimate | None = None
    groups: list[TensorGroup]
    tensors: list[TensorRow] | None = None
    against: Against | None = None
