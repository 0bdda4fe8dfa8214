"""Specs side by side: one flat record per spec (``compare``), and what differs (``diff``).

Values are raw (exact integers in base units, None where a field does not apply); keys are
stable snake_case, as the JSON/CSV output of ``llmarch compare`` carries them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from llmarch_cli.analysis.kvcache import kv_bytes_per_token, state_bytes
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


_WORDS = {"sliding": "local", "chunked": "chunked", "linear": "linear", "mamba": "mamba"}


def layer_pattern(spec: ArchSpec) -> str:
    """The per-layer kinds in words: '5 local : 1 global, window 1,024', '3 chunked : 1 global
    without RoPE, chunk 8,192', '36 linear : 12 full', 'all full'.

    Local/chunked patterns give the counts of their repeating unit (a shorter last repeat is
    allowed); hybrids with linear-attention or Mamba layers give totals."""
    att = spec.attention
    kinds = spec.layer_kinds() if spec.architecture == "decoder" else ("full",) * spec.num_layers
    nope = set(att.nope_layers)
    tags = [k if k not in ("full",) or i not in nope else "full-nope" for i, k in enumerate(kinds)]
    details = []
    if "sliding" in kinds:
        details.append(f"window {att.sliding_window:,}")
    if "chunked" in kinds:
        details.append(f"chunk {att.chunk_size:,}")
    tail = f", {', '.join(details)}" if details else ""
    if len(set(tags)) == 1:
        word = {"full-nope": "full without RoPE"}.get(tags[0], tags[0])
        return f"all {word}{tail}"
    if {"linear", "mamba"} & set(kinds):
        counts = {k: kinds.count(k) for k in dict.fromkeys(kinds)}
        return " : ".join(f"{n} {k}" for k, n in counts.items()) + tail
    period = next(p for p in range(1, len(tags) + 1)
                  if all(tags[i] == tags[i % p] for i in range(len(tags))))
    unit = tags[:period]
    words = {"full": "global", "full-nope": "global without RoPE", **_WORDS}
    counts = {t: unit.count(t) for t in dict.fromkeys(unit)}
    return " : ".join(f"{n} {words[t]}" for t, n in counts.items()) + tail


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
        "layer_pattern": layer_pattern(spec),
        "chunk_size": att.chunk_size,
        "mla_kv_lora_rank": att.mla.kv_lora_rank if att.mla else None,
        "mla_q_lora_rank": att.mla.q_lora_rank if att.mla else None,
        "qk_norm": att.qk_norm,
        "attention_softcap": att.softcap,
        "final_softcap": spec.head.softcap,
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
        "shared_experts": spec.moe.num_shared_experts if spec.moe else None,
        "moe_routing": spec.moe.routing if spec.moe else None,
        "dense_layers": len(spec.moe.dense_layers) if spec.moe else None,
        "vocab_size": spec.embeddings.vocab_size,
        "tied_embeddings": spec.head.tied,
        "max_context": spec.max_context,
        "licence": spec.meta.licence,
        "total_params": counts.total_params,
        "active_params": counts.active_params,
        "kv_bytes_per_token": kv_bytes_per_token(spec),
        "state_bytes_per_sequence": state_bytes(spec),
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


FIGURES = ("layer_pattern", "total_params", "active_params", "kv_bytes_per_token",
           "state_bytes_per_sequence")
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
