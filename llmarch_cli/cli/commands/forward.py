"""``llmarch forward MODEL|DIR --tokens 1,2,3``: run a forward pass and show what happens inside."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any

import typer

from llmarch_cli.cli.options import ModelArg, Outputs, WhatIfs, dtype_name, shared

EXAMPLES = (  # shown under --help
    "llmarch forward gpt2 --tokens 1,2,3",
    "llmarch forward mistral -t 5,6,7,8 --show attention --layer 0 --head 1",
    "llmarch forward ./my-checkpoint --tokens 1,2,3 --json | jq .top_next_tokens",
    "llmarch forward gpt-oss-20b --tokens 1,2,3,4,5,6 --generate 8",
    "llmarch forward llama --tokens 1,2,3 --generate 5 --temperature 0.8 --top-k 40 --seed 3",
    "llmarch forward ./my-checkpoint --text 'Once upon a time' --generate 20",
)
RESULT = ("llmarch_cli.forward.results", "ForwardResult", "one")  # `llmarch schema forward`


class Dtype(str, Enum):
    fp32 = "fp32"
    fp16 = "fp16"
    bf16 = "bf16"


class Scale(str, Enum):
    tiny = "tiny"
    full = "full"


class Show(str, Enum):
    attention = "attention"


@shared
def forward(
    model: ModelArg,
    tokens: Annotated[str | None, typer.Option(
        "--tokens", "-t", metavar="IDS", show_default=False,
        help="Comma-separated token ids, e.g. 1,2,3.")] = None,
    text: Annotated[str | None, typer.Option(
        "--text", show_default=False,
        help="Text to encode with the checkpoint folder's tokenizer.json (needs the "
             "tokenizers package); generated tokens are decoded back.")] = None,
    generate: Annotated[int | None, typer.Option(
        "--generate", "-g", metavar="N", show_default=False,
        help="Generate N tokens after the prompt: one prefill, then one step per token "
             "through a KV cache.")] = None,
    temperature: Annotated[float, typer.Option(
        help="Sampling temperature for --generate; 0 is greedy.")] = 0.0,
    top_k: Annotated[int | None, typer.Option(
        "--top-k", show_default=False,
        help="Sample among the K most probable tokens (needs --temperature above 0).")] = None,
    seed: Annotated[int, typer.Option(
        min=0, help="Seed of a replica's random weights and of sampling.")] = 0,
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
                             show=(layer, head) if show is not None else None, progress=progress,
                             new_tokens=generate, temperature=temperature, top_k=top_k,
                             text=codec)
    emit(forward_view(result), *out)
    report_notes([resolved])
