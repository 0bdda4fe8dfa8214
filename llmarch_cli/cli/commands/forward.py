"""``llmarch forward MODEL|DIR --tokens 1,2,3``: run a forward pass and show what happens inside."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer

from llmarch_cli.cli.options import (
    Format,
    FormatOpt,
    GqaOpt,
    MhaOpt,
    ModelArg,
    MqaOpt,
    NoColorOpt,
    OutputOpt,
    SetOpt,
    WindowOpt,
    dtype_name,
)

EXAMPLES = (  # shown under --help
    "llmarch forward gpt2 --tokens 1,2,3",
    "llmarch forward mistral -t 5,6,7,8 --show attention --layer 0 --head 1",
    "llmarch forward ./my-checkpoint --tokens 1,2,3 --json | jq .top_next_tokens",
)
RESULT = ("llmarch_cli.forward.results", "ForwardResult", "each")  # `llmarch schema forward`


class Dtype(str, Enum):
    fp32 = "fp32"
    fp16 = "fp16"
    bf16 = "bf16"


class Scale(str, Enum):
    tiny = "tiny"
    full = "full"


class Show(str, Enum):
    attention = "attention"


def forward(
    model: ModelArg,
    tokens: Annotated[str, typer.Option(
        "--tokens", "-t", metavar="IDS", show_default=False,
        help="Comma-separated token ids, e.g. 1,2,3.")],
    seed: Annotated[int, typer.Option(min=0, help="Seed of a replica's random weights.")] = 0,
    dtype: Annotated[Any, typer.Option(
        "--dtype", parser=lambda text: Dtype(dtype_name(text)), metavar="DTYPE",
        help="Compute precision: fp32, fp16, bf16 (or float32, float16, bfloat16); fp16/bf16 "
             "round every op's output to that dtype.",
    )] = "fp32",
    scale: Annotated[Scale, typer.Option(
        case_sensitive=False,
        help="Replica of a preset or spec: tiny keeps the structure at small sizes; full only "
             "when it fits in memory. Ignored for a folder with weights.")] = Scale.tiny,
    show: Annotated[Show | None, typer.Option(
        help="Draw the attention weights of --layer/--head as a heatmap.")] = None,
    layer: Annotated[int, typer.Option(min=0, help="Layer for --show (decoder stack if any).")] = 0,
    head: Annotated[int, typer.Option(min=0, help="Head for --show.")] = 0,
    sets: SetOpt = None,
    gqa: GqaOpt = None,
    mqa: MqaOpt = False,
    mha: MhaOpt = False,
    window: WindowOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Run MODEL on token ids and show what happens inside.

    Activation statistics per layer, attention entropy per head, MoE expert load, time per
    stage and the top next tokens.

    MODEL may be a folder with config.json and model.safetensors (or a sharded index): its
    real weights are loaded. Anything else becomes a replica with seeded random weights.
    JSON carries the final logits, one list of vocab scores per position, under "logits".
    """
    from llmarch_cli.cli.options import report_notes, resolve, what_if
    from llmarch_cli.forward.runner import parse_tokens, run_forward
    from llmarch_cli.render.output import emit
    from llmarch_cli.render.progress import bytes_progress
    from llmarch_cli.render.views import forward_view

    ids = parse_tokens(tokens)
    resolved = resolve(model, what_if(sets, gqa, mqa, mha, window))
    with bytes_progress("loading weights") as progress:
        result = run_forward(resolved, ids, scale=scale.value, seed=seed, dtype=dtype.value,
                             show=(layer, head) if show is not None else None, progress=progress)
    emit(forward_view(result), fmt, output)
    report_notes([resolved])
