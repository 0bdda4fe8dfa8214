"""``llmarch kvcache [MODEL]``: exact KV cache per token and per context, with what-ifs."""

from __future__ import annotations

from typing import Annotated

import typer

from llmarch_cli.cli.options import (
    Format,
    FormatOpt,
    GqaOpt,
    NoColorOpt,
    OutputOpt,
    SetOpt,
    complete_model,
)

EXAMPLES = (  # shown under --help
    "llmarch kvcache --gqa 8",
    "llmarch kvcache mistral -c 32k,128k --batch 8",
    "llmarch kvcache llama-3-8b --dtype fp8 --explain",
    "llmarch kvcache mistral-7b-v0.1 -c 32k --json | jq '.[0].total_bytes'",
)

DEFAULT_MODEL = "llama-2-7b"
COLUMNS = {
    "model": "Model", "context": "Context", "batch": "Batch", "dtype": "Dtype",
    "kv_heads": "KV heads", "window": "Window", "bytes_per_token": "Per token (B)",
    "state_bytes": "State (IEC)", "total_bytes": "Total (IEC)", "baseline_total_bytes": "Baseline (IEC)",
    "saving_ratio": "Saving (x)",
}


def kvcache(
    model: Annotated[str, typer.Argument(
        metavar="[MODEL]", autocompletion=complete_model,
        help=f"Model as for every command; default {DEFAULT_MODEL}.")] = DEFAULT_MODEL,
    context: Annotated[str | None, typer.Option(
        "--context", "-c", metavar="N[,N...]", show_default=False,
        help="Context lengths (4k, 128k, 1M). Default: 2k, 8k, 32k, 128k and the model's maximum.")] = None,
    batch: Annotated[str, typer.Option("--batch", "-b", metavar="B", help="Sequences held at once (8, 1k).")] = "1",
    dtype: Annotated[str | None, typer.Option(
        "--dtype", show_default=False,
        help="KV dtype: fp32, fp16 (default), bf16, fp8, int8, int4 (scales counted).")] = None,
    gqa: GqaOpt = None,
    mqa: Annotated[bool, typer.Option("--mqa", help="What-if: one KV head.")] = False,
    mha: Annotated[bool, typer.Option("--mha", help="What-if: as many KV heads as query heads.")] = False,
    window: Annotated[str | None, typer.Option(
        "--window", metavar="W", show_default=False,
        help="What-if: sliding window of W tokens (4096, 4k) on every layer of a decoder-only model.")] = None,
    engine: Annotated[str, typer.Option(
        "--engine", help="minimal: sliding layers keep min(context, W); full: every layer keeps "
                         "the whole context, as engines that reserve it do.")] = "minimal",
    encoder_tokens: Annotated[str | None, typer.Option(
        "--encoder-length", metavar="N", show_default=False,
        help="Encoder-decoders: encoder tokens in the cross-attention cache, e.g. 512 or 1k "
             "(default: context).")] = None,
    sets: SetOpt = None,
    explain: Annotated[bool, typer.Option("--explain", help="Print every term with its formula.")] = False,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """KV cache of MODEL (default llama-2-7b) per token and per context, exactly.

    bytes_per_token = 2 x sum over layers of kv_heads x head_dim x bytes per value; a
    sliding-window layer holds min(context, W) tokens. With --gqa/--mqa/--mha/--window/--set
    the unmodified model is shown as the baseline, with the saving ratio. Encoder-only models
    keep no KV cache (exit 2). Tables use IEC units (GiB); JSON is in bytes.
    """
    from llmarch_cli.analysis.kvcache import (
        DEFAULT_KV_DTYPE,
        check_engine,
        context_ladder,
        kv_dtype,
        kv_rows,
        kv_terms,
        window_sets,
    )
    from llmarch_cli.cli.options import load_spec
    from llmarch_cli.cli.sizes import parse_count, parse_counts
    from llmarch_cli.errors import LlmarchError
    from llmarch_cli.render.output import emit, note

    batch_size = parse_count(batch, "--batch")
    if sum((gqa is not None, mqa, mha)) > 1:
        raise LlmarchError("choose one of --gqa, --mqa and --mha")
    encoder_length = None if encoder_tokens is None else parse_count(encoder_tokens, "--encoder-length")
    kvd = kv_dtype(dtype or DEFAULT_KV_DTYPE)
    check_engine(engine)
    contexts = parse_counts(context, "--context") if context else None
    base = load_spec(model)
    overrides = list(sets or ())
    if window is not None:
        overrides += window_sets(base, parse_count(window, "--window"))
    heads = 1 if mqa else base.attention.num_heads if mha else gqa
    spec = load_spec(model, overrides, heads) if overrides or heads is not None else base
    contexts = contexts or context_ladder(spec.max_context)
    rows = kv_rows(spec, contexts, batch_size, kvd, engine, encoder_length=encoder_length,
                   baseline=base if spec != base else None)
    if max(contexts) > spec.max_context:
        note(f"note: context {max(contexts):,} exceeds the {spec.max_context:,} tokens {spec.id} "
             "was trained for; the cache is computed anyway")
    data = [r.model_dump(mode="json", exclude_unset=True) for r in rows]
    shown = [k for k in COLUMNS if k in data[0] and (k != "state_bytes" or data[0][k])]
    emit(data, fmt, columns={k: COLUMNS[k] for k in shown},
         title=f"KV cache of {spec.id} ({kvd.name}, IEC units)", output=output)
    if explain:
        from llmarch_cli.render.explain import print_explanation

        terms = kv_terms(spec, contexts[-1], batch_size, kvd, engine, encoder_length)
        print_explanation(terms, fmt, output)
