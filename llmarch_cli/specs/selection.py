"""Presets selected by family or feature (``--all``, ``--family F``, ``--feature X``)."""

from __future__ import annotations

from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.registry import preset_ids, read_preset


def preset_family(preset_id: str) -> str:
    """The family a preset's meta names (read from its file, not validated)."""
    return read_preset(preset_id)["meta"]["family"]


def select_preset_ids(family: str | None = None, feature: str | None = None) -> list[str]:
    """Preset ids of ``family`` with ``feature`` (each optional: None keeps every preset);
    an unknown family or feature is an LlmarchError listing the known ones."""
    ids = preset_ids()
    if family is not None:
        wanted = family.strip().lower()
        families = sorted({preset_family(pid) for pid in ids})
        if wanted not in families:
            raise LlmarchError(f"unknown family {family!r}", f"families: {', '.join(families)}")
        ids = [pid for pid in ids if preset_family(pid) == wanted]
    if feature is not None:
        from llmarch_cli.specs.loader import load_preset

        tag = feature.strip().lower()
        tagged = {pid: load_preset(pid).features for pid in preset_ids()}
        known = sorted({t for tags in tagged.values() for t in tags})
        if tag not in known:
            raise LlmarchError(f"unknown feature {feature!r}", f"features: {', '.join(known)}")
        ids = [pid for pid in ids if tag in tagged[pid]]
    return ids
