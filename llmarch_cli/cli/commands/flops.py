"""``llmarch flops MODEL...``: FLOPs per decoded token, prefill and training, per context."""

from __future__ import annotations

from llmarch_cli.cli.options import (
    BatchOpt,
    ContextOpt,
    ExplainOpt,
    ModelsArg,
    Outputs,
    WhatIfs,
    shared,
)

EXAMPLES = (  # shown under --help
    "llmarch flops llama-3.1-8b",
    "llmarch flops mistral-7b-v0.1 -c 4k,8k,32k",
    "llmarch flops llama-3.1-8b mixtral-8x7b --json | jq '.[].linear_flops_per_token'",
    "llmarch flops mixtral --explain",
)
RESULT = ("llmarch_cli.analysis.compute_results", "FlopsRow", "list")  # `llmarch schema flops`


@shared
def flops(
    models: ModelsArg,
    context: ContextOpt = None,
    batch: BatchOpt = "1",
    change: WhatIfs = None,
    explain: ExplainOpt = False,
    out: Outputs = None,
) -> None:
    """FLOPs of one token decoded with N tokens in context, of the prefill, and of training.

    linear = 2 x the matmul weights a token uses (MoE: top-k and shared experts and the router;
    the head counts; embedding lookups are free); attention = 4 x heads x head_dim x keys seen,
    per layer, a sliding layer seeing min(N, W). Prefill sums over positions under the causal
    mask, for --batch prompts. Default context: min(4k, the model's maximum). JSON: one object
    per (model, context, batch) with a per-component breakdown.
    """
    from llmarch_cli.analysis.flops import flops_row, flops_terms
    from llmarch_cli.analysis.memory import default_context
    from llmarch_cli.cli.options import report_notes, resolve
    from llmarch_cli.render.compute import flops_view
    from llmarch_cli.render.output import emit

    resolved = [resolve(m, change) for m in dict.fromkeys(models)]
    rows, explained = [], []
    for model in resolved:
        spec = model.spec
        contexts = context or (default_context(spec),)
        rows += [flops_row(spec, c, b) for c in contexts for b in batch]
        if explain:
            explained.append((f"{spec.id}, context {contexts[-1]:,}, batch {batch[-1]:,}",
                              flops_terms(spec, contexts[-1], batch[-1])))
    emit(flops_view(rows, explained), *out)
    report_notes(resolved)
