"""Runnable replicas of a spec: the tiny scaled-down copy, the full-size check, seeded weights.

The tiny scaling rule keeps every structural choice (norm kind, eps and placement, positions
with their scaling, pairing and rotary fraction, ALiBi, T5 buckets, activation, biases, sinks,
parallel residual, tied head, MoE experts, top-k and routing) and shrinks only sizes:

* KV heads ``min(kv, 2)`` (1 stays 1); the GQA ratio ``g`` is kept up to 8, so query heads are
  ``kv' x min(g, 8)``. An MHA head count becomes ``min(heads, 4)``, or 6 when it is not a power
  of two, so ALiBi's odd-count slope rule still runs.
* head dim 16; the rotary dims keep their fraction of the head (even, at least 2).
* hidden ``heads' x 16`` when the original hidden equals heads x head dim, otherwise that times
  the original ratio hidden / (heads x head dim), rounded to a multiple of 8.
* FFN width keeps its ratio to the hidden size (a multiple of 8).
* the first ``min(layers, 4)`` layers with their full/sliding types (MoE dense layers among
  them kept); decoder layers of an encoder-decoder likewise.
* vocabulary ``min(V, 1024)``, learned position rows ``min(P, 1024)``, sliding window
  ``min(W, 4)`` so windows bind on short inputs; likewise chunks and the token step of Llama 4's
  query temperature (``floor_scale``).

Seeded weights: matrices ``normal(0, 1/sqrt(fan_in))``, embeddings, position tables and sinks
``normal(0, 1)``, norm weights ``1 + normal(0, 0.1)``, biases ``normal(0, 0.1)``; all float32,
drawn in inventory order from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable

import numpy as np

from llmarch_cli.errors import LlmarchError
from llmarch_cli.forward.layout import entries, forward_shape, model_shapes
from llmarch_cli.specs.model import ArchSpec

TINY_HEAD_DIM = 16
TINY_LAYERS = 4
TINY_VOCAB = 1024
TINY_POSITIONS = 1024
TINY_WINDOW = 4
FLOAT32_BYTES = 4


def _multiple_of_8(x: float) -> int:
    return max(8, int(round(x / 8)) * 8)


def _tiny_heads(num_heads: int, num_kv_heads: int) -> tuple[int, int]:
    if num_kv_heads == num_heads:
        n = min(num_heads, 4) if num_heads & (num_heads - 1) == 0 else min(num_heads, 6)
        return n, n
    kv = 1 if num_kv_heads == 1 else min(num_kv_heads, 2)
    return kv * min(num_heads // num_kv_heads, 8), kv


def tiny_spec(spec: ArchSpec) -> ArchSpec:
    """A scaled-down ArchSpec with the same structure (rule in the module docstring)."""
    d = spec.model_dump()
    a = spec.attention
    heads, kv = _tiny_heads(a.num_heads, a.num_kv_heads)
    ratio = spec.hidden_size / (a.num_heads * a.head_dim)
    hidden = heads * TINY_HEAD_DIM if ratio == 1 else _multiple_of_8(heads * TINY_HEAD_DIM * ratio)
    layers = min(spec.num_layers, TINY_LAYERS)
    att = d["attention"]
    att.update(num_heads=heads, num_kv_heads=kv, head_dim=TINY_HEAD_DIM)
    if a.mla is not None:  # head dim 16 = no-RoPE part + RoPE part, ranks scaled with hidden
        m = att["mla"]
        rope_dim = max(2, 2 * round(TINY_HEAD_DIM * a.mla.qk_rope_head_dim / a.head_dim / 2))
        m.update(qk_rope_head_dim=rope_dim, qk_nope_head_dim=TINY_HEAD_DIM - rope_dim,
                 v_head_dim=TINY_HEAD_DIM)
        for key in ("q_lora_rank", "kv_lora_rank"):
            if m[key] is not None:
                m[key] = _multiple_of_8(m[key] * heads * TINY_HEAD_DIM / spec.hidden_size)
    att["nope_layers"] = [i for i in a.nope_layers if i < layers]
    if spec.linear_attention is not None:  # at most 2 key heads, 2 value heads each, dims 16
        la = spec.linear_attention
        nk = min(la.num_key_heads, 2)
        d["linear_attention"].update(
            num_key_heads=nk, num_value_heads=nk * min(la.num_value_heads // la.num_key_heads, 2),
            key_head_dim=TINY_HEAD_DIM, value_head_dim=TINY_HEAD_DIM)
    if a.chunk_size is not None:
        att["chunk_size"] = min(a.chunk_size, TINY_WINDOW)
    if a.temperature_tuning is not None:
        att["temperature_tuning"]["floor_scale"] = min(a.temperature_tuning.floor_scale, TINY_WINDOW)
    if a.sliding_window is not None:
        att["sliding_window"] = min(a.sliding_window, TINY_WINDOW)
    if a.layer_types is not None:
        att["layer_types"] = list(a.layer_types[:layers])
    for key in ("rope", "local_rope"):
        rope = d["positions"][key]
        if rope is not None:
            fraction = getattr(spec.positions, key).rotary_dim / a.head_dim
            rope["rotary_dim"] = max(2, 2 * round(TINY_HEAD_DIM * fraction / 2))
    if spec.positions.max_positions is not None:
        d["positions"]["max_positions"] = min(spec.positions.max_positions, TINY_POSITIONS)
    d["ffn"]["intermediate_size"] = _multiple_of_8(
        spec.ffn.intermediate_size * hidden / spec.hidden_size
    )
    if spec.moe is not None:
        d["moe"]["dense_layers"] = [i for i in spec.moe.dense_layers if i < layers]
        if spec.moe.dense_intermediate_size is not None:
            d["moe"]["dense_intermediate_size"] = _multiple_of_8(
                spec.moe.dense_intermediate_size * hidden / spec.hidden_size)
        if spec.moe.shared_intermediate_size is not None:
            d["moe"]["shared_intermediate_size"] = _multiple_of_8(
                spec.moe.shared_intermediate_size * hidden / spec.hidden_size
            )
    d.update(hidden_size=hidden, num_layers=layers)
    if spec.num_decoder_layers is not None:
        d["num_decoder_layers"] = min(spec.num_decoder_layers, TINY_LAYERS)
    d["embeddings"]["vocab_size"] = min(spec.embeddings.vocab_size, TINY_VOCAB)
    if spec.embeddings.scale is not None and spec.embeddings.scale == math.sqrt(spec.hidden_size):
        d["embeddings"]["scale"] = math.sqrt(hidden)
    if spec.head.output_scale == spec.hidden_size**-0.5:
        d["head"]["output_scale"] = hidden**-0.5
    d["id"] = f"{spec.id}-tiny"
    return ArchSpec.model_validate(d)


def weight_bytes(spec: ArchSpec) -> int:
    """Bytes of the float32 weights a replica of ``spec`` allocates."""
    return sum(math.prod(s) for s in model_shapes(spec).values()) * FLOAT32_BYTES


def available_bytes() -> int | None:
    """Physical memory currently available: MemAvailable on Linux, free pages where sysconf
    knows them, None where neither exists (macOS has no ``SC_AVPHYS_PAGES``)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # name unknown, or no sysconf (Windows)
        return None


