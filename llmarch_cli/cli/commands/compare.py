"""``llmarch compare MODEL...``: every architectural field side by side, plus computed figures."""

from __future__ import annotations

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

EXAMPLES = (  # shown under --help
    "llmarch compare llama mistral",
    "llmarch compare gpt2 llama-3-8b mixtral-8x7b -f md",
    "llmarch compare llama mistral qwen -f jsonl | jq .kv_bytes_per_token",
)
RESULT = ("llmarch_cli.analysis.results", "ArchRecord", "list")  # `llmarch schema compare`


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
    from llmarch_cli.analysis.summary import compare_specs
    from llmarch_cli.cli.options import report_notes, resolve, what_if
    from llmarch_cli.render.output import emit
    from llmarch_cli.render.views import compare_view

    change = what_if(sets, gqa, mqa, mha, window)
    resolved = [resolve(m, change) for m in models]
    emit(compare_view(compare_specs([m.spec for m in resolved])), fmt, output)
    report_notes(resolved)
