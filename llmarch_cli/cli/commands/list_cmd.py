"""``llmarch list``: the presets, filtered by family or feature."""

from __future__ import annotations

from llmarch_cli.cli.options import FamilyOpt, FeatureOpt, Format, FormatOpt, NoColorOpt, OutputOpt

EXAMPLES = (  # shown under --help
    "llmarch list",
    "llmarch list --feature moe",
    "llmarch list --family llama -f md",
    "llmarch list -f csv > presets.csv",
)


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
    from llmarch_cli.analysis.params import count_params
    from llmarch_cli.render.output import emit
    from llmarch_cli.render.views import list_view
    from llmarch_cli.specs.loader import load_preset
    from llmarch_cli.specs.selection import select_preset_ids

    specs = [load_preset(pid) for pid in select_preset_ids(family, feature)]
    counts = {s.id: count_params(s) for s in specs}
    rows = [
        {
            "model": s.id,
            "family": s.meta.family,
            "name": s.meta.name,
            "developer": s.meta.developer,
            "released": s.meta.released,
            "architecture": s.architecture,
            "attention": s.attention.kind,
            "total_params": counts[s.id].total_params,
            "active_params": counts[s.id].active_params,
            "features": list(s.features),
            "licence": s.meta.licence,
            "open_licence": s.meta.open_licence,
            "languages": list(s.meta.languages),
        }
        for s in specs
    ]
    emit(list_view(rows), fmt, output)