def build_bytes(spec: ArchSpec) -> int:
    """Peak bytes of building a full-size replica of ``spec``: its float32 weights plus the
    joined q|k|v and gate|up copies ``Model`` makes of them (``model.fuse_projections``)."""
    from llmarch_cli.forward.model import fused_groups

    shapes = model_shapes(spec)
    joined = sum(math.prod(shapes[f"{n}.weight"]) for names, _ in fused_groups(shapes)
                 for n in names)
    return weight_bytes(spec) + joined * FLOAT32_BYTES


def check_fits(spec: ArchSpec) -> None:
    """LlmarchError when building a full-size replica (``build_bytes``) would exceed available
    memory; a note on stderr, and no check, where available memory is unknown."""
    need, have = build_bytes(spec), available_bytes()
    if have is None:
        sys.stderr.write(f"note: available memory is unknown here; {spec.id} at full size needs "
                         f"{need / 2**30:.2f} GiB while its float32 weights are built\n")
        return
    if need > have:
        raise LlmarchError(
            f"{spec.id} at full size needs {need / 2**30:.2f} GiB while its float32 weights are "
            f"built; {have / 2**30:.2f} GiB of memory is available",
            "use --scale tiny for a structural replica",
        )


def random_weights(spec: ArchSpec, seed: int,
                   progress: Callable[[int, int], None] | None = None) -> dict[str, np.ndarray]:
    """Seeded float32 weights for every canonical tensor of ``spec``.

    ``progress(bytes_made, total_bytes)`` is called after each tensor.
    """
    rng = np.random.default_rng(seed)
    weights = {}
    total, done = weight_bytes(spec), 0
    for key, entry, _ in entries(spec):
        shape = forward_shape(entry)
        w = rng.standard_normal(shape, dtype=np.float32)
        if entry.role == "norm" and entry.name.endswith(".weight"):
            w = 1 + 0.1 * w
        elif entry.name.endswith("bias"):
            w *= np.float32(0.1)
        elif entry.matmul and entry.role != "embedding":  # a matrix [.., in, out]
            w /= np.float32(math.sqrt(shape[-2]))
        weights[key] = w
        done += w.nbytes
        if progress is not None:
            progress(done, total)
    return weights
