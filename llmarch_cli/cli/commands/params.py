"""``llmarch params MODEL...``: exact parameter counts, total and active, with a breakdown."""

from __future__ import annotations

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
RESULT = ("llmarch_cli.analysis.results", "ParamsResult", "each")  # `llmarch schema params`

SUMMARY = ("total_params", "active_params", "embedding_params", "lm_head_params",
           "non_embedding_params")


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
    from llmarch_cli.render.output import on_terminal, render_text, resolve_format, write_text

    resolved = select_models(models, all_presets, family, feature, what_if(sets, gqa, mqa, mha, window))
    results = [count_params(m.spec) for m in resolved]
    concrete = resolve_format(fmt, output)
    terminal = on_terminal(concrete, output)
    groups = [{"model": r.model, **g.model_dump()} for r in results for g in r.breakdown]
    if concrete in ("json", "jsonl"):
        text = render_text(results[0] if len(results) == 1 and concrete == "json" else results, concrete)
    elif concrete in ("csv", "tsv"):
        text = render_text(groups if breakdown else [r.model_dump(exclude={"breakdown"}) for r in results],
                           concrete)
    else:
        text = "\n".join(_human(result, breakdown, concrete, terminal) for result in results)
    write_text(text, output)
    report_notes(resolved)


def _human(result, breakdown: bool, concrete: str, terminal: bool) -> str:
    from llmarch_cli.render.formats import header
    from llmarch_cli.render.output import render_text
    from llmarch_cli.render.units import format_count

    summary = [{"count": header(k), "params": format_count(getattr(result, k)),
                "exact": f"{getattr(result, k):,}"} for k in SUMMARY]
    text = render_text(summary, concrete, title=f"{result.model} parameters", terminal=terminal,
                       columns={"count": "", "params": "Params (SI)", "exact": "Exact"})
    if breakdown:
        groups = [g.model_dump() for g in result.breakdown]
        text += "\n" + render_text(groups, concrete, title="Breakdown", terminal=terminal,
                                   columns={"stack": "Stack", "component": "Component",
                                            "per_layer": "Per layer (params)", "layers": "Layers",
                                            "total": "Total (params)"})
    return text
