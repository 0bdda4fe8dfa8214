"""Preset ids, aliases, Hugging Face ids and family representatives, with did-you-mean.

A preset is one TOML file in ``presets/``; its id is the file name. It holds either the
official ``config.json`` verbatim (``config_json``, read by ``specs.hf``) or, for models that
never had one (the 2017 Transformer), a ``[spec]`` table of ArchSpec fields. ``[meta]`` gives
family, developer, licence and the source of every number.
"""

from __future__ import annotations

import difflib
import json
from functools import cache
from pathlib import Path
from typing import Any

from llmarch_cli._toml import tomllib
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.model import ArchSpec

PRESET_DIR = Path(__file__).parent / "presets"

# A family name resolves to one documented preset; output names the preset it chose.
FAMILY_REPRESENTATIVES: dict[str, str] = {
    "llama": "llama-2-7b",
    "qwen": "qwen2.5-7b",
    "mistral": "mistral-7b-v0.1",
    "mixtral": "mixtral-8x7b",
    "gpt": "gpt2",
    "gpt-oss": "gpt-oss-20b",
    "gpt-neox": "gpt-neox-20b",
    "pythia": "pythia-1b",
    "gpt-j": "gpt-j-6b",
    "bloom": "bloom",
    "t5": "t5-base",
    "bert": "bert-base-uncased",
    "bart": "bart-base",
    "transformer": "transformer-base",
    "qwen3": "qwen3-8b",
    "qwen3-moe": "qwen3-30b-a3b",
    "deepseek": "deepseek-v3",
    "gemma": "gemma-3-27b",
    "gemma2": "gemma-2-9b",
    "gemma3": "gemma-3-27b",
    "llama4": "llama-4-scout",
    "phi": "phi-4",
    "olmo": "olmo-2-7b",
    "falcon": "falcon-7b",
    "glm": "glm-4.5-air",
    "cohere": "command-r",
    "command-r": "command-r",
    "granite": "granite-3.1-8b",
    "jamba": "jamba-1.5-mini",
    "mamba": "mamba-2.8b",
    "starcoder": "starcoder2-3b",
}


def preset_ids() -> list[str]:
    """Every preset id, from file names alone (nothing is parsed)."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.toml"))


@cache
def read_preset(preset_id: str) -> dict[str, Any]:
    """The parsed TOML of one preset file."""
    path = PRESET_DIR / f"{preset_id}.toml"
    with path.open("rb") as fh:
        return tomllib.load(fh)


@cache
def _alias_index() -> dict[str, str]:
    """Lower-cased alias or HF id -> preset id (parses every preset: only on a miss)."""
    index: dict[str, str] = {}
    for pid in preset_ids():
        meta = read_preset(pid).get("meta", {})
        for name in [meta.get("hf_id"), *meta.get("aliases", [])]:
            if name:
                index[name.lower()] = pid
    return index


def resolve_id(name: str) -> tuple[str, str | None]:
    """(preset id, the family it stood for or None) for an id, alias, HF id or family name."""
    key = name.strip().lower()
    ids = preset_ids()
    if key in ids:
        return key, None
    if key in FAMILY_REPRESENTATIVES:
        return FAMILY_REPRESENTATIVES[key], key
    aliases = _alias_index()
    if key in aliases:
        return aliases[key], None
    candidates = [*ids, *FAMILY_REPRESENTATIVES, *aliases]
    close = difflib.get_close_matches(key, candidates, n=3, cutoff=0.6)
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else "see 'llmarch list'"
    raise LlmarchError(f"unknown model {name!r}", hint)


@cache
def load_preset(preset_id: str) -> ArchSpec:
    """Build the ArchSpec of a preset from its config.json (or native spec) and meta."""
    from llmarch_cli.specs.hf import spec_from_hf_config
    from llmarch_cli.specs.loader import validate_spec

    data = read_preset(preset_id)
    meta = data["meta"]
    if "config_json" in data:
        config = json.loads(data["config_json"])
        return spec_from_hf_config(config, spec_id=preset_id, meta=meta)
    return validate_spec({"id": preset_id, **data["spec"], "meta": meta})


def preset_config(preset_id: str) -> dict[str, Any] | None:
    """The official config.json a preset carries, or None for a native spec."""
    text = read_preset(preset_id).get("config_json")
    return None if text is None else json.loads(text)
