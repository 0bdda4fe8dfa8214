"""A MODEL is resolved once into one object: spec, baseline, weights folder, config read, note;
fine-tunes of a preset resolve to it (figures from their model cards), did-you-mean prefers the
same developer and size, and notes reach stderr only when the command succeeds."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import run

from llmarch_cli.analysis.params import count_params
from llmarch_cli.errors import LlmarchError
from llmarch_cli.forward.runner import build_model
from llmarch_cli.specs.loader import resolve_model
from llmarch_cli.specs.overrides import WhatIf
from llmarch_cli.specs.registry import FINE_TUNES, resolve_id


def test_a_what_if_keeps_the_model_before_it_as_the_baseline():
    model = resolve_model("llama-2-7b", WhatIf(kv_heads=8))
    assert (model.spec.attention.num_kv_heads, model.baseline.attention.num_kv_heads) == (8, 32)
    assert model.changed and not resolve_model("llama-2-7b").changed


def test_a_window_what_if_slides_every_layer_and_refuses_encoder_decoders():
    spec = resolve_model("llama-2-7b", WhatIf(window=4096)).spec
    assert [spec.attention.layer_window(i) for i in range(spec.num_layers)] == [4096] * 32
    with pytest.raises(LlmarchError, match="decoder-only"):
        resolve_model("t5-small", WhatIf(window=64))


def test_two_kv_head_what_ifs_at_once_are_refused():
    with pytest.raises(LlmarchError, match="one of --gqa, --mqa and --mha"):
        WhatIf(kv_heads=8, mqa=True)


def test_a_family_name_carries_the_note_of_the_preset_it_chose():
    assert resolve_model("llama").note == "llama -> llama-2-7b"
    assert resolve_model("llama-2-7b").note is None


def test_forward_runs_a_checkpoint_folder_from_the_config_read_once(tmp_path):
    from safetensors.numpy import save_file

    config = {"model_type": "gpt2", "n_layer": 1, "n_embd": 8, "n_head": 2, "vocab_size": 16,
              "n_positions": 8}
    (tmp_path / "config.json").write_text(json.dumps(config))
    rng = np.random.default_rng(0)
    shapes = {"wte.weight": (16, 8), "wpe.weight": (8, 8), "ln_f.weight": (8,), "ln_f.bias": (8,),
              "h.0.ln_1.weight": (8,), "h.0.ln_1.bias": (8,), "h.0.ln_2.weight": (8,),
              "h.0.ln_2.bias": (8,), "h.0.attn.c_attn.weight": (8, 24), "h.0.attn.c_attn.bias": (24,),
              "h.0.attn.c_proj.weight": (8, 8), "h.0.attn.c_proj.bias": (8,),
              "h.0.mlp.c_fc.weight": (8, 32), "h.0.mlp.c_fc.bias": (32,),
              "h.0.mlp.c_proj.weight": (32, 8), "h.0.mlp.c_proj.bias": (8,)}
    save_file({k: rng.standard_normal(s).astype(np.float32) for k, s in shapes.items()},
              str(tmp_path / "model.safetensors"))
    model = resolve_model(str(tmp_path))
    assert model.folder == tmp_path and model.config == config
    (tmp_path / "config.json").unlink()  # forward must not read it again
    assert build_model(model, [1, 2]).run([1, 2]).logits.shape == (2, 16)


def test_a_what_if_on_real_weights_is_refused(tmp_path):
    shutil.copy("tests/data/tiny-gqa.json", tmp_path / "config.json")
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.raises(LlmarchError, match="what-ifs apply to replicas"):
        build_model(resolve_model(str(tmp_path), WhatIf(kv_heads=1)), [1])


@pytest.mark.parametrize(("hf_id", "billions"), [
    # The Hugging Face model pages' safetensors sizes ("Model size: 7.62B params", ...); the
    # model cards' own "Number of Parameters" lines are rounded inconsistently.
    ("Qwen/Qwen2.5-7B-Instruct", 7.62),
    ("Qwen/Qwen2.5-14B-Instruct", 14.8),
    ("Qwen/Qwen2.5-32B-Instruct", 32.8),
])
def test_qwen_instruct_ids_resolve_with_the_sizes_of_their_checkpoints(hf_id, billions):
    total = count_params(resolve_model(hf_id).spec).total_params / 1e9
    assert round(total, 2 if billions < 10 else 1) == billions


def test_qwen_instruct_configs_declare_32k_positions_where_the_base_declares_128k():
    assert resolve_model("Qwen/Qwen2.5-7B-Instruct").spec.max_context == 32768
    assert resolve_model("qwen2.5-7b").spec.max_context == 131072


@pytest.mark.parametrize(("hf_id", "billions"), [
    ("meta-llama/Llama-2-7b-chat-hf", 6.74),  # HF model page: 6.74B params
    ("meta-llama/Llama-3.1-8B-Instruct", 8.03),  # Meta's model card: 8.03B
    ("mistralai/Mistral-7B-Instruct-v0.3", 7.25),  # HF model page: 7.25B params
    ("mistralai/Mixtral-8x7B-Instruct-v0.1", 46.70),  # Mixtral paper: 46.7B total
])
def test_official_chat_and_instruct_ids_resolve_to_their_base_architecture(hf_id, billions):
    spec = resolve_model(hf_id).spec
    assert round(count_params(spec).total_params / 1e9, 2) == billions
    assert spec.id == hf_id.rsplit("/", 1)[-1].lower() and spec.meta.hf_id == hf_id


def test_every_fine_tune_names_an_existing_preset_and_a_note():
    for key, tune in FINE_TUNES.items():
        preset, note = resolve_id(tune.hf_id.upper())
        assert preset == tune.preset and note.startswith(f"{tune.hf_id.upper()} -> {preset}")
        assert key == tune.hf_id.lower()


@pytest.mark.parametrize(("typed", "first"), [
    ("meta-llama/Llama-3.1-8B-Chat", "meta-llama/llama-3.1-8b"),
    ("Qwen/Qwen2.5-14B-Chat", "qwen/qwen2.5-14b"),
    ("mistralai/Mixtral-8x22B-Chat", "mistralai/mixtral-8x22b-v0.1"),
])
def test_did_you_mean_prefers_the_same_developer_and_size(typed, first):
    with pytest.raises(LlmarchError) as err:
        resolve_id(typed)
    assert err.value.hint.startswith(f"did you mean '{first}'")


def test_the_note_reaches_stderr_after_success_and_never_with_an_error():
    ok = run("params", "llama", "--json")
    assert ok.exit_code == 0 and ok.stderr == "llama -> llama-2-7b\n"
    bad = run("params", "llama", "--gqa", "3", "--json")
    assert bad.exit_code == 2 and bad.stderr.splitlines()[0].startswith("llmarch: error: --gqa 3")
    assert "llama-2-7b\n" not in bad.stderr
