"""``llmarch list``: the presets, filtered by family or feature."""

from __future__ import annotations

from llmarch_cli.cli.options import FamilyOpt, FeatureOpt, Format, FormatOpt, NoColorOpt, OutputOpt

EXAMPLES = (  # shown under --help
    "llmarch list",
    "llmarch list --feature moe",
    "llmarch list --family llama -f md",
    "llmarch list -f csv > presets.csv",
)
RESULT = ("llmarch_cli.analysis.results", "PresetRow", "list")  # `llmarch schema list`


def list_models(
    family: FamilyOpt = None,
    feature: FeatureOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """List the preset models: id, family, release, attention kind, parameters, features, licence.

    JSON, CSV and TSV also carry the name, developer, active parameters (MoE), whether the
    licence is OSI open source (Apache-2.0, MIT) and the languages.
    """
    from llmarch_cli.analysis.summary import preset_row
    from llmarch_cli.render.output import emit
    from llmarch_cli.render.views import list_view
    from llmarch_cli.specs.loader import load_preset
    from llmarch_cli.specs.selection import select_preset_ids

    emit(list_view([preset_row(load_preset(p)) for p in select_preset_ids(family, feature)]), fmt, output)
