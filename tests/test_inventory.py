"""The weight inventory: its sum is the parameter count, and its entries are well formed.

Its names and shapes are checked against transformers' ``state_dict()`` in the parity tier
(tests/parity/test_inventory_parity.py); published totals in tests/test_params.py.
"""

from __future__ import annotations

import pytest

from llmarch_cli.analysis.params import count_params
from llmarch_cli.specs.inventory import inventory
from llmarch_cli.specs.loader import load_preset
from llmarch_cli.specs.overrides import WhatIf, apply_what_if
from llmarch_cli.specs.registry import preset_ids


@pytest.mark.parametrize("preset_id", preset_ids())
def test_inventory_sums_to_the_total_parameter_count(preset_id: str) -> None:
    spec = load_preset(preset_id)
    assert sum(w.params for w in inventory(spec)) == count_params(spec).total_params


@pytest.mark.parametrize("preset_id", preset_ids())
def test_every_tensor_has_one_canonical_and_one_transformers_name(preset_id: str) -> None:
    weights = inventory(load_preset(preset_id))
    canonical = [(w.stack, w.name) for w in weights]
    assert len(set(canonical)) == len(canonical)
    hf = [w.hf for w in weights]
    assert len(set(hf)) == len(hf)
    assert all(("{i}" in w.hf) == (w.layers is not None) for w in weights)


@pytest.mark.parametrize("preset_id", preset_ids())
def test_matmul_weights_state_in_and_out_features_that_fit_their_shape(preset_id: str) -> None:
    for w in inventory(load_preset(preset_id)):
        if w.matmul:
            fan_in, fan_out = w.in_out
            assert w.numel == fan_in * fan_out * max(w.experts, 1), w.name
        assert not (w.linear or w.shorts) or w.matmul, w.name


def test_moe_active_params_are_top_k_of_the_experts_listed_in_the_inventory() -> None:
    spec = load_preset("mixtral-8x7b")
    experts = [w for w in inventory(spec) if w.experts]
    assert {w.name for w in experts} == {"experts.gate_up", "experts.down"}
    assert [w.shape for w in experts] == [(8, 2 * 14336, 4096), (8, 4096, 14336)]
    unused = sum(w.params for w in experts) * (8 - 2) // 8
    result = count_params(spec)
    assert result.total_params - result.active_params == unused


def test_tied_head_is_the_embedding_matrix_used_as_a_matmul() -> None:
    tied = inventory(load_preset("gpt2"))
    assert "lm_head.weight" not in {w.name for w in tied}
    assert next(w for w in tied if w.name == "embed.weight").matmul
    untied = inventory(load_preset("llama-2-7b"))
    assert not next(w for w in untied if w.name == "embed.weight").matmul
    assert next(w for w in untied if w.name == "lm_head.weight").shape == (32000, 4096)


def test_fused_qkv_is_one_tensor_split_into_q_k_v_in_the_breakdown() -> None:
    spec = apply_what_if(load_preset("llama-2-7b"), WhatIf.parse(["attention.fused_qkv=true"]))
    fused = [w for w in inventory(spec) if w.name == "attn.qkv.weight"]
    assert [(w.shape, w.hf) for w in fused] == [((3 * 4096, 4096), "model.layers.{i}.self_attn.qkv_proj.weight")]
    groups = {g.component: g.per_layer for g in count_params(spec).breakdown}
    assert groups["attention.q"] == groups["attention.k"] == groups["attention.v"] == 4096 * 4096


def test_inventory_is_built_once_per_spec() -> None:
    spec = load_preset("llama-2-7b")
    assert inventory(spec) is inventory(spec)
    layers = {w.layers for w in inventory(spec) if w.layers is not None}
    assert layers == {tuple(range(32))} and len({id(w.layers) for w in inventory(spec) if w.layers}) == 1
