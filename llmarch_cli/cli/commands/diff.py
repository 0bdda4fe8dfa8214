"""``llmarch diff A [B]``: only the fields (and computed figures) that differ."""

from __future__ import annotations

from typing import Annotated

import typer

from llmarch_cli.cli.options import (
    Format,
    FormatOpt,
    GqaOpt,
    ModelArg,
    NoColorOpt,
    OutputOpt,
    SetOpt,
    complete_model,
)

EXAMPLES = (  # shown under --help
    "llmarch diff llama-2-7b mistral-7b-v0.1",
    "llmarch diff llama-2-7b --gqa 8",
    "llmarch diff llama-2-7b --set hidden_size=5120 --set num_hidden_layers=40 --json",
)

FIGURES = ("layer_pattern", "total_params", "active_params", "kv_bytes_per_token",
           "state_bytes_per_sequence")
# Bookkeeping that differs between any two presets and says nothing about the architecture.
SKIPPED = ("id", "meta.name", "meta.hf_id", "meta.aliases", "meta.source", "meta.notes")


def diff(
    a: ModelArg,
    b: Annotated[str | None, typer.Argument(
        metavar="[B]", autocompletion=complete_model, show_default=False,
        help="The model to compare with; default: A itself (with --set/--gqa applied).")] = None,
    sets: SetOpt = None,
    gqa: GqaOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Only the fields that differ between A and B, with params and KV bytes per token.

    Every spec field is compared by its dotted path (meta bookkeeping such as name, source and
    notes left out), plus the computed figures.

    --set/--gqa apply to B only, so 'llmarch diff llama-2-7b --gqa 8' shows what a what-if
    changes. Rows: field, a, b (raw values in JSON/CSV/TSV).
    """
    from llmarch_cli.analysis.summary import arch_record
    from llmarch_cli.cli.options import load_spec
    from llmarch_cli.render.formats import flatten, humanise
    from llmarch_cli.render.output import emit, note, resolve_format

    spec_a = load_spec(a)
    spec_b = load_spec(b if b is not None else a, sets, gqa)
    flat_a, flat_b = (flatten(s.model_dump(mode="json")) for s in (spec_a, spec_b))
    keys = [k for k in dict.fromkeys([*flat_a, *flat_b]) if k not in SKIPPED]
    rec_a, rec_b = arch_record(spec_a), arch_record(spec_b)
    for key in FIGURES:
        flat_a[key], flat_b[key] = rec_a[key], rec_b[key]
    keys += FIGURES
    rows = [{"field": k, "a": flat_a.get(k), "b": flat_b.get(k)}
            for k in keys if flat_a.get(k) != flat_b.get(k)]
    if not rows:
        note(f"{spec_a.id} and {spec_b.id}: no differences")
    concrete = resolve_format(fmt, output)
    if concrete in ("table", "md"):  # values humanised by the field's own unit
        rows = [{"field": r["field"], "a": humanise(r["field"], r["a"]),
                 "b": humanise(r["field"], r["b"])} for r in rows]
    emit(rows, concrete, output=output,
         columns={"field": "Field", "a": spec_a.id, "b": spec_b.id + (" (what-if)" if sets or gqa else "")})
