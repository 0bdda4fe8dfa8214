"""Issue 8's families: the inventory's transformers names and shapes equal the meta-device
model's parameters, tensor for tensor (per layer, ``{i}`` expanded).

``named_parameters()`` yields a tied head once (as the embedding), as the inventory lists it;
buffers (DeepSeek-V3's ``e_score_correction_bias``, rotary tables) are absent from both.
Multimodal checkpoints (llama4, gemma3, mistral3) are built whole and compared on their
language model (``model.language_model.*`` and ``lm_head``; Llama 4: ``language_model.*``); the
vision tower and projector are not in the inventory.
"""

from __future__ import annotations

import pytest

from llmarch_cli.specs.hf import spec_from_hf_config
from llmarch_cli.specs.inventory import inventory
from llmarch_cli.specs.loader import load_preset, preset_config
from llmarch_cli.specs.registry import preset_ids

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from test_params_parity import MULTIMODAL, NEW_FAMILY_CONFIGS, USER_CONFIGS  # noqa: E402

WRAPPERS = tuple(MULTIMODAL)
NEW_TYPES = {*NEW_FAMILY_CONFIGS, *WRAPPERS, "kimi_k2", "llama4_text", "gemma3_text"}


def meta_parameters(config: dict) -> dict[str, tuple[int, ...]]:
    """name -> shape of every parameter transformers builds (language model only)."""
    cfg = dict(config)
    model_type = cfg.pop("model_type")
    cfg.pop("quantization_config", None)
    if model_type == "kimi_k2":  # Kimi K2's remote code is DeepseekV3's
        model_type = "deepseek_v3"
    hf_config = transformers.AutoConfig.for_model(model_type, **cfg)
    with torch.device("meta"):
        if model_type in WRAPPERS:
            model = transformers.AutoModelForImageTextToText.from_config(hf_config)
        else:
            model = transformers.AutoModelForCausalLM.from_config(hf_config)
    keep = MULTIMODAL.get(model_type, ("",))
    return {name: tuple(p.shape) for name, p in model.named_parameters() if name.startswith(keep)}


def inventory_parameters(spec) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}
    for w in inventory(spec):
        for i in (w.layers or (None,)):
            name = w.hf if i is None else w.hf.replace("{i}", str(i))
            assert name not in out, f"{name} listed twice"
            out[name] = w.shape
    return out


CASES = [(pid, preset_config(pid)) for pid in preset_ids()
         if preset_config(pid) is not None and preset_config(pid)["model_type"] in NEW_TYPES]
CASES += [(name, cfg) for name, cfg in sorted(USER_CONFIGS.items()) if cfg["model_type"] in NEW_TYPES]


@pytest.mark.parametrize(("name", "config"), CASES, ids=[c[0] for c in CASES])
def test_inventory_names_and_shapes_equal_the_state_dict(name: str, config: dict) -> None:
    spec = load_preset(name) if name in preset_ids() else spec_from_hf_config(config, name)
    ours, theirs = inventory_parameters(spec), meta_parameters(config)
    assert sorted(set(ours) - set(theirs)) == [] and sorted(set(theirs) - set(ours)) == []
    assert {n: s for n, s in ours.items() if theirs[n] != s} == {}
