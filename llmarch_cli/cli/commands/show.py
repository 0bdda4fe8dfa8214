"""``llmarch show MODEL``: every field of one spec, grouped."""

from __future__ import annotations

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
    "llmarch show mistral",
    "llmarch show gpt2 --json",
    "llmarch show llama-2-7b --gqa 8 -f tsv",
)

GROUPS = ("model", "attention", "positions", "norm", "ffn", "moe", "embeddings", "head", "meta")


def show(
    model: ModelArg,
    sets: SetOpt = None,
    gqa: GqaOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Every field of MODEL, grouped: attention, positions, norm, FFN, MoE, embeddings, head, meta.

    JSON is the spec itself (the same shape 'spec export' writes).
    """
    from llmarch_cli.cli.options import load_spec
    from llmarch_cli.render.formats import flatten
    from llmarch_cli.render.output import emit, resolve_format

    spec = load_spec(model, sets, gqa)
    data = spec.model_dump(mode="json")
    concrete = resolve_format(fmt, output)
    if concrete in ("json", "jsonl"):
        emit(data, concrete, output=output)
        return
    human = concrete in ("table", "md")  # name each group once; machine rows stay complete
    rows = []
    for group in GROUPS:
        part = {k: v for k, v in data.items() if k not in (*GROUPS, "id")} \
            if group == "model" else data.get(group)
        if group == "attention":
            from llmarch_cli.analysis.summary import layer_pattern

            part = {**part, "kind": spec.attention.kind, "layer_pattern": layer_pattern(spec)}
        if part is None:  # no MoE: a human reader sees the group is empty
            if human:
                rows.append({"group": group, "field": "-", "value": None})
            continue
        for index, (field, value) in enumerate(flatten(part).items()):
            rows.append({"group": group if index == 0 or not human else "", "field": field, "value": value})
    emit(rows, concrete, columns={"group": "Group", "field": "Field", "value": "Value"},
         title=f"{spec.id} ({spec.meta.name})", output=output)
