"""The view of ``checkpoints.results.InspectResult`` (render/ sits beside checkpoints/, so the
result is typed Any here): summary, tensor groups (or every tensor), ``--against``.

Computes nothing: every figure is a field of the result. Rows carry unit-suffixed keys so that
tables humanise them (``*_bytes`` IEC, ``*_params`` SI); machine formats get the raw rows.
"""

from __future__ import annotations

from typing import Any

from llmarch_cli.render.page import Page, Section
from llmarch_cli.render.units import format_bytes, format_count

SHOWN = 10  # mismatched tensors listed per problem in a table


def summary_rows(r: Any) -> list[dict[str, Any]]:
    """(field, value) rows: the checkpoint, its architecture, the spec's figures, the estimate."""
    a = r.architecture
    rows = [
        ("Format", f"{r.format}, {r.files} file{'s' if r.files != 1 else ''}, "
                   f"{format_bytes(r.file_bytes)} on disk"),
        ("Parameters", f"{format_count(r.total_params)} ({r.total_params:,})"),
        ("Tensor bytes", f"{format_bytes(r.total_bytes)} ({r.total_bytes:,} B)"),
        ("Bits per weight", f"{r.bits_per_weight:.4g}"),
    ]
    for dtype, params in r.dtypes.items():
        rows.append((f"  {dtype}", f"{format_count(params)} params ({params / r.total_params:.1%}), "
                                   f"{format_bytes(r.bytes[dtype])}, "
                                   f"{r.dtype_bits_per_weight.get(dtype, 0):.4g} bits/weight"))
    if r.buffers:
        rows.append(("Buffers (not params)",
                     f"{len(r.buffers)} tensors, {r.buffer_elements:,} elements"))
    arch = [a.model_type or "unknown", a.name]
    sizes = [f"{a.num_layers} layers" if a.num_layers else None,
             f"hidden {a.hidden_size}" if a.hidden_size else None,
             f"{a.num_heads}/{a.num_kv_heads} heads" if a.num_heads else None,
             f"vocab {a.vocab_size:,}" if a.vocab_size else None,
             f"{a.num_experts} experts" if a.num_experts else None]
    rows.append(("Architecture", f"{' '.join(x for x in arch if x)} (from {a.source})"))
    if any(sizes):
        rows.append(("Sizes", ", ".join(s for s in sizes if s)))
    if a.spec_params is not None:
        gap = a.spec_params - r.total_params
        verdict = "equal" if gap == 0 else f"the file holds {abs(gap):,} {'fewer' if gap > 0 else 'more'}"
        rows.append(("Spec params", f"{format_count(a.spec_params)} ({a.spec_params:,}): {verdict}"))
    if a.memory_bytes is not None:
        rows.append(("Memory to load", f"{format_bytes(a.memory_bytes)} ({a.weight_format}, "
                                       f"context {a.context:,}, batch 1)"))
    if a.kv_bytes_per_token is not None:
        rows.append(("KV cache per token", f"{format_bytes(a.kv_bytes_per_token)} (fp16)"))
    if r.estimate is not None:
        e = r.estimate
        rows.append((f"Estimate ({e.weight_format})",
                     f"{format_bytes(e.estimated_bytes)} vs file {format_bytes(e.file_bytes)}: "
                     f"ratio {e.ratio:.4f}"))
    if a.note:
        rows.append(("Note", a.note))
    return [{"field": f, "value": v} for f, v in rows]


def _tensor_rows(r: Any) -> tuple[list[dict[str, Any]], dict[str, str], str]:
    """Every tensor (``--tensors``) or the groups by kind: rows, columns, title."""
    if r.tensors is not None:
        rows = [{"name": t.name, "dtype": t.dtype, "shape": "x".join(map(str, t.shape)) or "scalar",
                 "params": t.params, "tensor_bytes": t.bytes, "file": t.file,
                 "buffer": t.buffer} for t in r.tensors]
        columns = {"name": "Tensor", "dtype": "Dtype", "shape": "Shape", "params": "Params",
                   "tensor_bytes": "Bytes (IEC)", "file": "File", "buffer": "Buffer"}
        return rows, columns, "Tensors"
    rows = [{"kind": g.kind, "layers": g.layers or "-", "tensors": g.tensors,
             "shape": "x".join(map(str, g.shape)) if g.shape is not None else "mixed",
             "dtypes": ",".join(g.dtypes), "group_params": g.params, "group_bytes": g.bytes}
            for g in r.groups]
    columns = {"kind": "Kind", "layers": "Layers", "tensors": "Tensors", "shape": "Shape",
               "dtypes": "Dtype", "group_params": "Params (SI)", "group_bytes": "Bytes (IEC)"}
    return rows, columns, "Tensors by kind"


def inspect_view(results: list[Any]) -> Page:
    """JSON: the results (absent parts left out); csv/tsv: the tensor groups (or tensors);
    tables: per file its summary, groups or tensors, and the --against comparison."""
    data = [r.model_dump(mode="json", exclude={k for k in ("tensors", "against", "estimate")
                                               if getattr(r, k) is None}) for r in results]
    records, sections = [], []
    for r in results:
        rows, columns, title = _tensor_rows(r)
        records += rows
        sections += [Section(summary_rows(r), {"field": "Field", "value": "Value"}, r.path),
                     Section(rows, columns, title)]
        if r.against is not None:
            sections.append(against_section(r))
    first = _tensor_rows(results[0])[1]
    return Page(data[0] if len(data) == 1 else data, records, record_columns=list(first),
                sections=sections, jsonl=data)


def against_section(r: Any) -> Section:
    """The comparison with --against: one line when it matches, else the problems."""
    c = r.against
    assert c is not None
    if c.match:
        message = f"Matches {c.model}: all {c.expected_tensors:,} tensors present with the expected shapes."
        return Section([{"check": message}], {"check": "Against"})
    rows = []
    for problem, items in (("missing", c.missing), ("extra", c.extra), ("misshaped", c.misshaped)):
        rows += [{"problem": problem, "tensor": m.name,
                  "expected": "x".join(map(str, m.expected_shape)) if m.expected_shape else "-",
                  "file": "x".join(map(str, m.file_shape)) if m.file_shape else "-"}
                 for m in items[:SHOWN]]
        if len(items) > SHOWN:
            rows.append({"problem": problem, "tensor": f"... {len(items) - SHOWN:,} more (--json lists all)",
                         "expected": "", "file": ""})
    title = (f"Does not match {c.model}: {len(c.missing)} missing, {len(c.extra)} extra, "
             f"{len(c.misshaped)} misshaped of {c.expected_tensors:,} expected")
    return Section(rows, {"problem": "Problem", "tensor": "Tensor", "expected": "Expected shape",
                          "file": "File shape"}, title)
