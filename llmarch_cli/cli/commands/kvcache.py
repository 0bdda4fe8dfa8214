"""``llmarch kvcache [MODEL]...``: exact KV cache per token and per context, with what-ifs."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from llmarch_cli.cli.options import (
    BatchOpt,
    ContextOpt,
    EncoderLengthOpt,
    EngineOpt,
    ExplainOpt,
    KvDtypeOpt,
    Outputs,
    Selected,
    WhatIfs,
    parse_kv_dtype,
    shared,
)

EXAMPLES = (  # shown under --help
    "llmarch kvcache --gqa 8",
    "llmarch kvcache mistral -c 32k,128k --batch 8",
    "llmarch kvcache llama-3-8b --kv-dtype fp8 --explain",
    "llmarch kvcache llama-2-7b mistral-7b-v0.1 -c 32k --json | jq '.[].total_bytes'",
)
RESULT = ("llmarch_cli.analysis.results", "KvCacheRow", "list")  # `llmarch schema kvcache`

DEFAULT_MODEL = "llama-2-7b"


@shared
def kvcache(
    picked: Selected, context: ContextOpt = None, batch: BatchOpt = "1",
    kv_dtype: KvDtypeOpt = "fp16",
    dtype_alias: Annotated[Any, typer.Option(
        "--dtype", hidden=True, parser=parse_kv_dtype, help="Old name of --kv-dtype.")] = None,
    change: WhatIfs = None, engine: EngineOpt = "minimal", encoder_length: EncoderLengthOpt = None,
    explain: ExplainOpt = False, out: Outputs = None,
) -> None:
    """KV cache of each MODEL (default llama-2-7b) per token and per context, exactly.

    bytes_per_token = 2 x sum over layers of kv_heads x head_dim x bytes per value; a
    sliding-window layer holds min(context, W) tokens. One row per model, context and batch.
    With --gqa/--mqa/--mha/--window/--set the unmodified model is shown as the baseline, with
    the saving ratio. Encoder-only models keep no KV cache (exit 2). Tables use IEC units
    (GiB); JSON is in bytes.
    """
    from llmarch_cli.analysis.kvcache import context_ladder, kv_rows, kv_terms
    from llmarch_cli.cli.options import report_notes, select_models
    from llmarch_cli.render.output import emit, note
    from llmarch_cli.render.views import kvcache_view

    kvd = dtype_alias or kv_dtype
    resolved = select_models(*picked, change, default=DEFAULT_MODEL)
    named = set(picked.models or ())
    skipped = [m.spec.id for m in resolved if m.spec.architecture == "encoder" and m.ref not in named]
    if len(skipped) == len(resolved):
        from llmarch_cli.errors import LlmarchError

        raise LlmarchError("none of the models selected keeps a KV cache (all are encoder-only)")
    if skipped:  # selected by --all/--family/--feature: encoder-only presets keep no cache
        note(f"note: encoder-only models keep no KV cache, left out: {', '.join(skipped)}")
    rows, explained = [], []
    for model in resolved:
        spec = model.spec
        if spec.id in skipped:
            continue
        contexts = context or context_ladder(spec.max_context)
        mine = kv_rows(spec, contexts, batch, kvd, engine, encoder_length=encoder_length,
                       baseline=model.baseline if model.changed else None)
        rows += mine
        if max(contexts) > spec.max_context:
            note(f"note: context {max(contexts):,} exceeds the {spec.max_context:,} tokens {spec.id} "
                 "was trained for; the cache is computed anyway")
        if explain:  # the largest row of each model
            top = max(mine, key=lambda r: (r.context, r.batch))
            explained.append((top, kv_terms(spec, top.context, top.batch, kvd, engine, encoder_length)))
    emit(kvcache_view(rows, explained), *out)
    report_notes(resolved)
