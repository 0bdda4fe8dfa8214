"""Specs side by side: one flat record per spec (``compare``), and what differs (``diff``).

Values are raw (exact integers in base units, None where a field does not apply); keys are
stable snake_case, as the JSON/CSV output of ``llmarch compare`` carries them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmarch_cli.analysis.kvcache import kv_bytes_per_token
from llmarch_cli.analysis.params import count_params
from llmarch_cli.analysis.results import ArchRecord, CompareResult, DiffResult, DiffRow, PresetRow
from llmarch_cli.specs.model import ArchSpec


def window_pattern(spec: ArchSpec) -> str:
    """'all full', 'all sliding', or the repeating unit of the per-layer pattern."""
    att = spec.attention
    if att.sliding_window is None:
        return "all full"
    types = att.layer_types
    if types is None or len(set(types)) == 1:
        return f"all {types[0] if types else 'sliding'}"
    for period in range(1, len(types) + 1):
        if len(types) % period == 0 and types == types[:period] * (len(types) // period):
            return f"({', '.join(types[:period])}) x {len(types) // period}"
    raise AssertionError("unreachable")


def arch_record(spec: ArchSpec) -> ArchRecord:
    """One flat row of architecture fields and computed figures (raw values, base units)."""
    att, pos, rope = spec.attention, spec.positions, spec.positions.rope
    scaling = rope.scaling if rope else None
    counts = count_params(spec)
    return ArchRecord(**{
        "model": spec.id,
        "family": spec.meta.family,
        "name": spec.meta.name,
        "architecture": spec.architecture,
        "num_layers": spec.num_layers,
        "num_decoder_layers": spec.num_decoder_layers,
        "hidden_size": spec.hidden_size,
        "num_heads": att.num_heads,
        "num_kv_heads": att.num_kv_heads,
        "head_dim": att.head_dim,
        "attention": att.kind,
        "sliding_window": att.sliding_window,
        "window_pattern": window_pattern(spec),
        "sinks": att.sinks,
        "qkv_bias": att.q_bias or att.k_bias or att.v_bias,
        "positions": pos.kind,
        "rope_theta": rope.theta if rope else None,
        "rope_scaling": f"{scaling.kind} x{scaling.factor:g}" if scaling else None,
        "rotary_dim": rope.rotary_dim if rope else None,
        "norm": spec.norm.kind,
        "norm_placement": spec.norm.placement,
        "residual": spec.residual,
        "ffn": spec.ffn.label,
        "activation": spec.ffn.activation,
        "intermediate_size": spec.ffn.intermediate_size,
        "num_experts": spec.moe.num_experts if spec.moe else None,
        "experts_per_token": spec.moe.top_k if spec.moe else None,
        "vocab_size": spec.embeddings.vocab_size,
        "tied_embeddings": spec.head.tied,
        "max_context": spec.max_context,
        "licence": spec.meta.licence,
        "total_params": counts.total_params,
        "active_params": counts.active_params,
        "kv_bytes_per_token": kv_bytes_per_token(spec),
    })


def compare_specs(specs: Sequence[ArchSpec]) -> CompareResult:
    return CompareResult(models=[arch_record(s) for s in specs])


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings -> one level with dotted keys; lists and scalars are leaves."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{path}."))
        else:
            flat[path] = value
    return flat


FIGURES = ("total_params", "active_params", "kv_bytes_per_token")
# Bookkeeping that differs between any two presets and says nothing about the architecture.
SKIPPED = ("id", "meta.name", "meta.hf_id", "meta.aliases", "meta.source", "meta.notes")


def diff_specs(a: ArchSpec, b: ArchSpec, what_if: bool = False) -> DiffResult:
    """Every spec field (by dotted path, meta bookkeeping left out) and computed figure whose
    values differ between ``a`` and ``b``."""
    flat_a, flat_b = (flatten(s.model_dump(mode="json")) for s in (a, b))
    keys = [k for k in dict.fromkeys([*flat_a, *flat_b]) if k not in SKIPPED]
    rec_a, rec_b = arch_record(a), arch_record(b)
    for key in FIGURES:
        flat_a[key], flat_b[key] = getattr(rec_a, key), getattr(rec_b, key)
    rows = [DiffRow(field=k, a=flat_a.get(k), b=flat_b.get(k))
            for k in [*keys, *FIGURES] if flat_a.get(k) != flat_b.get(k)]
    return DiffResult(a=a.id, b=b.id, what_if=what_if, rows=rows)


def preset_row(spec: ArchSpec) -> PresetRow:
    """The ``llmarch list`` row of a spec."""
    counts = count_params(spec)
    return PresetRow(
        model=spec.id, family=spec.meta.family, name=spec.meta.name, developer=spec.meta.developer,
        released=spec.meta.released, architecture=spec.architecture, attention=spec.attention.kind,
        total_params=counts.total_params, active_params=counts.active_params,
        features=list(spec.features), licence=spec.meta.licence,
        open_licence=spec.meta.open_licence, languages=list(spec.meta.languages))
