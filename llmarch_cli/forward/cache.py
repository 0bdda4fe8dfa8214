"""What each decoder layer keeps between decoding steps, stored in the model's dtype.

One object per layer, chosen by what the layer attends to:

* ``FullKV``: K and V of every token so far, ``[nkv, capacity, hd]`` each, allocated once for
  the prompt plus the tokens to generate.
* ``RollingKV``: a sliding-window layer's rolling buffer of the last ``W`` tokens (Mistral 7B
  §2): token ``p`` lives in slot ``p mod W``, overwriting one the window no longer reaches;
  ``positions`` records which token each slot holds, so masks and position biases stay exact.
* ``ChunkedKV``: a chunked layer's (Llama 4) rolling buffer of the last ``chunk`` tokens: the
  queries of a chunk see only its tokens, which are always among the last ``chunk``.
* ``CrossKV``: an encoder-decoder layer's K and V of the encoder output, computed once.

Every cache answers ``kind`` (the layer kind ``analysis.kvcache`` names) and ``held_bytes``
(the bytes of the tokens it holds now, which ``analysis.kvcache.kv_cache_bytes`` predicts
exactly). Values are kept as ``precision.stored_dtype``: 4 bytes per value in fp32, 2 in fp16
and bf16. Another kind of layer slots in by answering the same two, with its own update: an MLA
layer keeps its latent, a recurrent layer its fixed-size state.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from llmarch_cli.errors import LlmarchError
from llmarch_cli.forward.layout import stacks
from llmarch_cli.forward.precision import load, store, stored_dtype
from llmarch_cli.specs.model import ArchSpec

KINDS = ("full", "sliding", "chunked", "latent", "linear", "cross")


class FullKV:
    """Every token's K and V: ``k``, ``v`` [nkv, capacity, hd], the first ``n`` filled."""

    kind = "full"

    def __init__(self, kv_heads: int, head_dim: int, capacity: int, dtype: str) -> None:
        self.k = np.empty((kv_heads, capacity, head_dim), stored_dtype(dtype))
        self.v = np.empty_like(self.k)
        self.n, self.dtype = 0, dtype

    def update(self, k: np.ndarray, v: np.ndarray, pos: np.ndarray):
        """Append k, v [nkv, T, hd] of tokens at ``pos`` [T] -> every cached (k, v, positions)."""
        n, T = self.n, k.shape[1]
        if n + T > self.k.shape[1]:
            raise LlmarchError(f"the cache holds {self.k.shape[1]} tokens; {n + T} were given")
        self.k[:, n:n + T], self.v[:, n:n + T] = store(k, self.dtype), store(v, self.dtype)
        self.n = n + T
        return load(self.k[:, :n + T], self.dtype), load(self.v[:, :n + T], self.dtype), np.arange(n + T)

    @property
    def held_bytes(self) -> int:
        return 2 * self.k[:, :self.n].nbytes


class RollingKV:
    """The last ``window`` tokens' K and V in slots ``p mod size`` (size = min(W, capacity))."""

    kind = "sliding"

    def __init__(self, kv_heads: int, head_dim: int, window: int, capacity: int, dtype: str) -> None:
        size = min(window, capacity)
        self.k = np.empty((kv_heads, size, head_dim), stored_dtype(dtype))
        self.v = np.empty_like(self.k)
        self.positions = np.full(size, -1, dtype=np.int64)  # [size] token in each slot
        self.seen, self.dtype = 0, dtype

    def _held(self) -> int:
        return min(self.seen, self.k.shape[1])

    def update(self, k: np.ndarray, v: np.ndarray, pos: np.ndarray):
        """Add k, v [nkv, T, hd] at ``pos`` [T] -> the (k, v, positions) the new queries attend
        to: the held slots after the write for one token, or the held slots before it plus all
        T new ones for a longer input (whose first queries need keys the write drops)."""
        size, T = self.k.shape[1], k.shape[1]
        if T > 1:
            held = self._held()
            old = (load(self.k[:, :held], self.dtype), load(self.v[:, :held], self.dtype))
            keys = (np.concatenate([old[0], k], axis=1), np.concatenate([old[1], v], axis=1),
                    np.concatenate([self.positions[:held], pos]))
        keep = slice(max(0, T - size), T)  # the new tokens the buffer keeps
        slots = pos[keep] % size
        self.k[:, slots], self.v[:, slots] = store(k[:, keep], self.dtype), store(v[:, keep], self.dtype)
        self.positions[slots] = pos[keep]
        self.seen += T
        if T > 1:
            return keys
        held = self._held()
        return (load(self.k[:, :held], self.dtype), load(self.v[:, :held], self.dtype),
                self.positions[:held])

    @property
    def held_bytes(self) -> int:
        return 2 * self.k[:, :self._held()].nbytes


class ChunkedKV(RollingKV):
    """A chunked layer's cache (Llama 4): the last ``chunk`` tokens in a rolling buffer, which
    always holds the earlier tokens of the current chunk; the chunk mask keeps the rest out of
    the scores. ``min(seen, chunk)`` tokens, one chunk at most, as ``analysis.kvcache`` counts
    them (and as transformers keeps chunked layers: a sliding buffer of one chunk)."""

    kind = "chunked"


