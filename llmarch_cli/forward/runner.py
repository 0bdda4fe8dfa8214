"""From a MODEL argument to a runnable model, and from a trace to the forward report.

A folder holding ``config.json`` and safetensors weights loads the real weights; anything else
``specs.loader.load_model`` accepts becomes a seeded replica, tiny by default (the scaling rule
is in ``forward.replica``) or full size when it fits in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from llmarch_cli.checkpoints.safetensors import INDEX, SINGLE
from llmarch_cli.errors import LlmarchError
from llmarch_cli.forward.decoding import Generation
from llmarch_cli.forward.model import Model, Trace, check_tokens
from llmarch_cli.forward.replica import check_fits, random_weights, tiny_spec
from llmarch_cli.kernels.activations import softmax
from llmarch_cli.specs.model import ArchSpec

SCALES = ("tiny", "full")


def has_weights(ref: str) -> bool:
    """True for a folder with config.json and model.safetensors (or its sharded index)."""
    folder = Path(ref)
    return (folder / "config.json").is_file() and (
        (folder / SINGLE).is_file() or (folder / INDEX).is_file()
    )


def runtime_spec(ref: str, scale: str = "tiny") -> ArchSpec:
    """The spec the model for ``ref`` runs, without touching weights: a checkpoint folder's
    config.json, else the replica's spec (tiny, or the model itself at full scale)."""
    from llmarch_cli.specs.loader import load_model

    spec = load_model(ref)
    if has_weights(ref) or scale == "full":
        return spec
    if scale == "tiny":
        return tiny_spec(spec)
    raise LlmarchError(f"unknown scale {scale!r}", f"choose one of {', '.join(SCALES)}")


def build_model(ref: str, tokens: list[int], *, scale: str = "tiny", seed: int = 0,
                dtype: str = "fp32", progress: Callable[[int, int], None] | None = None) -> Model:
    """The model for ``ref``: real weights from a checkpoint folder, else a seeded replica.

    ``tokens`` are checked against the spec before any weight is read or allocated;
    ``progress(bytes_done, total_bytes)`` follows the weights being read or drawn.
    """
    if has_weights(ref):
        from llmarch_cli.forward.hf_weights import load_hf_model

        return load_hf_model(Path(ref), dtype=dtype, tokens=tokens, progress=progress)
    spec = runtime_spec(ref, scale)
    check_tokens(spec, tokens)
    if scale == "full":
        check_fits(spec)
    return Model(spec, random_weights(spec, seed, progress), dtype=dtype)


def decoder_start_token(ref: str) -> int:
    """The token an encoder-decoder's decoder starts from: ``decoder_start_token_id`` of the
    folder's (or file's) config.json, else 0 (T5's pad token)."""
    import json

    path = Path(ref)
    path = path / "config.json" if path.is_dir() else path
    if path.name != "config.json" or not path.is_file():
        return 0
    try:
        value = json.loads(path.read_text(encoding="utf-8")).get("decoder_start_token_id")
    except (OSError, ValueError, AttributeError):
        return 0
    return value if isinstance(value, int) else 0


def parse_tokens(text: str) -> list[int]:
    """'1,2,3' -> [1, 2, 3]; LlmarchError for an empty list or a non-integer entry."""
    parts = [p.strip() for p in text.split(",")]
    if not any(parts):
        raise LlmarchError("no tokens given", "pass ids like --tokens 1,2,3")
    tokens = []
    for part in parts:
        try:
            tokens.append(int(part))
        except ValueError:
            raise LlmarchError(f"token {part!r} is not an integer id") from None
    return tokens


def top_next(logits: np.ndarray, k: int = 5) -> list[dict[str, Any]]:
    """The k most probable next tokens after the last position: [{token_id, prob}]."""
    probs = softmax(logits[-1].astype(np.float64))  # [V]
    ids = np.argsort(-probs, kind="stable")[:k]
    return [{"token_id": int(i), "prob": float(probs[i])} for i in ids]


def report(model: Model, trace: Trace, tokens: list[int], *, seed: int | None) -> dict[str, Any]:
    """The forward result as plain data: statistics per layer, stages, top tokens, logits."""
    spec = model.spec
    layers = [
        {
            "stack": lt.stack,
            "layer": lt.layer,
            "window": lt.window,
            "mean": lt.mean,
            "std": lt.std,
            "max_abs": lt.max_abs,
            "attention_entropy_nats": lt.entropy,
            "expert_load": lt.expert_load,
            "attention_ms": lt.attention_seconds * 1e3,
            "ffn_ms": lt.ffn_seconds * 1e3,
        }
        for lt in trace.layers
    ]
    return {
        "model": spec.id,
        "dtype": model.dtype,
        "seed": seed,
        "tokens": tokens,
        "hidden_size": spec.hidden_size,
        "num_heads": spec.attention.num_heads,
        "vocab_size": spec.embeddings.vocab_size,
        "layers": layers,
        "stages_ms": {name: seconds * 1e3 for name, seconds in trace.stages.items()},
        "top_next_tokens": top_next(trace.logits),
        "logits": trace.logits.tolist(),
    }


def generation_report(gen: Generation, text=None) -> dict[str, Any]:
    """--generate as plain data: the new tokens, one row per token, timings; with a
    ``forward.tokenizer.Text``, the new tokens decoded."""
    per_token = gen.decode_seconds_per_token
    return {
        "tokens": gen.tokens,
        "generated_text": None if text is None else text.decode(gen.tokens),
        "prefill_ms": gen.steps[0].seconds * 1e3 if gen.steps else None,
        "decode_ms_per_token": None if per_token is None else per_token * 1e3,
        "decode_tokens_per_second": None if not per_token else 1 / per_token,
        "steps": [{"step": s.step, "input_tokens": s.input_tokens, "token_id": s.token,
                   "position": s.position, "cache_bytes": s.cache_bytes, "ms": s.seconds * 1e3}
                  for s in gen.steps],
    }
