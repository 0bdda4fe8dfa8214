"""``llmarch flops MODEL...``: FLOPs per decoded token, prefill and training, per context."""

from __future__ import annotations

from typing import Annotated

import typer

from llmarch_cli.cli.options import (
    Format,
    FormatOpt,
    GqaOpt,
    ModelsArg,
    NoColorOpt,
    OutputOpt,
    SetOpt,
)

EXAMPLES = (  # shown under --help
    "llmarch flops llama-3.1-8b",
    "llmarch flops mistral-7b-v0.1 -c 4k,8k,32k",
    "llmarch flops llama-3.1-8b mixtral-8x7b --json | jq '.[].linear_flops_per_token'",
    "llmarch flops mixtral --explain",
)


def flops(
    models: ModelsArg,
    context: Annotated[str | None, typer.Option(
        "--context", "-c", metavar="N[,N...]", show_default=False,
        help="Tokens in context (4k, 128k); default min(4k, the model's maximum).")] = None,
    batch: Annotated[str, typer.Option(
        "--batch", "-b", metavar="B", help="Sequences prefilled at once (scales prefill_flops).")] = "1",
    sets: SetOpt = None,
    gqa: GqaOpt = None,
    explain: Annotated[bool, typer.Option("--explain", help="Print every term with its formula.")] = False,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """FLOPs of one token decoded with N tokens in context, of the prefill, and of training.

    linear = 2 x the matmul weights a token uses (MoE: top-k and shared experts and the router;
    the head counts; embedding lookups are free); attention = 4 x heads x head_dim x keys seen,
    per layer, a sliding layer seeing min(N, W). Prefill sums over positions under the causal
    mask. JSON: one object per (model, context) with a per-component breakdown.
    """
    from llmarch_cli.analysis.flops import flops_row, flops_terms
    from llmarch_cli.analysis.memory import default_context
    from llmarch_cli.cli.options import load_spec
    from llmarch_cli.cli.sizes import parse_count, parse_counts
    from llmarch_cli.render.compute import flops_view, print_explanation

    batch_size = parse_count(batch, "--batch")
    contexts = parse_counts(context, "--context") if context else None
    specs = [load_spec(m, sets, gqa) for m in models]
    rows = [flops_row(s, c, batch_size) for s in specs for c in contexts or [default_context(s)]]
    flops_view(rows, fmt, output)
    if explain:
        for spec in specs:
            ctx = (contexts or [default_context(spec)])[-1]
            print_explanation(flops_terms(spec, ctx, batch_size), fmt, output)
