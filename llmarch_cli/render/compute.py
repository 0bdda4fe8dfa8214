"""Views of the compute results (``flops``, ``complexity``, ``roofline``) as ``Page``\\ s.

Each view picks the columns a table shows and titles them with units; JSON carries every key.
Nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmarch_cli.analysis.compute_results import (
    ComplexityRow,
    ComputeTerm,
    FlopsRow,
    MeasuredKernel,
    RooflineResult,
)
from llmarch_cli.render.formats import header, humanise
from llmarch_cli.render.page import Page, Section
from llmarch_cli.render.units import format_bytes, format_flops

FLOPS_COLUMNS = {
    "model": "Model", "context": "Context", "linear_flops_per_token": "Linear (FLOP/token)",
    "attention_flops_per_token": "Attention (FLOP/token)",
    "attention_naive_flops_per_token": "MLA naive (FLOP/token)",
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


def _value(term: ComputeTerm) -> str:
    if term.unit.startswith("FLOP"):
        return format_flops(term.value) + term.unit[4:]
    if term.unit == "B":
        return format_bytes(term.value)
    return f"{term.value:,.6g} {term.unit}"


def explanation(terms: Sequence[ComputeTerm], heading: str | None = None) -> list[str]:
    """``--explain``: name and value, formula, inputs and assumption of every term."""
    lines = [heading] if heading else []
    for t in terms:
        lines += [f"{t.name}: {_value(t)}", f"  formula: {t.formula}", f"  inputs: {t.inputs}"]
        if t.assumption:
            lines.append(f"  assumption: {t.assumption}")
    return lines


def flops_view(rows: Sequence[FlopsRow], explained: Sequence[tuple[str, Sequence[ComputeTerm]]] = ()) -> Page:
    """One row per (model, context, batch); JSON adds the per-component breakdown."""
    data = [r.model_dump(mode="json") for r in rows]
    flat = [r.model_dump(mode="json", exclude={"breakdown"}) for r in rows]
    lines = [line for heading, terms in explained for line in explanation(terms, heading)]
    title = "FLOPs per token decoded at each context (prefill: the whole prompt)"
    columns = dict(FLOPS_COLUMNS)
    if all(r.attention_naive_flops_per_token is None for r in rows):
        del columns["attention_naive_flops_per_token"]
    return Page(data, flat, sections=[Section(flat, columns, title)], explanation=lines)


def complexity_view(rows: Sequence[ComplexityRow], terms: Sequence[ComputeTerm] = ()) -> Page:
    data = [r.model_dump(mode="json") for r in rows]
    first = rows[0]
    title = (f"Attention of {first.model} over whole sequences, causal (window {first.sliding_window:,}; "
             f"attention overtakes the FFN at {first.attention_overtakes_ffn_tokens:,} tokens; "
             f"stacked windows reach {first.receptive_field_tokens:,} tokens)")
    return Page(data, data, sections=[Section(data, COMPLEXITY_COLUMNS, title)],
                explanation=explanation(terms))


def measured_view(rows: Sequence[MeasuredKernel]) -> Page:
    data = [r.model_dump(mode="json") for r in rows]
    title = "Measured exponents of the numpy attention kernels (log-log slopes)"
    return Page(data, data, sections=[Section(data, MEASURED_COLUMNS, title)])


def roofline_view(result: RooflineResult, explain: bool = False) -> Page:
    """One object; tables list field and value; ``--explain`` itemises the step."""
    flat = result.model_dump(mode="json", exclude={"terms"})
    fields = [{"field": header(k), "value": humanise(k, v)} for k, v in flat.items()]
    title = f"{result.model} on {result.gpus} x {result.gpu}, batch {result.batch:,}, context {result.context:,}"
    return Page(result.model_dump(mode="json"), [flat],
                sections=[Section(fields, {"field": "Field", "value": "Value"}, title)],
                explanation=explanation(result.terms) if explain else ())
