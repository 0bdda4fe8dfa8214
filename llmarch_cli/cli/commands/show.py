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

GROUPS = ("model", "attention", "positions", "norm", "ffn", "moe", "embeddings", "head", "meta")


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
    from llmarch_cli.render.output import emit, resolve_format

    resolved = select_models(models, all_presets, family, feature, what_if(sets, gqa, mqa, mha, window))
    concrete = resolve_format(fmt, output)
    if concrete in ("json", "jsonl"):
        data = [m.spec.model_dump(mode="json") for m in resolved]
        emit(data[0] if len(data) == 1 and concrete == "json" else data, concrete, output=output)
    else:
        many = len(resolved) > 1
        rows = [{"model": m.spec.id, **row} if many else row
                for m in resolved for row in _rows(m.spec, concrete in ("table", "md"))]
        title = f"{resolved[0].spec.id} ({resolved[0].spec.meta.name})" if not many else "Specs"
        emit(rows, concrete, output=output, title=title,
             columns={**({"model": "Model"} if many else {}), "group": "Group", "field": "Field",
                      "value": "Value"})
    report_notes(resolved)


def _rows(spec, human: bool) -> list[dict]:
    """One row per field; a human reader sees each group named once (machine rows complete)."""
    from llmarch_cli.render.formats import flatten

    data = spec.model_dump(mode="json")
    rows = []
    for group in GROUPS:
        part = {k: v for k, v in data.items() if k not in (*GROUPS, "id")} \
            if group == "model" else data.get(group)
        if group == "attention":
            part = {**part, "kind": spec.attention.kind}
        if part is None:  # no MoE: a human reader sees the group is empty
            if human:
                rows.append({"group": group, "field": "-", "value": None})
            continue
        for index, (field, value) in enumerate(flatten(part).items()):
            rows.append({"group": group if index == 0 or not human else "", "field": field, "value": value})
    return rows
