"""``llmarch params MODEL``: exact parameter counts, total and active, with a breakdown."""

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
)

EXAMPLES = (  # shown under --help
    "llmarch params llama-2-7b",
    "llmarch params mixtral --breakdown",
    "llmarch params mixtral --breakdown -f json | jq .active_params",
    "cat config.json | llmarch params -",
)

SUMMARY = ("total_params", "active_params", "embedding_params", "lm_head_params",
           "non_embedding_params")


def params(
    model: ModelArg,
    breakdown: Annotated[bool, typer.Option(
        "--breakdown", help="Per component: per layer, layers and total.")] = False,
    sets: SetOpt = None,
    gqa: GqaOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Exact parameter counts of MODEL: total, active (MoE), embeddings, output head.

    JSON always carries the breakdown; CSV/TSV give the summary row, or the breakdown rows
    with --breakdown. Tied weights are counted once.
    """
    from llmarch_cli.analysis.params import count_params
    from llmarch_cli.cli.options import load_spec
    from llmarch_cli.render.formats import header
    from llmarch_cli.render.output import on_terminal, render_text, resolve_format, write_text
    from llmarch_cli.render.units import format_count

    result = count_params(load_spec(model, sets, gqa))
    concrete = resolve_format(fmt, output)
    terminal = on_terminal(concrete, output)
    groups = [g.model_dump() for g in result.breakdown]
    if concrete in ("json", "jsonl"):
        text = render_text(result, concrete)
    elif concrete in ("csv", "tsv"):
        text = render_text(groups if breakdown else [result.model_dump(exclude={"breakdown"})],
                           concrete)
    else:
        summary = [{"count": header(k), "params": format_count(getattr(result, k)),
                    "exact": f"{getattr(result, k):,}"} for k in SUMMARY]
        text = render_text(summary, concrete, title=f"{result.model} parameters", terminal=terminal,
                           columns={"count": "", "params": "Params (SI)", "exact": "Exact"})
        if breakdown:
            text += "\n" + render_text(groups, concrete, title="Breakdown", terminal=terminal,
                                       columns={"stack": "Stack", "component": "Component",
                                                "per_layer": "Per layer (params)", "layers": "Layers",
                                                "total": "Total (params)"})
    write_text(text, output)
