"""One flat record per spec: its architecture fields and computed figures, for compare and diff.

Values are raw (exact integers in base units, None where a field does not apply); keys are
stable snake_case, as the JSON/CSV output of ``llmarch compare`` carries them.
"""

from __future__ import annotations

from typing import Any

from llmarch_cli.analysis.kvcache import kv_bytes_per_token, state_bytes
from llmarch_cli.analysis.params import count_params
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


def arch_record(spec: ArchSpec) -> dict[str, Any]:
    """One flat row of architecture fields and computed figures (raw values, base units)."""
    att, pos, rope = spec.attention, spec.positions, spec.positions.rope
    scaling = rope.scaling if rope else None
    counts = count_params(spec)
    return {
        "id": spec.id,
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
    }
