"""From a resolved MODEL to a runnable model, and from a trace to the forward report.

A folder holding ``config.json`` and safetensors weights loads the real weights; any other
resolved model (``specs.loader.resolve_model``) becomes a seeded replica, tiny by default (the scaling rule
is in ``forward.replica``) or full size when it fits in memory.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from llmarch_cli.errors import LlmarchError
from llmarch_cli.forward.decoding import Generation, check_sampling, generate
from llmarch_cli.forward.model import CapEffect, Model, Trace, check_tokens
from llmarch_cli.forward.replica import check_fits, random_weights, tiny_spec
from llmarch_cli.forward.results import (
    AttentionShown,
    ForwardResult,
    GenerationResult,
    GenerationStep,
    LatentCache,
    LayerStats,
    NextToken,
    SoftCap,
)
from llmarch_cli.kernels.activations import softmax
from llmarch_cli.specs.loader import ResolvedModel
from llmarch_cli.specs.model import ArchSpec

SCALES = ("tiny", "full")


def runtime_spec(model: ResolvedModel, scale: str = "tiny") -> ArchSpec:
    """The spec the model runs, without touching weights: a checkpoint folder's config.json,
    else the replica's spec (tiny, or the model itself at full scale)."""
    from llmarch_cli.forward.layout import check_supported

    spec = model.spec
    check_supported(spec)  # before shrinking: a replica of an unsupported family is no better
    if model.folder is not None:
        if model.changed:
            raise LlmarchError(f"{model.folder} holds real weights: what-ifs apply to replicas only")
        return spec
    if scale == "full":
        return spec
    if scale == "tiny":
        return tiny_spec(spec)
    raise LlmarchError(f"unknown scale {scale!r}", f"choose one of {', '.join(SCALES)}")


def build_model(model: ResolvedModel, tokens: list[int], *, scale: str = "tiny", seed: int = 0,
                dtype: str = "fp32", progress: Callable[[int, int], None] | None = None) -> Model:
    """The runnable model: real weights from a checkpoint folder, else a seeded replica.

    ``tokens`` are checked against the spec before any weight is read or allocated;
    ``progress(bytes_done, total_bytes)`` follows the weights being read or drawn.
    """
    spec = runtime_spec(model, scale)
    if model.folder is not None:
        from llmarch_cli.forward.hf_weights import load_hf_model

        return load_hf_model(model, dtype=dtype, tokens=tokens, progress=progress)
    check_tokens(spec, tokens)
    if scale == "full":
        check_fits(spec)
    return Model(spec, random_weights(spec, seed, progress), dtype=dtype)


def decoder_start_token(model: ResolvedModel) -> int:
    """The token an encoder-decoder's decoder starts from: ``decoder_start_token_id`` of its
    config.json, else 0 (T5's pad token)."""
    value = (model.config or {}).get("decoder_start_token_id")
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


def top_next(logits: np.ndarray, k: int = 5) -> list[NextToken]:
    """The k most probable next tokens after the last position."""
    probs = softmax(logits[-1].astype(np.float64))  # [V]
    ids = np.argsort(-probs, kind="stable")[:k]
    return [NextToken(token_id=int(i), prob=float(probs[i])) for i in ids]


def soft_cap_result(effect: CapEffect | None) -> SoftCap | None:
    if effect is None:
        return None
    return SoftCap(cap=effect.cap, max_abs_before_cap=effect.max_abs, clipped_values=effect.clipped,
                   values=effect.values, clipped_fraction=effect.clipped / max(effect.values, 1))


def latent_cache(spec: ArchSpec, tokens: int, dtype: str) -> LatentCache | None:
    """An MLA model's cache of ``tokens`` decoder tokens in ``dtype``, latent vs decompressed
    (``kernels.mla.mla_cache_values_per_token``); None without MLA."""
    from llmarch_cli.forward.layout import stacks
    from llmarch_cli.forward.precision import stored_dtype
    from llmarch_cli.kernels.mla import mla_cache_values_per_token

    a = spec.attention
    if a.mla is None:
        return None
    m, layers = a.mla, stacks(spec)[-1][2]
    values = mla_cache_values_per_token(a.num_heads, m.kv_lora_rank, m.qk_nope_head_dim,
                                        m.qk_rope_head_dim, m.v_head_dim)
    size = stored_dtype(dtype).itemsize
    return LatentCache(tokens=tokens, layers=layers, bytes_per_value=size,
                       latent_values_per_token_layer=values["absorbed"],
                       decompressed_values_per_token_layer=values["naive"],
                       latent_bytes=values["absorbed"] * layers * tokens * size,
                       decompressed_bytes=values["naive"] * layers * tokens * size)


