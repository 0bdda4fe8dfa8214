"""``llmarch list``: the presets, filtered by family or feature."""

from __future__ import annotations

from typing import Annotated

import typer

from llmarch_cli.cli.options import Format, FormatOpt, NoColorOpt, OutputOpt

EXAMPLES = (  # shown under --help
    "llmarch list",
    "llmarch list --feature moe",
    "llmarch list --family llama -f md",
    "llmarch list -f csv > presets.csv",
)

COLUMNS = ("id", "family", "name", "developer", "released", "architecture", "attention",
           "total_params", "active_params", "features", "licence", "open_licence", "languages")
TABLE_COLUMNS = ("id", "family", "released", "architecture", "attention", "total_params",
                 "features", "licence")


def list_models(
    family: Annotated[str | None, typer.Option("--family", help="Only this family (llama, qwen, ...).",
                                               show_default=False)] = None,
    feature: Annotated[str | None, typer.Option(
        "--feature", show_default=False,
        help="Only models with this feature: gqa, mqa, mha, moe, swa, rope, alibi, learned, "
             "sinusoidal, relative-buckets, rmsnorm, layernorm, gated-ffn, swiglu, geglu, sinks, "
             "parallel, tied, qkv-bias, mla, qk-norm, local-global, chunked, hybrid, ssm, "
             "shared-experts, softcap.")] = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """List the preset models: id, family, release, attention kind, parameters, features, licence.

    JSON, CSV and TSV also carry the name, developer, active parameters (MoE), whether the
    licence is OSI open source (Apache-2.0, MIT) and the languages.
    """
    from llmarch_cli.analysis.params import count_params
    from llmarch_cli.errors import LlmarchError
    from llmarch_cli.render.output import emit, resolve_format
    from llmarch_cli.specs.registry import load_preset, preset_ids

    specs = [load_preset(pid) for pid in preset_ids()]
    known = sorted({tag for s in specs for tag in s.features})
    if family is not None:
        wanted = family.strip().lower()
        families = sorted({s.meta.family for s in specs})
        if wanted not in families:
            raise LlmarchError(f"unknown family {family!r}", f"families: {', '.join(families)}")
        specs = [s for s in specs if s.meta.family == wanted]
    if feature is not None:
        tag = feature.strip().lower()
        if tag not in known:
            raise LlmarchError(f"unknown feature {feature!r}", f"features: {', '.join(known)}")
        specs = [s for s in specs if tag in s.features]
    counts = {s.id: count_params(s) for s in specs}
    rows = [
        {
            "id": s.id,
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
    human = resolve_format(fmt, output) in ("table", "md")
    emit(rows, fmt, columns=TABLE_COLUMNS if human else COLUMNS, output=output)
