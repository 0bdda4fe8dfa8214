"""``llmarch params MODEL...``: exact parameter counts, total and active, with a breakdown."""

from typing import Annotated

import typer

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
    "llmarch params llama-2-7b",
    "llmarch params mixtral --breakdown",
    "llmarch params mixtral --breakdown -f json | jq .active_params",
    "llmarch params --all -f tsv",
    "cat config.json | llmarch params -",
)
RESULT = ("llmarch_cli.analysis.params_results", "ParamsResult", "each")  # `llmarch schema params`

def params(
    models: SelectModelsArg = None,
    all_presets: AllOpt = False,
    family: FamilyOpt = None,
    feature: FeatureOpt = None,
    breakdown: Annotated[bool, typer.Option(
        "--breakdown", help="Per component: per layer, layers and total.")] = False,
    sets: SetOpt = None,
    gqa: GqaOpt = None,
    mqa: MqaOpt = False,
    mha: MhaOpt = False,
    window: WindowOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Exact parameter counts of each MODEL: total, active (MoE), embeddings, output head.

    JSON always carries the breakdown (one object for one model, a list for several); CSV/TSV
    give one summary row per model, or the breakdown rows with --breakdown. Tied weights are
    counted once.
    """
    from llmarch_cli.analysis.params import count_params
    from llmarch_cli.cli.options import report_notes, select_models, what_if
    from llmarch_cli.render.output import emit
    from llmarch_cli.render.views import params_view

    resolved = select_models(models, all_presets, family, feature, what_if(sets, gqa, mqa, mha, window))
    emit(params_view([count_params(m.spec) for m in resolved], breakdown), fmt, output)
    report_notes(resolved)
