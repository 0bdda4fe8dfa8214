"""The inventory's transformers names and shapes equal ``model.state_dict()``, tensor for tensor.

Each preset's config.json (and each user-style config of test_params_parity) is built with
transformers on the meta device. Its ``state_dict(keep_vars=True)`` splits into parameters
(first name of each), aliases (a later name of a parameter already seen) and buffers. Expanded
per layer (``{i}``), the inventory must equal the parameters exactly, after this documented
mapping, itself checked exactly:

* aliases are absent from the inventory: a tied head (``lm_head.weight``; BERT's
  ``cls.predictions.decoder.weight``) is the token embedding; T5 and BART's
  ``{encoder,decoder}.embed_tokens.weight`` are ``shared.weight``; BERT's
  ``cls.predictions.decoder.bias`` is ``cls.predictions.bias``;
* except T5's ``lm_head.weight`` when the config is untied (v1.1): transformers 5 ties every
  T5 head to ``shared``, but those checkpoints ship their own head, which the inventory lists;
* buffers are absent: BART's ``final_logits_bias`` is the only one in a state_dict (GPT-2's
  ``attn.bias`` mask and rotary tables are not persistent in transformers 5);
* routed experts are transformers 5's 3-D parameters (Mixtral ``[E, 2I, H]``, gpt-oss
  ``[E, H, 2I]``), not the per-expert tensors of older checkpoints.

Qwen 1 has no transformers class and is not compared.
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

from test_params_parity import USER_CONFIGS, meta_model  # noqa: E402  (after the importorskip)

# model_type -> (head name, token embedding name) when the head is tied.
TIED_HEAD = {
    "llama": ("lm_head.weight", "model.embed_tokens.weight"),
    "mistral": ("lm_head.weight", "model.embed_tokens.weight"),
    "qwen2": ("lm_head.weight", "model.embed_tokens.weight"),
    "mixtral": ("lm_head.weight", "model.embed_tokens.weight"),
    "gpt_oss": ("lm_head.weight", "model.embed_tokens.weight"),
    "gpt2": ("lm_head.weight", "transformer.wte.weight"),
    "gptj": ("lm_head.weight", "transformer.wte.weight"),
    "gpt_neox": ("lm_head.weight", "gpt_neox.embed_in.weight"),
    "bloom": ("lm_head.weight", "transformer.word_embeddings.weight"),
    "t5": ("lm_head.weight", "shared.weight"),
    "bart": ("lm_head.weight", "model.shared.weight"),
    "bert": ("cls.predictions.decoder.weight", "bert.embeddings.word_embeddings.weight"),
}
STACK_EMBEDDINGS = {  # per-stack aliases of the shared token embedding
    "t5": ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight"),
    "bart": ("model.encoder.embed_tokens.weight", "model.decoder.embed_tokens.weight"),
}
BUFFERS = {"bart": {"final_logits_bias"}}

# The seed families; issue 8's families are compared in test_inventory_families_parity.py.
CASES = [(pid, preset_config(pid), load_preset(pid)) for pid in preset_ids()
         if preset_config(pid) is not None and preset_config(pid)["model_type"] in TIED_HEAD
         and preset_config(pid)["model_type"] != "qwen"]
CASES += [(name, cfg, spec_from_hf_config(cfg, name)) for name, cfg in sorted(USER_CONFIGS.items())
          if cfg["model_type"] in TIED_HEAD and cfg["model_type"] != "qwen"]


def documented_aliases(model_type: str, tied: bool) -> dict[str, str]:
    """alias -> the parameter it is, as the module docstring documents."""
    head, embed = TIED_HEAD[model_type]
    aliases = dict.fromkeys(STACK_EMBEDDINGS.get(model_type, ()), embed)
    if tied or model_type == "t5":
        aliases[head] = embed
    if model_type == "bert":
        aliases["cls.predictions.decoder.bias"] = "cls.predictions.bias"
    return aliases


def split_state_dict(model) -> tuple[dict[str, tuple[int, ...]], dict[str, str], set[str]]:
    """(parameter name -> shape, alias -> first name of the same parameter, buffer names)."""
    buffers = {name for name, _ in model.named_buffers()}
    params: dict[str, tuple[int, ...]] = {}
    aliases: dict[str, str] = {}
    first: dict[int, str] = {}
    for name, tensor in model.state_dict(keep_vars=True).items():
        if name in buffers:
            continue
        if id(tensor) in first:
            aliases[name] = first[id(tensor)]
        else:
            first[id(tensor)] = name
            params[name] = tuple(tensor.shape)
    return params, aliases, buffers & set(model.state_dict())


def inventory_names(spec) -> dict[str, tuple[int, ...]]:
    """Every tensor of the inventory under its transformers name, layers expanded."""
    out: dict[str, tuple[int, ...]] = {}
    for w in inventory(spec):
        for layer in (None,) if w.layers is None else w.layers:
            out[w.hf if layer is None else w.hf.replace("{i}", str(layer))] = w.shape
    return out


@pytest.mark.parametrize(("name", "config", "spec"), CASES, ids=[c[0] for c in CASES])
def test_inventory_equals_transformers_state_dict(name: str, config: dict, spec) -> None:
    model_type = config["model_type"]
    params, aliases, buffers = split_state_dict(meta_model(config))
    assert aliases == documented_aliases(model_type, spec.head.tied)
    assert buffers == BUFFERS.get(model_type, set())
    if model_type == "t5" and not spec.head.tied:  # v1.1 ships the head transformers ties
        params["lm_head.weight"] = params["shared.weight"]
    ours = inventory_names(spec)
    assert {k: ours[k] for k in ours.keys() - params.keys()} == {}  # listed, not in transformers
    assert {k: params[k] for k in params.keys() - ours.keys()} == {}  # in transformers, not listed
    assert {k: (ours[k], params[k]) for k in ours if ours[k] != params[k]} == {}  # shapes
