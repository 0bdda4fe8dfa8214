"""``llmarch compare MODEL...``: every architectural field side by side, plus computed figures."""

from __future__ import annotations

from typing import Any

from llmarch_cli.cli.options import (
    Format,
    FormatOpt,
    GqaOpt,
    MhaOpt,
    ModelsArg,
    MqaOpt,
    NoColorOpt,
    OutputOpt,
    SetOpt,
    WindowOpt,
)

# Flat snake_case key -> row label of the human table (units come from the key's suffix).
EXAMPLES = (  # shown under --help
    "llmarch compare llama mistral",
    "llmarch compare gpt2 llama-3-8b mixtral-8x7b -f md",
    "llmarch compare llama mistral qwen -f jsonl | jq .kv_bytes_per_token",
)

LABELS: dict[str, str] = {
    "model": "Preset",
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
    "vocab_size": "Vocabulary",
    "tied_embeddings": "Tied embeddings",
    "max_context": "Context (tokens)",
    "licence": "Licence",
    "total_params": "Total params",
    "active_params": "Active params",
    "kv_bytes_per_token": "KV cache per token (fp16)",
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
    mqa: MqaOpt = False,
    mha: MhaOpt = False,
    window: WindowOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Compare MODELs side by side: every field, params, KV bytes per token, context.

    Total and active params, KV cache bytes per token (fp16) and context come after the
    architectural fields. Rows that differ are highlighted on a terminal.

    What-ifs (--set, --gqa, --mqa, --mha, --window) apply to every model. JSON/JSONL/CSV/TSV: one record per model.
    """
    from llmarch_cli.analysis.summary import arch_record
    from llmarch_cli.cli.options import report_notes, resolve, what_if
    from llmarch_cli.render.output import emit, resolve_format

    change = what_if(sets, gqa, mqa, mha, window)
    resolved = [resolve(m, change) for m in models]
    records = [arch_record(m.spec) for m in resolved]
    concrete = resolve_format(fmt, output)
    if concrete not in ("table", "md"):
        emit(records, concrete, columns=list(LABELS), output=output)
        report_notes(resolved)
        return
    keys = [k for k in LABELS if k != "model" and any(r[k] is not None for r in records)]
    rows, differing = side_by_side(records, keys)
    if concrete == "md":  # no colour in Markdown: differing rows get a bold label
        for index in differing:
            rows[index]["field"] = f"**{rows[index]['field']}**"
    columns = {"field": "", **{f"m{i}": r["model"] for i, r in enumerate(records)}}
    emit(rows, concrete, columns=columns, output=output, highlight=differing)
    report_notes(resolved)
