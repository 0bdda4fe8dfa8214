"""``llmarch show MODEL``: every field of one spec, grouped."""

from __future__ import annotations

from llmarch_cli.cli.options import (
    AllOpt,
    FamilyOpt,
    FeatureOpt,
    Format,
    FormatOpt,
    GqaOpt,
    MhaOpt,
    MqaOpt,
    NoColorOpt,
    OutputOpt,
    SelectModelsArg,
    SetOpt,
    WindowOpt,
)

EXAMPLES = (  # shown under --help
    "llmarch show mistral",
    "llmarch show gpt2 --json",
    "llmarch show llama-2-7b --gqa 8 -f tsv",
    "llmarch show --family mistral --json",
)
RESULT = ("llmarch_cli.specs.model", "ArchSpec", "each")  # `llmarch schema show`


def show(
    models: SelectModelsArg = None,
    all_presets: AllOpt = False,
    family: FamilyOpt = None,
    feature: FeatureOpt = None,
    sets: SetOpt = None,
    gqa: GqaOpt = None,
    mqa: MqaOpt = False,
    mha: MhaOpt = False,
    window: WindowOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Every field of each MODEL, grouped: attention, positions, norm, FFN, MoE, embeddings,
    head, meta.

    JSON is the spec itself (the same shape 'spec export' writes): one object for one model, a
    list for several. Tables and CSV/TSV: one row per model and field (a model column when
    there are several).
    """
    from llmarch_cli.cli.options import report_notes, select_models, what_if
    from llmarch_cli.render.output import emit
    from llmarch_cli.render.views import show_view

    resolved = select_models(models, all_presets, family, feature, what_if(sets, gqa, mqa, mha, window))
    emit(show_view([m.spec for m in resolved]), fmt, output)
    report_notes(resolved)
