"""The spec library as learning mode queries it: every preset, and which ones use a feature.

Feature tests read the spec (and its ``features`` tags), never a list of names, so presets
that later join the library (MLA, QK-norm, hybrid layers) show up without a change here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from llmarch_cli.specs.loader import load_preset
from llmarch_cli.specs.model import ArchSpec
from llmarch_cli.specs.registry import FAMILY_REPRESENTATIVES, preset_ids

Test = Callable[[ArchSpec], bool]


@cache
def all_specs() -> tuple[ArchSpec, ...]:
    """Every preset of the library, in id order (validated once per process)."""
    return tuple(load_preset(pid) for pid in preset_ids())


def has_tag(tag: str) -> Test:
    """A test for one ``ArchSpec.features`` tag (gqa, moe, swa, mla, qk-norm, hybrid, ...)."""
    return lambda spec: tag in spec.features


def local_global(spec: ArchSpec) -> bool:
    """Windowed (local) and full (global) attention layers in one stack."""
    types = set(spec.attention.layer_types or ())
    return "local-global" in spec.features or {"full", "sliding"} <= types


def qk_norm(spec: ArchSpec) -> bool:
    return "qk-norm" in spec.features or spec.attention.qk_norm


# topic id -> which presets use what the topic explains
FEATURE_TESTS: dict[str, Test] = {
    "transformer": lambda s: s.meta.family == "transformer",
    "attention": lambda s: s.attention.kind == "MHA",
    "positions": lambda s: s.positions.kind != "none",
    "llama": lambda s: s.meta.family == "llama",
    "qwen": lambda s: s.meta.family.startswith("qwen"),
    "mistral": lambda s: s.meta.family in ("mistral", "mixtral"),
    "gpt-oss": lambda s: s.meta.family == "gpt-oss",
    "encoder-decoder": lambda s: s.architecture == "encoder-decoder",
    "ffn": has_tag("gated-ffn"),
    "norms": has_tag("rmsnorm"),
    "gqa": lambda s: s.attention.kind in ("GQA", "MQA"),
    "moe": has_tag("moe"),
    "lora": lambda s: s.architecture == "decoder" and s.moe is None,
    "compare": lambda s: s.id in FAMILY_REPRESENTATIVES.values(),
    "choosing": lambda s: s.meta.open_licence,
    "mla": has_tag("mla"),
    "qk-norm": qk_norm,
    "local-global": local_global,
    "hybrid": has_tag("hybrid"),
}


def find(preset_id: str) -> ArchSpec:
    """The library's spec with this id."""
    return next(spec for spec in all_specs() if spec.id == preset_id)


def presets_with(test: Test) -> list[str]:
    """Ids of the presets passing ``test``."""
    return [spec.id for spec in all_specs() if test(spec)]
