"""``llmarch compare MODEL...``: every architectural field side by side, plus computed figures."""

from __future__ import annotations

from typing import Any

from llmarch_cli.cli.options import (
    Format,
    FormatOpt,
    GqaOpt,
    ModelsArg,
    NoColorOpt,
    OutputOpt,
    SetOpt,
)

# Flat snake_case key -> row label of the human table (units come from the key's suffix).
EXAMPLES = (  # shown under --help
    "llmarch compare llama mistral",
    "llmarch compare gpt2 llama-3-8b mixtral-8x7b -f md",
    "llmarch compare llama mistral qwen -f jsonl | jq .kv_bytes_per_token",
)

LABELS: dict[str, str] = {
    "id": "Preset",
    "family": "Family",
    "name": "Name",
    "architecture": "Type",
    "num_layers": "Layers",
    "num_decoder_layers": "Decoder layers",
    "hidden_size": "Hidden size",
    "num_heads": "Query heads",
    "num_kv_heads": "KV heads",
    "head_dim": "Head dim",
    "attention": "Attention",
    "sliding_window": "Sliding window (tokens)",
    "window_pattern": "Window pattern",
    "layer_pattern": "Layer pattern",
    "chunk_size": "Attention chunk (tokens)",
    "mla_kv_lora_rank": "MLA KV latent rank",
    "mla_q_lora_rank": "MLA q rank",
    "qk_norm": "QK-norm",
    "attention_softcap": "Attention soft-cap",
    "final_softcap": "Final logit soft-cap",
    "sinks": "Attention sinks",
    "qkv_bias": "QKV bias",
    "positions": "Positions",
    "rope_theta": "RoPE theta",
    "rope_scaling": "RoPE scaling",
    "rotary_dim": "Rotary dims per head",
    "norm": "Norm",
    "norm_placement": "Norm placement",
    "residual": "Residual",
    "ffn": "FFN",
    "activation": "Activation",
    "intermediate_size": "FFN width",
    "num_experts": "Experts",
    "experts_per_token": "Experts per token",
    "shared_experts": "Shared experts",
    "moe_routing": "Routing",
    "dense_layers": "Dense (non-MoE) layers",
    "vocab_size": "Vocabulary",
    "tied_embeddings": "Tied embeddings",
    "max_context": "Context (tokens)",
    "licence": "Licence",
    "total_params": "Total params",
    "active_params": "Active params",
    "kv_bytes_per_token": "KV cache per token (fp16)",
    "state_bytes_per_sequence": "Recurrent state per sequence (16-bit)",
}


def side_by_side(records: list[dict[str, Any]], keys: list[str]) -> tuple[list[dict[str, str]], list[int]]:
    """Human rows (one per key, one column per model) and the indices of rows that differ."""
    from llmarch_cli.render.formats import humanise

    rows, differing = [], []
    for index, key in enumerate(keys):
        values = [r[key] for r in records]
        rows.append({"field": LABELS.get(key, key),
                     **{f"m{i}": humanise(key, v) for i, v in enumerate(values)}})
        if any(v != values[0] for v in values):
            differing.append(index)
    return rows, differing


def compare(
    models: ModelsArg,
    sets: SetOpt = None,
    gqa: GqaOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Compare MODELs side by side: every field, params, KV bytes per token, context.

    Total and active params, KV cache bytes per token (fp16) and context come after the
    architectural fields. Rows that differ are highlighted on a terminal.

    --set/--gqa apply to every model. JSON/JSONL/CSV/TSV: one record per model.
    """
    from llmarch_cli.analysis.summary import arch_record
    from llmarch_cli.cli.options import load_spec
    from llmarch_cli.render.output import emit, resolve_format

    specs = [load_spec(m, sets, gqa) for m in models]
    records = [arch_record(s) for s in specs]
    concrete = resolve_format(fmt, output)
    if concrete not in ("table", "md"):
        emit(records, concrete, columns=list(LABELS), output=output)
        return
    keys = [k for k in LABELS if k != "id" and any(r[k] is not None for r in records)]
    rows, differing = side_by_side(records, keys)
    if concrete == "md":  # no colour in Markdown: differing rows get a bold label
        for index in differing:
            rows[index]["field"] = f"**{rows[index]['field']}**"
    columns = {"field": "", **{f"m{i}": r["id"] for i, r in enumerate(records)}}
    emit(rows, concrete, columns=columns, output=output, highlight=differing)
