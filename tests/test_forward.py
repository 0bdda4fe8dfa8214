"""Runnable models without torch: tiny replicas of every preset, causality, bf16 rounding,
the full-size memory check, and checkpoint folders with missing or contradicting tensors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from llmarch_cli.errors import LlmarchError
from llmarch_cli.forward.layout import check_supported
from llmarch_cli.forward.model import Model
from llmarch_cli.forward.precision import round_bf16
from llmarch_cli.forward.replica import random_weights, tiny_spec
from llmarch_cli.forward.runner import build_model
from llmarch_cli.specs.loader import load_preset, resolve_model
from llmarch_cli.specs.registry import FAMILY_REPRESENTATIVES

TOKENS = [3, 1, 4, 1, 5, 9, 2, 6]


def _forward_supports(preset: str) -> bool:
    try:
        check_supported(load_preset(preset))
    except LlmarchError:
        return False
    return True


REPRESENTATIVES = sorted(set(FAMILY_REPRESENTATIVES.values()))
RUNNABLE = [p for p in REPRESENTATIVES if _forward_supports(p)]


@pytest.mark.parametrize("preset", RUNNABLE)
def test_tiny_replica_of_every_family_gives_finite_logits_per_token_and_vocab_entry(preset):
    model = build_model(resolve_model(preset), TOKENS, seed=1)
    logits = model.run(TOKENS).logits
    assert logits.shape == (len(TOKENS), model.spec.embeddings.vocab_size)
    assert logits.dtype == np.float32
    assert np.isfinite(logits).all()


@pytest.mark.parametrize("preset", sorted(set(REPRESENTATIVES) - set(RUNNABLE)))
def test_families_forward_does_not_implement_yet_say_which_features_in_one_line(preset):
    # Issue 8's families (MLA, QK-norm, soft-caps, hybrids ...) run in the decoding lane's kernels.
    with pytest.raises(LlmarchError, match="forward does not implement") as info:
        build_model(resolve_model(preset), TOKENS, seed=1)
    assert "\n" not in info.value.message


@pytest.mark.parametrize("preset", ["gpt2", "llama-2-7b", "mistral-7b-v0.1", "mixtral-8x7b",
                                    "gpt-oss-20b", "pythia-1b", "gpt-j-6b", "bloom-560m",
                                    "llama-4-scout"])
def test_decoder_logits_do_not_depend_on_later_tokens(preset):
    model = build_model(resolve_model(preset), TOKENS, seed=2)
    changed = TOKENS[:5] + [7, 7, 7]
    a, b = model.run(TOKENS).logits, model.run(changed).logits
    np.testing.assert_allclose(a[:5], b[:5], atol=1e-5)  # MoE batches differ: float order
    assert not np.allclose(a[5:], b[5:])


def test_chunked_layers_on_long_inputs_attend_chunk_by_chunk_with_the_same_logits(monkeypatch):
    from llmarch_cli.forward import model as forward_model

    tokens = TOKENS * 3  # 24 tokens, chunks of 4 on layers 0-2 of the tiny Scout
    model = build_model(resolve_model("llama-4-scout"), tokens, seed=3)
    dense = model.run(tokens)
    monkeypatch.setattr(forward_model, "BLOCKED_WINDOW_FROM", 16)
    blocked = model.run(tokens)
    np.testing.assert_allclose(blocked.logits, dense.logits, atol=1e-5)
    assert [lt.entropy is None for lt in blocked.layers] == [True, True, True, False]


def test_encoder_logits_do_depend_on_later_tokens():
    model = build_model(resolve_model("bert-base-uncased"), TOKENS, seed=2)
    a, b = model.run(TOKENS).logits, model.run(TOKENS[:5] + [7, 7, 7]).logits
    assert not np.allclose(a[0], b[0])


def test_tiny_replica_keeps_the_structure_and_shrinks_the_sizes():
    full = load_preset("gpt-oss-20b")
    tiny = tiny_spec(full)
    a, t = full.attention, tiny.attention
    assert (t.num_heads // t.num_kv_heads, t.sinks, t.layer_types) == (8, True, a.layer_types[:4])
    assert t.sliding_window == 4 and tiny.num_layers == 4
    assert (tiny.moe.num_experts, tiny.moe.top_k, tiny.moe.routing) == (
        full.moe.num_experts, full.moe.top_k, full.moe.routing)
    assert tiny.positions.rope.scaling == full.positions.rope.scaling
    assert (tiny.norm, tiny.ffn.glu_limit, tiny.head.tied) == (full.norm, 7.0, False)
    neox = tiny_spec(load_preset("pythia-1b"))
    assert neox.positions.rope.rotary_dim == neox.attention.head_dim // 4  # rotary_pct 0.25
    assert tiny_spec(load_preset("bloom")).attention.num_heads == 6  # 112 heads: not a power of 2
    scout = tiny_spec(load_preset("llama-4-scout")).attention  # chunks and temperature steps bind
    assert (scout.chunk_size, scout.temperature_tuning.floor_scale, scout.nope_layers) == (4, 4, (3,))


def test_same_seed_same_logits_other_seed_other_logits():
    spec = tiny_spec(load_preset("llama-2-7b"))
    run = lambda seed: Model(spec, random_weights(spec, seed)).run(TOKENS).logits  # noqa: E731
    np.testing.assert_array_equal(run(0), run(0))
    assert not np.allclose(run(0), run(1))


def test_bf16_rounds_to_nearest_with_ties_to_even():
    x = np.array([1 + 2**-8, 1 + 3 * 2**-8, 1 + 2**-8 + 2**-20, -(1 + 2**-8), np.inf, np.nan],
                 dtype=np.float32)
    out = round_bf16(x)
    np.testing.assert_array_equal(out[:5], [1.0, 1 + 2**-6, 1 + 2**-7, -1.0, np.inf])
    assert np.isnan(out[5])


def test_fp16_and_bf16_runs_differ_from_fp32_by_their_precision():
    spec = tiny_spec(load_preset("llama-2-7b"))
    weights = random_weights(spec, 0)
    exact = Model(spec, weights).run(TOKENS).logits
    half = Model(spec, weights, dtype="fp16").run(TOKENS).logits
    brain = Model(spec, weights, dtype="bf16").run(TOKENS).logits
    assert 0 < np.abs(half - exact).max() < np.abs(brain - exact).max() < 0.5


def test_full_size_that_does_not_fit_is_refused_before_allocating(monkeypatch):
    monkeypatch.setattr("llmarch_cli.forward.replica.available_bytes", lambda: 2**30)
    # transformers' count of Llama-2-7B in fp32, plus the joined q|k|v and gate|up copies
    need = (6_738_415_616 + 32 * (3 * 4096 * 4096 + 2 * 4096 * 11008)) * 4 / 2**30
    with pytest.raises(LlmarchError, match=rf"needs {need:.2f} GiB .* 1\.00 GiB of memory"):
        build_model(resolve_model("llama-2-7b"), [1], scale="full")


def _no_proc_meminfo(real_open):
    def fake(path, *args, **kwargs):
        if str(path) == "/proc/meminfo":
            raise FileNotFoundError(path)
        return real_open(path, *args, **kwargs)
    return fake


def test_full_size_where_memory_is_unknown_runs_with_a_note(monkeypatch, capsys):
    def no_sysconf(name):
        raise ValueError(f"unrecognized configuration name {name!r}")  # macOS: SC_AVPHYS_PAGES

    monkeypatch.setattr("builtins.open", _no_proc_meminfo(open))
    monkeypatch.setattr("os.sysconf", no_sysconf)
    from llmarch_cli.forward.replica import available_bytes, check_fits

    assert available_bytes() is None
    check_fits(load_preset("llama-2-7b"))
    assert "available memory is unknown" in capsys.readouterr().err


@pytest.mark.parametrize(("preset", "joined"), [
    ("llama-2-7b", 32 * (3 * 4096 * 4096 + 2 * 4096 * 11008)),  # q, k, v and gate, up per layer
    ("t5-small", 12 * 3 * 512 * 512),  # self-attention of 6 + 6 layers; cross-attention apart
])
def test_building_a_full_replica_counts_the_joined_copies_beside_the_weights(preset, joined):
    from llmarch_cli.forward.replica import build_bytes, weight_bytes

    spec = load_preset(preset)
    assert build_bytes(spec) == weight_bytes(spec) + joined * 4


def test_token_outside_the_vocabulary_is_refused():
    with pytest.raises(LlmarchError, match="token id 1024 is outside the vocabulary"):
        build_model(resolve_model("llama-2-7b"), [1, 1024])


# -- checkpoint folders (weights written with numpy, no torch) -------------------------------

GPT2_CONFIG = {"model_type": "gpt2", "n_embd": 8, "n_head": 2, "n_layer": 1, "n_positions": 16,
               "vocab_size": 11, "n_inner": 12}


def _gpt2_tensors(rng) -> dict[str, np.ndarray]:
    h, i, v, p = 8, 12, 11, 16
    shapes = {"wte.weight": (v, h), "wpe.weight": (p, h), "ln_f.weight": (h,), "ln_f.bias": (h,)}
    layer = {"ln_1.weight": (h,), "ln_1.bias": (h,), "ln_2.weight": (h,), "ln_2.bias": (h,),
             "attn.c_attn.weight": (h, 3 * h), "attn.c_attn.bias": (3 * h,),
             "attn.c_proj.weight": (h, h), "attn.c_proj.bias": (h,),
             "mlp.c_fc.weight": (h, i), "mlp.c_fc.bias": (i,),
             "mlp.c_proj.weight": (i, h), "mlp.c_proj.bias": (h,)}
    shapes.update({f"h.0.{k}": s for k, s in layer.items()})
    return {f"transformer.{k}": rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()}


def _folder(tmp_path, tensors, config=GPT2_CONFIG):
    from safetensors.numpy import save_file

    (tmp_path / "config.json").write_text(json.dumps(config))
    save_file(tensors, str(tmp_path / "model.safetensors"))
    return tmp_path


def test_checkpoint_folder_loads_real_weights_in_gpt2_conv1d_layout(tmp_path):
    pytest.importorskip("safetensors")
    tensors = _gpt2_tensors(np.random.default_rng(0))
    model = build_model(resolve_model(str(_folder(tmp_path, tensors))), [1, 2])
    w, b = tensors["transformer.h.0.attn.c_attn.weight"], tensors["transformer.h.0.attn.c_attn.bias"]
    x = np.random.default_rng(1).standard_normal((3, 8)).astype(np.float32)
    k = model._project(x, "model.0.attn.", "k")  # Conv1D [in, out]: [q | k | v] columns
    np.testing.assert_allclose(k, x @ w[:, 8:16] + b[8:16], rtol=1e-6)
    np.testing.assert_array_equal(model.w["model.embed.weight"], tensors["transformer.wte.weight"])
    assert model.run([1, 2, 3]).logits.shape == (3, 11)


def test_checkpoint_missing_tensors_are_named(tmp_path):
    pytest.importorskip("safetensors")
    tensors = _gpt2_tensors(np.random.default_rng(0))
    del tensors["transformer.h.0.mlp.c_fc.bias"], tensors["transformer.ln_f.weight"]
    with pytest.raises(LlmarchError, match="missing transformer.h.0.mlp.c_fc.bias, transformer.ln_f"):
        build_model(resolve_model(str(_folder(tmp_path, tensors))), [1])


def test_checkpoint_shape_that_contradicts_the_config_is_refused(tmp_path):
    pytest.importorskip("safetensors")
    tensors = _gpt2_tensors(np.random.default_rng(0))
    tensors["transformer.h.0.mlp.c_fc.weight"] = np.zeros((8, 13), np.float32)
    with pytest.raises(LlmarchError, match=r"c_fc.weight has shape \[8, 13\] but config.json implies \[8, 12\]"):
        build_model(resolve_model(str(_folder(tmp_path, tensors))), [1])


def test_sharded_index_naming_a_missing_shard_is_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(GPT2_CONFIG))
    index = {"weight_map": {"transformer.wte.weight": "model-00001-of-00002.safetensors"}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(LlmarchError, match="shard 'model-00001-of-00002.safetensors' is missing"):
        build_model(resolve_model(str(tmp_path)), [1])


def test_hostile_checkpoint_header_fails_before_any_weight_is_read(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(GPT2_CONFIG))
    (tmp_path / "model.safetensors").write_bytes((2**40).to_bytes(8, "little") + b"{}")
    with pytest.raises(LlmarchError, match="beyond the file"):
        build_model(resolve_model(str(tmp_path)), [1])


def test_loading_reports_progress_up_to_every_byte_of_the_checkpoint(tmp_path):
    pytest.importorskip("safetensors")
    tensors = _gpt2_tensors(np.random.default_rng(0))
    calls: list[tuple[int, int]] = []
    build_model(resolve_model(str(_folder(tmp_path, tensors))), [1], progress=lambda *a: calls.append(a))
    total = sum(t.nbytes for t in tensors.values())
    assert calls[-1] == (total, total)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


@pytest.mark.parametrize("preset, stack", [("llama-2-7b", "model"), ("bart-base", "decoder")])
def test_separate_projections_are_joined_column_wise_at_load_and_cross_attention_stays_apart(
        preset, stack):
    spec = tiny_spec(load_preset(preset))
    weights = random_weights(spec, 0)
    w = Model(spec, weights).w
    p = f"{stack}.0."
    for fused, parts in (("attn.qkv", ("attn.q", "attn.k", "attn.v")),
                         ("ffn.gate_up", ("ffn.gate", "ffn.up"))):
        if f"{p}{parts[0]}.weight" not in weights:
            continue  # BART's FFN is not gated
        for suffix in ("weight", "bias"):
            if f"{p}{parts[0]}.{suffix}" in weights:
                joined = np.concatenate([weights[f"{p}{n}.{suffix}"] for n in parts], axis=-1)
                np.testing.assert_array_equal(w[f"{p}{fused}.{suffix}"], joined)
            assert not any(f"{p}{n}.{suffix}" in w for n in parts)
    if spec.architecture == "encoder-decoder":
        assert all(f"{p}cross.{n}.weight" in w for n in "qkv")
    assert sum(a.nbytes for a in w.values()) == sum(a.nbytes for a in weights.values())


def test_full_size_replica_reports_progress_of_the_weights_it_draws():
    calls: list[tuple[int, int]] = []
    model = build_model(resolve_model("tests/data/tiny-gqa.json"), [1], scale="full", progress=lambda *a: calls.append(a))
    total = sum(w.nbytes for w in model.w.values())
    assert calls[-1] == (total, total)


@pytest.mark.parametrize("config, first_missing", [
    ({"model_type": "t5", "d_model": 8, "d_kv": 4, "num_heads": 2, "num_layers": 1, "d_ff": 8,
      "vocab_size": 11}, "shared.weight"),
    ({"model_type": "bert", "hidden_size": 8, "num_attention_heads": 2, "num_hidden_layers": 1,
      "intermediate_size": 8, "vocab_size": 11}, "bert.embeddings.word_embeddings.weight"),
    ({"model_type": "bart", "d_model": 8, "encoder_attention_heads": 2, "decoder_attention_heads": 2,
      "encoder_layers": 1, "decoder_layers": 1, "encoder_ffn_dim": 8, "decoder_ffn_dim": 8,
      "vocab_size": 11}, "model.shared.weight"),
])
def test_encoder_family_checkpoint_missing_tensors_are_named(tmp_path, config, first_missing):
    pytest.importorskip("safetensors")
    folder = _folder(tmp_path, {"unrelated": np.zeros(1, np.float32)}, config)
    with pytest.raises(LlmarchError, match=f"checkpoint is missing {first_missing}"):
        build_model(resolve_model(str(folder)), [1])
