"""``llmarch diff A [B]``: only the fields (and computed figures) that differ."""

from __future__ import annotations

from typing import Annotated

import typer

from llmarch_cli.cli.options import (
    Format,
    FormatOpt,
    GqaOpt,
    MhaOpt,
    ModelArg,
    MqaOpt,
    NoColorOpt,
    OutputOpt,
    SetOpt,
    WindowOpt,
    complete_model,
)

EXAMPLES = (  # shown under --help
    "llmarch diff llama-2-7b mistral-7b-v0.1",
    "llmarch diff llama-2-7b --gqa 8",
    "llmarch diff llama-2-7b --set hidden_size=5120 --set num_hidden_layers=40 --json",
)
RESULT = ("llmarch_cli.analysis.results", "DiffRow", "list")  # `llmarch schema diff`


def diff(
    a: ModelArg,
    b: Annotated[str | None, typer.Argument(
        metavar="[B]", autocompletion=complete_model, show_default=False,
        help="The model to compare with; default: A itself (with --set/--gqa applied).")] = None,
    sets: SetOpt = None,
    gqa: GqaOpt = None,
    mqa: MqaOpt = False,
    mha: MhaOpt = False,
    window: WindowOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Only the fields that differ between A and B, with params and KV bytes per token.

    Every spec field is compared by its dotted path (meta bookkeeping such as name, source and
    notes left out), plus the computed figures.

    What-ifs (--set, --gqa, --mqa, --mha, --window) apply to B only, so 'llmarch diff llama-2-7b --gqa 8' shows what a what-if
    changes. Rows: field, a, b (raw values in JSON/CSV/TSV).
    """
    from llmarch_cli.analysis.summary import diff_specs
    from llmarch_cli.cli.options import report_notes, resolve, what_if
    from llmarch_cli.render.output import emit, note
    from llmarch_cli.render.views import diff_view

    change = what_if(sets, gqa, mqa, mha, window)
    first = resolve(a, None if b is not None else change)  # without B: A before and after
    second = resolve(b, change) if b is not None else first
    result = diff_specs(first.baseline, second.spec, what_if=bool(change))
    if not result.rows:
        note(f"{result.a} and {result.b}: no differences")
    emit(diff_view(result), fmt, output)
    report_notes([first, second])
