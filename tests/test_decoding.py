"""Step-by-step decoding: every step's logits equal the full-sequence forward at that position,
and the bytes the caches hold equal ``analysis.kvcache`` for the same spec, context and dtype."""

from __future__ import annotations

import numpy as np
import pytest

from llmarch_cli.analysis.kvcache import KV_DTYPES, kv_cache_bytes
from llmarch_cli.errors import LlmarchError
from llmarch_cli.forward.decoding import choose, generate
from llmarch_cli.forward.layout import model_shapes
from llmarch_cli.forward.model import Model
from llmarch_cli.forward.replica import random_weights, tiny_spec
from llmarch_cli.forward.runner import build_model
from llmarch_cli.specs.loader import load_preset, resolve_model
from llmarch_cli.specs.registry import FAMILY_REPRESENTATIVES

PROMPT = [3, 1, 4, 1, 5, 9, 2]  # longer than the tiny replicas' window of 4
NEW = 6


def _runs(preset: str) -> bool:
    """Whether the forward pass implements the preset's tiny replica (the others raise a
    clear LlmarchError, checked below)."""
    try:
        model_shapes(tiny_spec(load_preset(preset)))
    except LlmarchError:
        return False
    return True


HYBRIDS = {"qwen3-next-80b-a3b"}  # gated DeltaNet layers among full-attention ones
INTERLEAVED_MOE = {"llama-4-maverick"}  # dense and MoE layers alternate, no QK-norm
SECOND_GENERATIONS = {"deepseek-v2-lite"}  # MLA with direct queries, softmax routing
REPRESENTATIVES = sorted(set(FAMILY_REPRESENTATIVES.values()) - {"bert-base-uncased"} | HYBRIDS
                         | INTERLEAVED_MOE | SECOND_GENERATIONS)
GENERATORS = [p for p in REPRESENTATIVES if _runs(p)]


def _full_logits(model: Model, gen_tokens: list[int]) -> np.ndarray:
    """The full-sequence forward's logits at the positions that chose each new token."""
    if model.spec.architecture == "encoder-decoder":
        return model.run(PROMPT, decoder_tokens=[0, *gen_tokens[:-1]]).logits
    return model.run(PROMPT + gen_tokens[:-1]).logits[len(PROMPT) - 1:]


@pytest.mark.parametrize("preset", GENERATORS)
def test_every_decode_step_gives_the_full_forward_logits_at_its_position(preset):
    model = build_model(resolve_model(preset), PROMPT, seed=4)
    gen = generate(model, PROMPT, NEW, keep_logits=True)
    assert len(gen.tokens) == NEW
    full = _full_logits(model, gen.tokens)
    err = max(float(np.abs(step - ref).max()) for step, ref in zip(gen.logits, full, strict=True))
    assert err <= 1e-4, f"max-abs difference {err:.2e}"
    assert gen.tokens == [int(np.argmax(row)) for row in full]


@pytest.mark.parametrize("dtype", ["fp32", "fp16", "bf16"])
@pytest.mark.parametrize("preset", GENERATORS)
def test_cache_holds_exactly_the_bytes_kvcache_predicts_after_every_step(preset, dtype):
    model = Model(tiny_spec(load_preset(preset)), random_weights(tiny_spec(load_preset(preset)), 1),
                  dtype=dtype)
    gen = generate(model, PROMPT, NEW)
    seq2seq = model.spec.architecture == "encoder-decoder"
    for step in gen.steps:
        context = step.position  # decoder tokens the caches have seen
        expected = kv_cache_bytes(model.spec, context, kvd=KV_DTYPES[dtype],
                                  encoder_length=len(PROMPT) if seq2seq else None)
        assert sum(step.cache_bytes.values()) == expected, (step.step, step.cache_bytes)


def test_sliding_layers_hold_at_most_the_window_and_full_layers_everything():
    spec = tiny_spec(load_preset("gpt-oss-20b"))  # alternating sliding (window 4) / full
    model = Model(spec, random_weights(spec, 0))
    last = generate(model, PROMPT, NEW).steps[-1]
    a = spec.attention
    per_token_layer = 2 * a.num_kv_heads * a.head_dim * 4  # K and V, fp32
    sliding = sum(1 for i in range(spec.num_layers) if a.layer_window(i))
    assert last.cache_bytes["sliding"] == sliding * a.sliding_window * per_token_layer
    assert last.cache_bytes["full"] == (spec.num_layers - sliding) * last.position * per_token_layer


def test_chunked_layers_hold_one_chunk_at_most_and_the_global_layer_everything():
    spec = tiny_spec(load_preset("llama-4-scout"))  # chunks of 4 on layers 0-2, layer 3 global
    model = Model(spec, random_weights(spec, 0))
    steps = generate(model, PROMPT, NEW).steps
    a = spec.attention
    per_token_layer = 2 * a.num_kv_heads * a.head_dim * 4  # K and V, fp32
    assert [s.cache_bytes["chunked"] for s in steps] == [3 * a.chunk_size * per_token_layer] * NEW
    assert [s.cache_bytes["full"] for s in steps] == [s.position * per_token_layer for s in steps]


def test_same_seed_samples_the_same_tokens_and_temperature_zero_is_greedy():
    model = build_model(resolve_model("llama-2-7b"), PROMPT, seed=0)
    a = generate(model, PROMPT, 5, temperature=1.5, top_k=20, seed=7).tokens
    b = generate(model, PROMPT, 5, temperature=1.5, top_k=20, seed=7).tokens
    assert a == b
    greedy = generate(model, PROMPT, 5).tokens
    assert greedy == generate(model, PROMPT, 5, seed=99).tokens


def test_top_k_one_samples_the_argmax():
    logits = np.array([0.1, 3.0, 2.9, -1.0], np.float32)
    rng = np.random.default_rng(0)
    assert {choose(logits, 5.0, 1, rng) for _ in range(20)} == {1}


def test_encoder_only_model_cannot_generate():
    model = build_model(resolve_model("bert-base-uncased"), PROMPT)
    with pytest.raises(LlmarchError, match="encoder-only"):
        generate(model, PROMPT, 2)


@pytest.mark.parametrize(("n", "temperature", "top_k", "message"), [
    (-1, 0.0, None, "--generate -1 is out of range"),
    (0, 0.0, None, "--generate 0 is out of range"),
    (10**9, 0.0, None, "out of range"),
    (2, -0.5, None, "--temperature must be a finite number >= 0"),
    (2, float("nan"), None, "--temperature"),
    (2, 0.0, 5, "--top-k applies to sampling"),
])
def test_impossible_generation_settings_are_refused(n, temperature, top_k, message):
    model = build_model(resolve_model("gpt2"), PROMPT)
    with pytest.raises(LlmarchError, match=message):
        generate(model, PROMPT, n, temperature=temperature, top_k=top_k)


def test_learned_positions_running_out_are_refused_before_decoding():
    model = build_model(resolve_model("gpt2"), PROMPT)  # tiny gpt2: 1024 learned positions
    with pytest.raises(LlmarchError, match="1024"):
        generate(model, PROMPT, 1024)


def test_families_the_forward_pass_does_not_run_yet_say_what_is_missing():
    for preset in sorted(set(REPRESENTATIVES) - set(GENERATORS)):
        with pytest.raises(LlmarchError, match="forward does not implement"):
            build_model(resolve_model(preset), PROMPT)