def report(model: Model, trace: Trace, tokens: list[int], *, seed: int | None,
           attention: AttentionShown | None = None) -> ForwardResult:
    """The forward result: statistics per layer, stages, top tokens, logits, and what the
    new mechanisms did (routing choices, soft caps, layer types, MLA's cache)."""
    spec = model.spec
    layers = [
        LayerStats(stack=lt.stack, layer=lt.layer, layer_type=lt.kind, sliding_window=lt.window,
                   mean=lt.mean, std=lt.std, max_abs=lt.max_abs, attention_entropy_nats=lt.entropy,
                   expert_load=None if lt.routing is None else lt.routing.load,
                   routed_experts=None if lt.routing is None else lt.routing.experts,
                   routed_groups=None if lt.routing is None else lt.routing.groups,
                   attention_softcap=soft_cap_result(lt.softcap),
                   attention_ms=lt.attention_seconds * 1e3, ffn_ms=lt.ffn_seconds * 1e3)
        for lt in trace.layers
    ]
    return ForwardResult(
        model=spec.id, dtype=model.dtype, seed=seed, tokens=tokens, hidden_size=spec.hidden_size,
        num_heads=spec.attention.num_heads, vocab_size=spec.embeddings.vocab_size, layers=layers,
        stages_ms={name: seconds * 1e3 for name, seconds in trace.stages.items()},
        top_next_tokens=top_next(trace.logits), logits=trace.logits.tolist(), attention=attention,
        logit_softcap=soft_cap_result(trace.logit_softcap),
        latent_cache=latent_cache(spec, trace.logits.shape[0], model.dtype),
    )


def generation_result(gen: Generation, text=None) -> GenerationResult:
    """``forward.decoding.Generation`` as a result; with a ``forward.tokenizer.Text``, the new
    tokens decoded."""
    per_token = gen.decode_seconds_per_token
    return GenerationResult(
        tokens=gen.tokens, generated_text=None if text is None else text.decode(gen.tokens),
        prefill_ms=gen.steps[0].seconds * 1e3,
        decode_ms_per_token=None if per_token is None else per_token * 1e3,
        decode_tokens_per_second=None if not per_token else 1 / per_token,
        steps=[GenerationStep(step=s.step, input_tokens=s.input_tokens, token_id=s.token,
                              position=s.position, cache_bytes=s.cache_bytes, ms=s.seconds * 1e3)
               for s in gen.steps])


def run_forward(model: ResolvedModel, tokens: list[int], *, scale: str = "tiny", seed: int = 0,
                dtype: str = "fp32", show: tuple[int, int] | None = None,
                progress: Callable[[int, int], None] | None = None, new_tokens: int | None = None,
                temperature: float = 0.0, top_k: int | None = None, text=None) -> ForwardResult:
    """Build ``model`` (real weights from a folder, else a seeded replica) and run ``tokens``.

    ``show`` = (layer, head) of the last stack whose attention weights the result carries;
    both are checked against the spec before any weight is read. ``progress`` (bytes done,
    total) is called while weights load. ``new_tokens``: decode that many tokens after the
    prompt (``forward.decoding.generate``, sampled with ``temperature``/``top_k``/``seed``);
    ``text``: the ``forward.tokenizer.Text`` that encoded the prompt, to decode them.
    """
    from llmarch_cli.forward.layout import stacks

    spec = runtime_spec(model, scale)
    if new_tokens is not None:
        check_sampling(new_tokens, temperature, top_k)
        if spec.architecture == "encoder":
            raise LlmarchError(f"{spec.id} is encoder-only: it generates no tokens",
                               "drop --generate to see its forward pass")
    elif temperature != 0 or top_k is not None:
        raise LlmarchError("--temperature and --top-k apply to --generate")
    _, stack, layers = stacks(spec)[-1]
    if show is not None:
        layer, head = show
        if layer >= layers:
            raise LlmarchError(f"--layer {layer} is out of range: {spec.id} has {layers} layers")
        if head >= spec.attention.num_heads:
            raise LlmarchError(f"--head {head} is out of range: {spec.id} has {spec.attention.num_heads} heads")
    net = build_model(model, tokens, scale=scale, seed=seed, dtype=dtype, progress=progress)
    keep = frozenset({(stack, show[0])}) if show is not None else frozenset()
    gen = None
    if new_tokens is None:
        trace = net.run(tokens, keep_attention=keep)
    else:
        gen = generate(net, tokens, new_tokens, temperature=temperature, top_k=top_k, seed=seed,
                       start_token=decoder_start_token(model), keep_attention=keep)
        trace = gen.prefill
    shown = None
    if show is not None:
        layer, head = show
        probs = trace.attention.get((stack, layer))
        if probs is None:
            raise LlmarchError(f"layer {layer} ran the blocked sliding-window kernel, which keeps no weights")
        shown = AttentionShown(stack=stack, layer=layer, head=head, causal=stack == "dec",
                               sliding_window=net.spec.attention.layer_window(layer) if stack == "dec" else None,
                               weights=probs[head].tolist())
    result = report(net, trace, tokens, seed=None if model.folder is not None else seed,
                    attention=shown)
    if gen is None and text is None:
        return result
    return result.model_copy(update={
        "text": None if text is None else text.prompt,
        "generation": None if gen is None else generation_result(gen, text)})
