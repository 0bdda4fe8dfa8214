"""Views of the compute results (``flops``, ``complexity``, ``roofline``) and their ``--explain``.

Each view picks the columns a table shows and titles them with units; JSON carries every key.
Nothing is computed here.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from llmarch_cli.analysis.compute_results import (
    ComplexityRow,
    ComputeTerm,
    FlopsRow,
    MeasuredKernel,
    RooflineResult,
)
from llmarch_cli.render.output import emit, note, resolve_format
from llmarch_cli.render.units import format_bytes, format_flops

FLOPS_COLUMNS = {
    "model": "Model", "context": "Context", "linear_flops_per_token": "Linear (FLOP/token)",
    "attention_flops_per_token": "Attention (FLOP/token)",
    "forward_flops_per_token": "Forward (FLOP/token)", "prefill_flops": "Prefill (FLOP)",
    "training_flops_per_token": "Training (FLOP/token)", "six_nd_flops_per_token": "6N (FLOP/token)",
}
COMPLEXITY_COLUMNS = {
    "seq_len": "Tokens", "full_attention_flops": "Full attn (FLOP)",
    "window_attention_flops": "Window attn (FLOP)", "ffn_flops": "FFN (FLOP)",
    "naive_score_bytes": "Naive scores (IEC)", "tiled_score_bytes": "Tiled scores (IEC)",
    "kv_cache_bytes": "KV cache (IEC)",
}
MEASURED_COLUMNS = {
    "kernel": "Kernel", "lengths": "Tokens", "time_exponent": "Time exp.",
    "analytic_time_exponent": "Analytic", "memory_exponent": "Memory exp.",
    "analytic_memory_exponent": "Analytic",
}


def flops_view(rows: Sequence[FlopsRow], fmt: str, output: Path | None) -> None:
    """One row per (model, context); JSON adds the per-component breakdown."""
    concrete = resolve_format(fmt, output)
    if concrete in ("json", "jsonl"):
        emit(list(rows), fmt, output=output)
        return
    flat = [r.model_dump(exclude={"breakdown"}) for r in rows]
    emit(flat, fmt, columns=FLOPS_COLUMNS if concrete in ("table", "md") else None,
         title="FLOPs per token decoded at each context (prefill: the whole prompt)", output=output)


def complexity_view(rows: Sequence[ComplexityRow], fmt: str, output: Path | None) -> None:
    concrete = resolve_format(fmt, output)
    first = rows[0]
    title = (f"Attention of {first.model} over whole sequences, causal (window {first.window:,}; "
             f"attention overtakes the FFN at {first.attention_overtakes_ffn_tokens:,} tokens; "
             f"stacked windows reach {first.receptive_field_tokens:,} tokens)")
    emit(list(rows), fmt, columns=COMPLEXITY_COLUMNS if concrete in ("table", "md") else None,
         title=title, output=output)


def measured_view(rows: Sequence[MeasuredKernel], fmt: str, output: Path | None) -> None:
    concrete = resolve_format(fmt, output)
    emit(list(rows), fmt, columns=MEASURED_COLUMNS if concrete in ("table", "md") else None,
         title="Measured exponents of the numpy attention kernels (log-log slopes)", output=output)


def roofline_view(result: RooflineResult, fmt: str, output: Path | None) -> None:
    concrete = resolve_format(fmt, output)
    emit(result.model_dump(exclude={"terms"}) if concrete not in ("json", "jsonl") else result,
         fmt, output=output)


def _value(term: ComputeTerm) -> str:
    if term.unit.startswith("FLOP"):
        return format_flops(term.value) + term.unit[4:]
    if term.unit == "B":
        return format_bytes(term.value)
    return f"{term.value:,.6g} {term.unit}"


def explanation_lines(terms: Sequence[ComputeTerm]) -> list[str]:
    """Name and value, formula, inputs and assumption of every term."""
    lines = []
    for t in terms:
        lines += [f"{t.name}: {_value(t)}", f"  formula: {t.formula}", f"  inputs: {t.inputs}"]
        if t.assumption:
            lines.append(f"  assumption: {t.assumption}")
    return lines


def print_explanation(terms: Sequence[ComputeTerm], fmt: str, output: Path | None) -> None:
    """Beside a table on stdout; on stderr beside machine formats or a file."""
    text = "\n".join(explanation_lines(terms))
    if resolve_format(fmt, output) in ("table", "md") and output is None:
        sys.stdout.write(text + "\n")
    else:
        note(text)
