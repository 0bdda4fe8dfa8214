"""``llmarch forward MODEL|DIR --tokens 1,2,3``: run a forward pass and show what happens inside."""

from __future__ import annotations

from typing import Annotated

import typer

from llmarch_cli.cli.options import (
    ComputeDtypeOpt,
    ModelArg,
    Outputs,
    Sampling,
    Scale,
    ScaleOpt,
    ShowAttention,
    TextOpt,
    TokensOpt,
    WhatIfs,
    shared,
)

EXAMPLES = (  # shown under --help
    "llmarch forward gpt2 --tokens 1,2,3",
    "llmarch forward mistral -t 5,6,7,8 --show attention --layer 0 --head 1",
    "llmarch forward ./my-checkpoint --tokens 1,2,3 --json | jq .top_next_tokens",
    "llmarch forward gpt-oss-20b --tokens 1,2,3,4,5,6 --generate 8",
    "llmarch forward llama --tokens 1,2,3 --generate 5 --temperature 0.8 --top-k 40 --seed 3",
    "llmarch forward ./my-checkpoint --text 'Once upon a time' --generate 20",
)
RESULT = ("llmarch_cli.forward.results", "ForwardResult", "one")  # `llmarch schema forward`


@shared
def forward(
    model: ModelArg,
    tokens: TokensOpt = None,
    text: TextOpt = None,
    sampling: Sampling = None,
    seed: Annotated[int, typer.Option(
        min=0, help="Seed of a replica's random weights and of sampling.")] = 0,
    dtype: ComputeDtypeOpt = "fp32",
    scale: ScaleOpt = Scale.tiny,
    show: ShowAttention = None,
    change: WhatIfs = None,
    out: Outputs = None,
) -> None:
    """Run MODEL on token ids and show what happens inside.

    Activation statistics per layer, attention entropy per head, MoE expert load, time per
    stage and the top next tokens.

    MODEL may be a folder with config.json and model.safetensors (or a sharded index): its
    real weights are loaded. Anything else becomes a replica with seeded random weights.
    JSON carries the final logits, one list of vocab scores per position, under "logits".

    --generate N decodes step by step and shows per token the new token, the bytes the cache
    holds per layer kind (the figure llmarch kvcache computes) and the time it took.
    """
    from llmarch_cli.cli.options import report_notes, resolve
    from llmarch_cli.errors import LlmarchError
    from llmarch_cli.forward.runner import parse_tokens, run_forward
    from llmarch_cli.render.output import emit
    from llmarch_cli.render.progress import bytes_progress
    from llmarch_cli.render.views import forward_view

    if (tokens is None) == (text is None):
        raise LlmarchError("give the prompt as --tokens IDS or as --text TEXT (one of them)")
    ids = parse_tokens(tokens) if tokens is not None else None
    resolved = resolve(model, change)
    codec = None
    if text is not None:
        from llmarch_cli.forward.tokenizer import model_text

        codec = model_text(resolved, model, scale.value)
        ids = codec.encode(text)
    with bytes_progress("loading weights") as progress:
        result = run_forward(resolved, ids, scale=scale.value, seed=seed, dtype=dtype.value,
                             show=show, progress=progress, text=codec, **sampling._asdict())
    emit(forward_view(result), *out)
    report_notes([resolved])
