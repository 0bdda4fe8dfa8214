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
LADDER = (2048, 8192, 32768, 131072)
COLUMNS = {
    "model": "Model", "context": "Context", "batch": "Batch", "dtype": "Dtype",
    "kv_heads": "KV heads", "window": "Window", "bytes_per_token": "Per token (B)",
    "total_bytes": "Total (IEC)", "baseline_total_bytes": "Baseline (IEC)", "saving": "Saving (x)",
}


def context_ladder(max_context: int) -> list[int]:
    """2k, 8k, 32k, 128k up to the model's maximum, and the maximum itself."""
    return sorted({*(c for c in LADDER if c <= max_context), max_context})


def kvcache(
    model: Annotated[str, typer.Argument(
        metavar="[MODEL]", autocompletion=complete_model,
        help=f"Model as for every command; default {DEFAULT_MODEL}.")] = DEFAULT_MODEL,
    context: Annotated[str | None, typer.Option(
        "--context", "-c", metavar="N[,N...]", show_default=False,
        help="Context lengths (4k, 128k, 1M). Default: 2k, 8k, 32k, 128k and the model's maximum.")] = None,
    batch: Annotated[int, typer.Option("--batch", "-b", help="Sequences held at once.")] = 1,
    dtype: Annotated[str, typer.Option(
        "--dtype", help="KV dtype: fp32, fp16, bf16, fp8, int8, int4 (scales counted).")] = "fp16",
    gqa: GqaOpt = None,
    mqa: Annotated[bool, typer.Option("--mqa", help="What-if: one KV head.")] = False,
    mha: Annotated[bool, typer.Option("--mha", help="What-if: as many KV heads as query heads.")] = False,
    window: Annotated[int | None, typer.Option(
        "--window", metavar="W", show_default=False,
        help="What-if: sliding window of W tokens on every layer.")] = None,
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
    the unmodified model is shown as the baseline, with the saving ratio. Tables use IEC units
    (GiB); JSON is in bytes.
    """
    from llmarch_cli.analysis.kvcache import (
        check_positive,
        kv_bytes_per_token,
        kv_cache_bytes,
        kv_dtype,
    )
    from llmarch_cli.cli.options import load_spec
    from llmarch_cli.cli.sizes import parse_count, parse_counts
    from llmarch_cli.errors import LlmarchError
    from llmarch_cli.render.output import emit

    check_positive("batch", batch)
    if sum((gqa is not None, mqa, mha)) > 1:
        raise LlmarchError("choose one of --gqa, --mqa and --mha")
    encoder_length = None if encoder_tokens is None else parse_count(encoder_tokens)
    kvd = kv_dtype(dtype)
    base = load_spec(model)
    overrides = list(sets or ())
    if window is not None:
        check_positive("window", window)
        overrides += [f"attention.sliding_window={window}", "attention.layer_types=null"]
    heads = 1 if mqa else base.attention.num_heads if mha else gqa
    spec = load_spec(model, overrides, heads) if overrides or heads is not None else base
    changed = spec != base
    contexts = parse_counts(context) if context else context_ladder(spec.max_context)

    def row(s, ctx: int) -> dict:
        return {
            "kv_heads": s.attention.num_kv_heads,
            "window": s.attention.sliding_window,
            "bytes_per_token": kv_bytes_per_token(s, dtype=kvd),
            "total_bytes": kv_cache_bytes(s, ctx, batch, dtype=kvd, engine=engine,
                                          encoder_length=encoder_length),
        }

    rows = []
    for ctx in contexts:
        r = {"model": spec.id, "context": ctx, "batch": batch, "dtype": kvd.name, "engine": engine,
             **row(spec, ctx)}
        if changed:
            b = row(base, ctx)
            r.update({f"baseline_{k}": v for k, v in b.items()})
            r["saving"] = round(b["total_bytes"] / r["total_bytes"], 4)
        rows.append(r)
    columns = [k for k in COLUMNS if k in rows[0]]
    emit(rows, fmt, columns={k: COLUMNS[k] for k in columns},
         title=f"KV cache of {spec.id} ({kvd.name}, IEC units)", output=output)
    if explain:
        from llmarch_cli.cli.commands.memory import print_explanation

        print_explanation(kv_explanation(spec, contexts[-1], batch, kvd, engine, encoder_length), fmt, output)


def kv_explanation(spec, context: int, batch: int, kvd, engine: str, encoder_length: int | None) -> list:
    """One MemoryTerm per group of identical layer caches, for --explain."""
    from collections import Counter

    from llmarch_cli.analysis.kvcache import KvLayer, kv_layers, layer_tokens
    from llmarch_cli.analysis.results import MemoryTerm

    enc = context if encoder_length is None else encoder_length
    groups = Counter((lay.kind, lay.kv_heads, lay.head_dim, lay.window) for lay in kv_layers(spec))
    terms = []
    for (kind, heads, hd, win), n in groups.items():
        tokens = layer_tokens(KvLayer(0, kind, heads, hd, win), context, enc, engine)
        bits = 2 * heads * (hd * kvd.bits + kvd.bits_per_head_token)
        terms.append(MemoryTerm(
            name=f"{n} {kind} layer(s)", bytes=batch * n * bits * tokens // 8,
            formula="batch x layers x 2 x kv_heads x (head_dim x bits + scale bits) / 8 x tokens",
            inputs=f"batch={batch}, layers={n}, kv_heads={heads}, head_dim={hd}, bits={kvd.bits}, "
                   f"scale bits={kvd.bits_per_head_token}, "
                   f"tokens={tokens:,}" + (f" (window {win})" if win else ""),
            assumption=kvd.assumption,
        ))
    if kvd.bytes_per_layer:
        n = sum(groups.values())
        terms.append(MemoryTerm(name="per-layer scales", bytes=n * kvd.bytes_per_layer,
                                formula="layers x bytes per layer", inputs=f"layers={n}",
                                assumption=kvd.assumption))
    return terms
