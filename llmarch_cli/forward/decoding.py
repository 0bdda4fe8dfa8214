"""Step-by-step decoding: a prefill over the prompt, then one token per step through the cache.

``generate(model, prompt, n)`` makes ``n`` new tokens. The prefill (``Model.run`` with an empty
``forward.cache.DecodeCache``) gives the first; each later step feeds the token just chosen and
reads every earlier token's K and V from the cache. A decoder-only model continues the prompt;
an encoder-decoder encodes the prompt once and its decoder starts from ``start_token``
(transformers' ``decoder_start_token_id``). Tokens are chosen greedily (temperature 0, the
first maximum as ``argmax`` takes it) or sampled from ``softmax(logits / temperature)`` over
the ``top_k`` most probable, with a seeded generator.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from llmarch_cli.errors import LlmarchError
from llmarch_cli.forward.cache import new_cache
from llmarch_cli.forward.model import Model, Trace
from llmarch_cli.kernels.activations import softmax

MAX_NEW_TOKENS = 8192  # more is a typo: the per-step table alone would be unreadable


@dataclass
class Step:
    """One generated token: what went in, what came out, the cache after it, the time taken."""

    step: int  # 0 = the prefill
    input_tokens: int
    token: int
    position: int  # where the token will sit in the decoder's sequence
    cache_bytes: dict[str, int]  # held per layer kind after this step
    seconds: float


@dataclass
class Generation:
    prefill: Trace  # the prompt's forward pass with its per-layer statistics
    tokens: list[int] = field(default_factory=list)  # the new tokens
    steps: list[Step] = field(default_factory=list)
    logits: list[np.ndarray] = field(default_factory=list)  # [V] per new token, when kept

    @property
    def decode_seconds_per_token(self) -> float | None:
        """Mean seconds of the steps after the prefill (None with fewer than two tokens)."""
        later = [s.seconds for s in self.steps[1:]]
        return sum(later) / len(later) if later else None


def check_sampling(n: int, temperature: float, top_k: int | None) -> None:
    """LlmarchError for a token count, temperature or top-k that cannot be honoured."""
    if not 1 <= n <= MAX_NEW_TOKENS:
        raise LlmarchError(f"--generate {n} is out of range (1..{MAX_NEW_TOKENS} new tokens)")
    if not temperature >= 0 or temperature == float("inf"):
        raise LlmarchError(f"--temperature must be a finite number >= 0, got {temperature:g}")
    if top_k is not None and temperature == 0:
        raise LlmarchError("--top-k applies to sampling", "set --temperature above 0")
    if top_k is not None and top_k < 1:
        raise LlmarchError(f"--top-k must be at least 1, got {top_k}")


def choose(logits: np.ndarray, temperature: float, top_k: int | None,
           rng: np.random.Generator) -> int:
    """The next token from logits [V]: argmax at temperature 0, else a sample."""
    if temperature == 0:
        return int(np.argmax(logits))
    scaled = logits.astype(np.float64) / temperature  # [V]
    if top_k is not None and top_k < scaled.size:
        cut = np.partition(scaled, -top_k)[-top_k]
        scaled = np.where(scaled >= cut, scaled, -np.inf)
    return int(rng.choice(scaled.size, p=softmax(scaled)))


def check_room(model: Model, prompt: list[int], n: int) -> None:
    """LlmarchError when learned positions run out before the last new token is fed."""
    pos = model.spec.positions
    decoder_tokens = len(prompt) if model.spec.architecture == "decoder" else 1
    if pos.kind == "learned" and decoder_tokens + n - 1 > pos.max_positions:
        raise LlmarchError(f"{len(prompt)} prompt tokens + {n} new need {decoder_tokens + n - 1} "
                           f"positions; {model.spec.id} has {pos.max_positions}")


def generate(model: Model, prompt: list[int], n: int, *, temperature: float = 0.0,
             top_k: int | None = None, seed: int = 0, start_token: int = 0,
             keep_logits: bool = False, keep_attention: frozenset = frozenset()) -> Generation:
    """Prefill ``prompt`` then decode until ``n`` (at least 1) new tokens exist."""
    check_sampling(n, temperature, top_k)
    check_room(model, prompt, n)
    seq2seq = model.spec.architecture == "encoder-decoder"
    decoder_in = [start_token] if seq2seq else list(prompt)
    cache = new_cache(model.spec, len(decoder_in) + n - 1, model.dtype)
    rng = np.random.default_rng(seed)
    t0 = time.perf_counter()
    trace = model.run(prompt, keep_attention, decoder_tokens=decoder_in if seq2seq else None,
                      cache=cache)
    gen = Generation(prefill=trace)
    logits, fed, elapsed = trace.logits[-1], len(decoder_in), time.perf_counter() - t0
    for i in range(n):
        if i:
            t0 = time.perf_counter()
            logits = model.step([gen.tokens[-1]], cache)[-1]
            fed, elapsed = 1, time.perf_counter() - t0
        token = choose(logits, temperature, top_k, rng)
        gen.tokens.append(token)
        if keep_logits:
            gen.logits.append(logits)
        gen.steps.append(Step(i, fed, token, cache.position, cache.bytes_by_kind(), elapsed))
    return gen
