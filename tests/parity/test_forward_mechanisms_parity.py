"""What ``llmarch forward`` shows about the new mechanisms equals figures the tests compute
from transformers' own run of the same checkpoint (``test_forward_parity``'s cases): the experts
each token was routed to and, for group-limited routing, the groups it could pick from; and what
Gemma 2's soft caps did to the attention scores and the logits before them."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from test_forward_parity import CASES, TOKENS, _build  # noqa: E402

from llmarch_cli.forward.runner import run_forward  # noqa: E402
from llmarch_cli.specs.loader import resolve_model  # noqa: E402

pytestmark = pytest.mark.parity

DEEPSEEK = sorted(c for c in CASES if c.startswith("deepseek"))


def _router_outputs(model) -> dict[int, tuple]:
    """Layer -> (router_logits [T, E], top-k indices [T, k]) of every MoE layer's router."""
    seen: dict[int, tuple] = {}
    hooks = [layer.mlp.gate.register_forward_hook(
        lambda _m, _i, out, n=n: seen.__setitem__(n, (out[0], out[2])))
        for n, layer in enumerate(model.model.layers) if hasattr(layer.mlp, "gate")]
    with torch.no_grad():
        model(torch.tensor([TOKENS]))
    for hook in hooks:
        hook.remove()
    return seen


def _choice_scores(model, layer: int, logits):
    """The scores the router selects by, written out here: DeepSeek-V2 softmax, V3 sigmoid
    plus the correction bias."""
    if model.config.model_type == "deepseek_v2":
        return logits.softmax(-1)
    return logits.sigmoid() + model.model.layers[layer].mlp.gate.e_score_correction_bias


@pytest.mark.parametrize("case", DEEPSEEK)
def test_router_choices_are_transformers_experts_best_first_and_its_groups(case, tmp_path):
    model = _build(case, tmp_path)
    ours = {layer.layer: layer for layer in run_forward(resolve_model(str(tmp_path)), TOKENS).layers}
    config = model.config
    routed = _router_outputs(model)
    assert routed and set(routed) == {n for n, layer in ours.items() if layer.routed_experts}
    for n, (logits, ids) in routed.items():
        choice = _choice_scores(model, n, logits)  # [T, E]
        best_first = [sorted(row, key=lambda e, t=t: -float(choice[t, e]))
                      for t, row in enumerate(ids.tolist())]
        assert ours[n].routed_experts == best_first
        method = getattr(config, "topk_method", "noaux_tc")  # V3's router has only noaux_tc
        grouped = method in ("group_limited_greedy", "noaux_tc") and (config.n_group or 1) > 1
        if not grouped:
            assert ours[n].routed_groups is None
            continue
        per_group = choice.view(len(TOKENS), config.n_group, -1)  # [T, G, E/G]
        if config.model_type == "deepseek_v2":
            group_scores = per_group.max(-1).values  # a group's best expert
        else:
            group_scores = per_group.topk(2, dim=-1).values.sum(-1)  # its best two
        groups = group_scores.topk(config.topk_group, dim=-1).indices.tolist()  # best first
        assert ours[n].routed_groups == groups
        size = config.n_routed_experts // config.n_group
        assert all({e // size for e in experts} <= set(g)
                   for experts, g in zip(ours[n].routed_experts, groups, strict=True))


def _clipped(values, cap: float) -> int:
    """Values whose magnitude cap * tanh(x / cap) shrinks by more than 10%."""
    mag = values.abs()
    return int((cap * torch.tanh(mag / cap) < 0.9 * mag).sum())


def test_soft_cap_figures_are_those_of_transformers_scores_and_logits_before_the_caps(
        tmp_path, monkeypatch):
    from transformers.models.gemma2 import modeling_gemma2 as gemma2

    model = _build("gemma2-softcap-sandwich", tmp_path)
    scores = []  # per layer: the scaled scores the mask allows, before the cap
    original = gemma2.eager_attention_forward

    def spy(module, query, key, value, attention_mask, **kwargs):
        keys = gemma2.repeat_kv(key, module.num_key_value_groups)
        raw = query @ keys.transpose(2, 3) * kwargs["scaling"]  # [1, nh, T, S]
        scores.append(raw[attention_mask.expand_as(raw) == 0])
        return original(module, query, key, value, attention_mask, **kwargs)

    monkeypatch.setattr(gemma2, "eager_attention_forward", spy)
    with torch.no_grad():
        model.config.final_logit_softcapping = None  # read per call: the logits before the cap
        logits = model(torch.tensor([TOKENS])).logits[0]
    result = run_forward(resolve_model(str(tmp_path)), TOKENS)
    attention_cap, logit_cap = 8.0, 5.0  # the case's attn_logit_softcapping, final_logit_softcapping
    assert len(scores) == len(result.layers) == 3
    for layer, raw in zip(result.layers, scores, strict=True):
        shown = layer.attention_softcap
        assert (shown.cap, shown.values) == (attention_cap, raw.numel())
        assert shown.clipped_values == _clipped(raw, attention_cap)
        assert shown.max_abs_before_cap == pytest.approx(float(raw.abs().max()), rel=1e-5)
        assert shown.clipped_fraction == shown.clipped_values / shown.values
    shown = result.logit_softcap
    assert (shown.cap, shown.values) == (logit_cap, logits.numel())
    assert shown.clipped_values == _clipped(logits, logit_cap) > 0
    assert shown.max_abs_before_cap == pytest.approx(float(logits.abs().max()), rel=1e-5)
    assert sum(layer.attention_softcap.clipped_values for layer in result.layers) > 0
