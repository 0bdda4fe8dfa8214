"""Preset ids, aliases, Hugging Face ids and family representatives, with did-you-mean.

A preset is one TOML file in ``presets/``; its id is the file name. It holds either the
official ``config.json`` verbatim (``config_json``, read by ``specs.hf``) or, for models that
never had one (the 2017 Transformer), a ``[spec]`` table of ArchSpec fields. ``[meta]`` gives
family, developer, licence and the source of every number.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from llmarch_cli._toml import tomllib
from llmarch_cli.errors import LlmarchError

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


def _is_preset(key: str) -> bool:
    """True when ``presets/<key>.toml`` exists: one file check, not a listing of every preset."""
    return "/" not in key and "\0" not in key and (PRESET_DIR / f"{key}.toml").is_file()


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


class FineTune(NamedTuple):
    """An official instruct/chat variant whose architecture is a preset's.

    ``config``: the config.json keys whose values differ from the base model's and change the
    spec (token ids such as ``eos_token_id`` differ too but change nothing here).
    """

    hf_id: str
    preset: str
    config: Mapping[str, Any] = MappingProxyType({})

    @property
    def id(self) -> str:
        """The spec id: the repository name, lower-cased (``llama-3.1-8b-instruct``)."""
        return self.hf_id.rsplit("/", 1)[-1].lower()


# Each config.json was compared with the base preset's: same model_type, sizes, heads,
# vocabulary, RoPE and windows; only special-token ids differ, except where ``config`` says.
# Qwen2.5's instruct models (7B and up) declare 32,768 positions where the base models declare
# 131,072 (their model cards describe YaRN to reach 128K).
_QWEN_INSTRUCT = {"max_position_embeddings": 32768}
FINE_TUNES: dict[str, FineTune] = {t.hf_id.lower(): t for t in (
    FineTune("meta-llama/Llama-2-7b-chat-hf", "llama-2-7b"),
    FineTune("meta-llama/Llama-2-13b-chat-hf", "llama-2-13b"),
    FineTune("meta-llama/Llama-2-70b-chat-hf", "llama-2-70b"),
    FineTune("meta-llama/Meta-Llama-3-8B-Instruct", "llama-3-8b"),
    FineTune("meta-llama/Meta-Llama-3-70B-Instruct", "llama-3-70b"),
    FineTune("meta-llama/Llama-3.1-8B-Instruct", "llama-3.1-8b"),
    FineTune("meta-llama/Llama-3.1-70B-Instruct", "llama-3.1-70b"),
    FineTune("meta-llama/Llama-3.1-405B-Instruct", "llama-3.1-405b"),
    FineTune("meta-llama/Llama-3.2-1B-Instruct", "llama-3.2-1b"),
    FineTune("meta-llama/Llama-3.2-3B-Instruct", "llama-3.2-3b"),
    FineTune("mistralai/Mistral-7B-Instruct-v0.1", "mistral-7b-v0.1"),
    FineTune("mistralai/Mistral-7B-Instruct-v0.3", "mistral-7b-v0.3"),
    FineTune("mistralai/Mixtral-8x7B-Instruct-v0.1", "mixtral-8x7b"),
    FineTune("mistralai/Mixtral-8x22B-Instruct-v0.1", "mixtral-8x22b"),
    FineTune("Qwen/Qwen2.5-0.5B-Instruct", "qwen2.5-0.5b"),
    FineTune("Qwen/Qwen2.5-7B-Instruct", "qwen2.5-7b", _QWEN_INSTRUCT),
    FineTune("Qwen/Qwen2.5-14B-Instruct", "qwen2.5-14b", _QWEN_INSTRUCT),
    FineTune("Qwen/Qwen2.5-32B-Instruct", "qwen2.5-32b", _QWEN_INSTRUCT),
    FineTune("Qwen/Qwen2.5-72B-Instruct", "qwen2.5-72b", _QWEN_INSTRUCT),
)}


def resolve_id(name: str) -> tuple[str, str | None]:
    """(preset id, a note on what was chosen or None) for an id, alias, HF id, fine-tune id
    or family name. The note says which preset a family name or fine-tune id stands for."""
    key = name.strip().lower()
    if not key:
        raise LlmarchError("empty model name", "give a preset id (llmarch list), a file or a folder")
    if _is_preset(key):
        return key, None
    if key in FAMILY_REPRESENTATIVES:
        return FAMILY_REPRESENTATIVES[key], f"{name} -> {FAMILY_REPRESENTATIVES[key]}"
    if key in FINE_TUNES:
        tune = FINE_TUNES[key]
        differs = ", ".join(f"{k} {v}" for k, v in tune.config.items())
        return tune.preset, (f"{name} -> {tune.preset} (fine-tune, same architecture"
                             + (f" but {differs})" if differs else ")"))
    aliases = _alias_index()
    if key in aliases:
        return aliases[key], None
    close = did_you_mean(key)
    hint = f"did you mean {', '.join(repr(c) for c in close)}?" if close else "see 'llmarch list'"
    raise LlmarchError(f"unknown model {name!r}", hint)


_SIZE = r"(?<![a-z0-9.])(\d+(?:\.\d+)?(?:x\d+)?)[bm](?![a-z])"  # 7b, 0.5b, 8x7b, 125m


def _developer(name: str) -> str | None:
    """The Hugging Face organisation a name carries (``meta-llama`` in ``meta-llama/...``)."""
    return name.split("/", 1)[0] if "/" in name else None


def did_you_mean(key: str, n: int = 3) -> list[str]:
    """Up to ``n`` known names close to ``key``, preferring those of the same developer (the
    HF organisation) and the same size (``8b``, ``8x7b``) as the name typed."""
    import difflib
    import re

    aliases = _alias_index()
    preset_org = {pid: _developer(read_preset(pid).get("meta", {}).get("hf_id") or "")
                  for pid in preset_ids()}
    candidates = {c: aliases.get(c, c) for c in (*preset_ids(), *aliases)}
    candidates.update({c: FAMILY_REPRESENTATIVES[c] for c in FAMILY_REPRESENTATIVES})
    candidates.update({c: t.preset for c, t in FINE_TUNES.items()})
    org, size = _developer(key), set(re.findall(_SIZE, key))

    def score(name: str) -> float:
        ratio = difflib.SequenceMatcher(None, key, name).ratio()
        same_org = org is not None and org == (_developer(name) or preset_org.get(candidates[name]))
        same_size = bool(size) and size == set(re.findall(_SIZE, name))
        return ratio + 0.15 * same_org + 0.15 * same_size

    ranked = sorted(candidates, key=lambda c: (-score(c), c))
    return [c for c in ranked if score(c) >= 0.6][:n]
