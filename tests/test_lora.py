"""LoRA target names and counts where PEFT cannot build the model (Qwen 1), checked analytically.

Qwen 1 (``QWenLMHeadModel``, from the checkpoint's own ``modeling_qwen.py``) has no
transformers class, so the parity tier skips it. Its block, per that file: ``attn.c_attn =
Linear(H, 3 * heads * kv_channels)`` (fused q, k, v), ``attn.c_proj = Linear(heads *
kv_channels, H)``, ``mlp.w1`` and ``mlp.w2 = Linear(H, intermediate_size / 2)`` (up, and the
gate that goes through SiLU), ``mlp.c_proj = Linear(intermediate_size / 2, H)``. Qwen-7B's
config.json: H 4096, 32 layers, 32 heads, kv_channels 128, intermediate_size 22016. A rank-r
adapter on Linear(in, out) trains r x (in + out) (Hu et al. 2021).
"""

from __future__ import annotations

import pytest

from llmarch_cli.analysis.lora import lora_params, module_path, select_targets, valid_targets
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.loader import load_preset
from llmarch_cli.specs.overrides import WhatIf, apply_what_if

H, LAYERS, QKV, INNER = 4096, 32, 3 * 32 * 128, 22016 // 2
C_ATTN = H + QKV  # in + out of attn.c_attn
ATTN_C_PROJ = 32 * 128 + H
W1 = W2 = H + INNER
MLP_C_PROJ = INNER + H


def test_qwen_7b_targets_are_its_own_module_names():
    names = valid_targets(load_preset("qwen-7b"))
    assert names[:4] == ["c_attn", "c_proj", "w2", "w1"]
    assert "q_proj" not in names


def test_qwen_7b_all_linear_counts_fused_c_attn_once_per_layer():
    expected = 8 * LAYERS * (C_ATTN + ATTN_C_PROJ + W1 + W2 + MLP_C_PROJ)
    assert expected == 17_891_328
    assert lora_params(load_preset("qwen-7b"), 8, ["all-linear"]) == expected


def test_qwen_7b_c_attn_equals_q_v_shorts_the_fused_matrix_once():
    spec = load_preset("qwen-7b")
    assert lora_params(spec, 16, ["c_attn"]) == 16 * LAYERS * C_ATTN == 8_388_608
    assert lora_params(spec, 16, ["q", "v"]) == lora_params(spec, 16, ["c_attn"])


def test_qwen_7b_c_proj_names_both_the_attention_output_and_the_mlp_down():
    spec = load_preset("qwen-7b")
    assert lora_params(spec, 4, ["c_proj"]) == 4 * LAYERS * (ATTN_C_PROJ + MLP_C_PROJ)
    paths = [module_path(m) for m in select_targets(spec, ["gate", "up"])]
    assert paths == ["transformer.h.{i}.mlp.w2", "transformer.h.{i}.mlp.w1"]


def test_fusion_follows_the_spec_not_the_family():
    spec = apply_what_if(load_preset("llama-2-7b"), WhatIf.parse(["attention.fused_qkv=true"]))
    fused = [m for m in select_targets(spec, ["all-linear"]) if m.shorts == ("q", "k", "v")]
    assert [(module_path(m), m.in_out) for m in fused] == [
        ("model.layers.{i}.self_attn.qkv_proj", (4096, 3 * 4096))]
    with pytest.raises(LlmarchError, match="q_proj"):
        select_targets(spec, ["q_proj"])
