"""LoRA trainable counts equal PEFT's ``get_nb_trainable_parameters()`` for the same config.

Each preset's official config.json is built with transformers on the meta device, wrapped with
``peft.get_peft_model(model, LoraConfig(r, target_modules))``, and PEFT's trainable count is
compared with ``analysis.lora.lora_params`` for the same rank and targets — including
``all-linear`` (PEFT: every Linear/Conv1D but the output head; GPT-2's Conv1D included, MoE
experts, which are 3-D parameters in transformers 5, excluded except where PEFT converts the
transformers-4 names, as for Mixtral).
"""

from __future__ import annotations

import pytest

from llmarch_cli.analysis.lora import lora_params
from llmarch_cli.specs.loader import load_preset, preset_config
from llmarch_cli.specs.registry import preset_ids

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
peft = pytest.importorskip("peft")

CLASSES = {"t5": "T5ForConditionalGeneration", "bart": "BartForConditionalGeneration",
           "bert": "BertForMaskedLM"}
# Per family: an HF-name target list, besides all-linear and the short names q,v.
FAMILY_TARGETS = {
    "gpt2": ["c_attn", "c_proj"],
    "gpt_neox": ["query_key_value", "dense_4h_to_h"],
    "bloom": ["query_key_value", "dense"],
    "gptj": ["q_proj", "out_proj", "fc_in"],
    "t5": ["q", "v", "wo"],
    "bert": ["query", "value", "dense"],
    "bart": ["q_proj", "out_proj", "fc1"],
    "phi": ["q_proj", "dense", "fc1"],
    "phi3": ["qkv_proj", "gate_up_proj"],
    "falcon": ["query_key_value", "dense_h_to_4h"],
    "starcoder2": ["q_proj", "c_fc"],
    "deepseek_v2": ["kv_a_proj_with_mqa", "kv_b_proj", "o_proj", "gate"],
    "deepseek_v3": ["q_a_proj", "q_b_proj", "kv_b_proj", "gate_proj", "up_proj"],
    "kimi_k2": ["q_b_proj", "kv_a_proj_with_mqa", "down_proj"],
    "glm4_moe": ["q_proj", "v_proj", "gate", "down_proj"],
    "qwen3_moe": ["q_proj", "gate_proj", "up_proj"],
    "qwen3_next": ["in_proj_qkvz", "out_proj", "shared_expert_gate", "down_proj"],
    "llama4": ["q_proj", "router", "down_proj"],
    "jamba": ["in_proj", "x_proj", "q_proj"],
    "mamba": ["in_proj", "x_proj", "dt_proj"],
}
# Multimodal wrappers: PEFT is applied to the language model alone (llmarch counts no vision tower).
TEXT_MODEL = {"llama4": "llama4_text", "gemma3": "gemma3_text", "mistral3": "mistral"}
DEFAULT_TARGETS = ["q_proj", "v_proj", "down_proj"]
SHORT_TO_HF = {"gpt2": None, "gpt_neox": None, "bloom": None}  # fused qkv: no separate q/v


def _presets() -> list[str]:
    out = []
    for pid in preset_ids():
        cfg = preset_config(pid)
        if cfg is not None and cfg.get("model_type") != "qwen":  # Qwen 1 has no transformers class
            out.append(pid)
    return out


def peft_trainable(config: dict, rank: int, targets: list[str] | str) -> int:
    cfg = dict(config)
    model_type = cfg.pop("model_type")
    cfg.pop("quantization_config", None)
    if model_type in TEXT_MODEL:
        cfg = {k: v for k, v in (cfg.get("text_config") or {}).items() if k != "model_type"}
        model_type = TEXT_MODEL[model_type]
    if model_type == "kimi_k2":  # Kimi K2's remote code is DeepseekV3's
        model_type = "deepseek_v3"
    hf_config = transformers.AutoConfig.for_model(model_type, **cfg)
    with torch.device("meta"):
        if model_type in CLASSES:
            model = getattr(transformers, CLASSES[model_type])(hf_config)
        else:
            model = transformers.AutoModelForCausalLM.from_config(hf_config)
        wrapped = peft.get_peft_model(model, peft.LoraConfig(r=rank, target_modules=targets))
    trainable, _ = wrapped.get_nb_trainable_parameters()
    return trainable


@pytest.mark.parametrize("preset", [p for p in _presets() if preset_config(p)["model_type"] != "mamba"])
def test_all_linear_lora_matches_peft(preset: str) -> None:
    spec = load_preset(preset)
    expected = peft_trainable(preset_config(preset), 16, "all-linear")
    assert lora_params(spec, 16, ["all-linear"]) == expected


@pytest.mark.parametrize("preset", _presets())
def test_named_targets_lora_matches_peft(preset: str) -> None:
    spec = load_preset(preset)
    config = preset_config(preset)
    targets = FAMILY_TARGETS.get(config["model_type"], DEFAULT_TARGETS)
    if config["model_type"] == "mixtral":
        targets = ["q_proj", "gate", "w1", "w3", "w2"]  # PEFT maps v4 expert names onto parameters
    elif config["model_type"] == "gpt_oss":
        targets = ["q_proj", "v_proj", "o_proj"]  # gpt-oss experts are not Linear modules
    assert lora_params(spec, 8, targets) == peft_trainable(config, 8, targets)


def test_peft_refuses_all_linear_on_mamba_and_so_does_llmarch() -> None:
    from llmarch_cli.errors import LlmarchError

    with pytest.raises(ValueError, match="incompatible with Mamba"):
        peft_trainable(preset_config("mamba-2.8b"), 8, "all-linear")
    with pytest.raises(LlmarchError, match="PEFT refuses"):
        lora_params(load_preset("mamba-2.8b"), 8, ["all-linear"])