class LatentKV:
    """An MLA layer's cache: the normed latent [capacity, r] and the shared RoPE key
    [capacity, dr] of every token, one copy for all heads (``kv_lora_rank + qk_rope_head_dim``
    values per token, the figure ``analysis.kvcache`` gives MLA)."""

    kind = "latent"

    def __init__(self, rank: int, rope_dim: int, capacity: int, dtype: str) -> None:
        self.c = np.empty((capacity, rank), stored_dtype(dtype))
        self.k_pe = np.empty((capacity, rope_dim), stored_dtype(dtype))
        self.n, self.dtype = 0, dtype

    def update(self, c: np.ndarray, k_pe: np.ndarray, pos: np.ndarray):
        """Append c [T, r] and k_pe [T, dr] -> every cached (c, k_pe, positions)."""
        n, T = self.n, c.shape[0]
        if n + T > self.c.shape[0]:
            raise LlmarchError(f"the cache holds {self.c.shape[0]} tokens; {n + T} were given")
        self.c[n:n + T], self.k_pe[n:n + T] = store(c, self.dtype), store(k_pe, self.dtype)
        self.n = n + T
        return load(self.c[:n + T], self.dtype), load(self.k_pe[:n + T], self.dtype), np.arange(n + T)

    @property
    def held_bytes(self) -> int:
        return self.c[:self.n].nbytes + self.k_pe[:self.n].nbytes


class LinearState:
    """A gated-DeltaNet layer's fixed state (Qwen3-Next): the last ``kernel - 1`` conv inputs
    [kernel - 1, channels] and one key x value memory per value head [nv, dk, dv]."""

    kind = "linear"

    def __init__(self, channels: int, kernel: int, value_heads: int, key_dim: int, value_dim: int,
                 dtype: str) -> None:
        self.conv = np.zeros((kernel - 1, channels), stored_dtype(dtype))
        self.state = np.zeros((value_heads, key_dim, value_dim), stored_dtype(dtype))
        self.dtype = dtype

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        return load(self.conv, self.dtype), load(self.state, self.dtype)

    def write(self, conv: np.ndarray, state: np.ndarray) -> None:
        self.conv[...], self.state[...] = store(conv, self.dtype), store(state, self.dtype)

    @property
    def held_bytes(self) -> int:
        return self.conv.nbytes + self.state.nbytes


class CrossKV:
    """K and V of the encoder output [nkv, S_enc, hd], set by the first decoder step."""

    kind = "cross"

    def __init__(self, dtype: str) -> None:
        self.k: np.ndarray | None = None
        self.v: np.ndarray | None = None
        self.dtype = dtype

    def get(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self.k is None:
            return None
        return load(self.k, self.dtype), load(self.v, self.dtype)

    def set(self, k: np.ndarray, v: np.ndarray) -> None:
        self.k, self.v = store(k, self.dtype), store(v, self.dtype)

    @property
    def held_bytes(self) -> int:
        return 0 if self.k is None else 2 * self.k.nbytes


@dataclass
class DecodeCache:
    """Every decoder layer's caches, the decoder tokens processed and the encoder output."""

    layers: list  # per decoder layer: FullKV or RollingKV
    cross: list[CrossKV] = field(default_factory=list)  # per decoder layer (encoder-decoders)
    position: int = 0  # decoder tokens the caches have seen
    memory: np.ndarray | None = None  # encoder output [S_enc, H]

    def bytes_by_kind(self) -> dict[str, int]:
        """Bytes held now per layer kind, in the order of ``KINDS``, kinds present only."""
        totals = dict.fromkeys(KINDS, 0)
        present = set()
        for c in [*self.layers, *self.cross]:
            totals[c.kind] += c.held_bytes
            present.add(c.kind)
        return {kind: b for kind, b in totals.items() if kind in present}

    @property
    def held_bytes(self) -> int:
        return sum(self.bytes_by_kind().values())


def new_cache(spec: ArchSpec, capacity: int, dtype: str) -> DecodeCache:
    """Empty caches for ``capacity`` decoder tokens: a rolling buffer for sliding and chunked
    layers."""
    if spec.architecture == "encoder":
        raise LlmarchError(f"{spec.id} is encoder-only: it generates no tokens and keeps no KV cache")
    a = spec.attention
    *_, layers = stacks(spec)[-1]
    caches = []
    for i in range(layers):
        window = a.layer_window(i)
        if a.layer_type(i) == "linear":
            la = spec.linear_attention
            caches.append(LinearState(la.conv_channels, la.conv_kernel, la.num_value_heads,
                                      la.key_head_dim, la.value_head_dim, dtype))
        elif a.mla is not None:
            caches.append(LatentKV(a.mla.kv_lora_rank, a.mla.qk_rope_head_dim, capacity, dtype))
        elif a.layer_type(i) == "chunked":
            caches.append(ChunkedKV(a.num_kv_heads, a.head_dim, a.chunk_size, capacity, dtype))
        elif window is None:
            caches.append(FullKV(a.num_kv_heads, a.head_dim, capacity, dtype))
        else:
            caches.append(RollingKV(a.num_kv_heads, a.head_dim, window, capacity, dtype))
    cross = [CrossKV(dtype) for _ in range(layers)] if spec.architecture == "encoder-decoder" else []
    return DecodeCache(caches, cross)
