"""``llmarch forward MODEL|DIR --tokens 1,2,3``: run a forward pass and show what happens inside."""

from __future__ import annotations

from contextlib import contextmanager
from enum import Enum
from typing import Annotated

import typer

from llmarch_cli.cli.options import Format, FormatOpt, ModelArg, NoColorOpt, OutputOpt

EXAMPLES = (  # shown under --help
    "llmarch forward gpt2 --tokens 1,2,3",
    "llmarch forward mistral -t 5,6,7,8 --show attention --layer 0 --head 1",
    "llmarch forward ./my-checkpoint --tokens 1,2,3 --json | jq .top_next_tokens",
    "llmarch forward gpt-oss-20b --tokens 1,2,3,4,5,6 --generate 8",
    "llmarch forward llama --tokens 1,2,3 --generate 5 --temperature 0.8 --top-k 40 --seed 3",
    "llmarch forward ./my-checkpoint --text 'Once upon a time' --generate 20",
)

class Dtype(str, Enum):
    fp32 = "fp32"
    fp16 = "fp16"
    bf16 = "bf16"


class Scale(str, Enum):
    tiny = "tiny"
    full = "full"


class Show(str, Enum):
    attention = "attention"


LAYER_COLUMNS = {
    "stack": "Stack", "layer": "Layer", "window": "Window", "mean": "Mean", "std": "Std",
    "max_abs": "Max |x|", "attention_entropy_nats": "Attention entropy per head (nats)",
    "expert_load": "Expert load (tokens)", "attention_ms": "Attention (ms)", "ffn_ms": "FFN (ms)",
}
STEP_COLUMNS = {
    "step": "Step", "input_tokens": "In (tokens)", "token_id": "Token ID", "position": "Position",
    "cache_full_bytes": "Full cache", "cache_sliding_bytes": "Sliding cache",
    "cache_cross_bytes": "Cross cache", "ms": "Time (ms)",
}


def _short(value):
    """Floats to 3 significant digits (lists of them as one spaced string) for human tables."""
    if isinstance(value, float):
        return float(f"{value:.3g}")
    if isinstance(value, list):
        return " ".join(str(_short(v)) for v in value)
    return value


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
    dtype: Annotated[Dtype, typer.Option(
        case_sensitive=False, help="Precision: fp16/bf16 round every op's output to that dtype.",
    )] = Dtype.fp32,
    scale: Annotated[Scale, typer.Option(
        case_sensitive=False,
        help="Replica of a preset or spec: tiny keeps the structure at small sizes; full only "
             "when it fits in memory. Ignored for a folder with weights.")] = Scale.tiny,
    show: Annotated[Show | None, typer.Option(
        help="Draw the attention weights of --layer/--head as a heatmap.")] = None,
    layer: Annotated[int, typer.Option(min=0, help="Layer for --show (decoder stack if any).")] = 0,
    head: Annotated[int, typer.Option(min=0, help="Head for --show.")] = 0,
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

    --generate N decodes step by step and shows per token the new token, the bytes the cache
    holds per layer kind (the figure llmarch kvcache computes) and the time it took.
    """
    from llmarch_cli.errors import LlmarchError
    from llmarch_cli.forward.layout import stacks
    from llmarch_cli.forward.runner import (
        build_model,
        has_weights,
        parse_tokens,
        report,
        runtime_spec,
    )
    from llmarch_cli.render.output import on_terminal, render_text, resolve_format, write_text

    if (tokens is None) == (text is None):
        raise LlmarchError("give the prompt as --tokens IDS or as --text TEXT (one of them)")
    concrete = resolve_format(fmt, output)
    spec = runtime_spec(model, scale.value)  # --layer/--head checked before any weight is read
    if generate is not None:
        from llmarch_cli.forward.decoding import check_sampling

        check_sampling(generate, temperature, top_k)
        if spec.architecture == "encoder":
            raise LlmarchError(f"{spec.id} is encoder-only: it generates no tokens",
                               "drop --generate to see its forward pass")
    elif temperature != 0 or top_k is not None:
        raise LlmarchError("--temperature and --top-k apply to --generate")
    codec = None
    if text is not None:
        from pathlib import Path

        from llmarch_cli.forward.tokenizer import Text

        codec = Text(Path(model), spec.embeddings.vocab_size)
        ids = codec.encode(text)
    else:
        ids = parse_tokens(tokens)
    _, stack, layers = stacks(spec)[-1]
    if show is not None:
        if layer >= layers:
            raise LlmarchError(f"--layer {layer} is out of range: {spec.id} has {layers} layers")
        if head >= spec.attention.num_heads:
            raise LlmarchError(
                f"--head {head} is out of range: {spec.id} has {spec.attention.num_heads} heads"
            )
    with _weights_progress() as progress:
        net = build_model(model, ids, scale=scale.value, seed=seed, dtype=dtype.value,
                          progress=progress)
    keep = frozenset({(stack, layer)}) if show is not None else frozenset()
    gen = None
    if generate is None:
        trace = net.run(ids, keep_attention=keep)
    else:
        from llmarch_cli.forward.decoding import generate as decode
        from llmarch_cli.forward.runner import decoder_start_token

        gen = decode(net, ids, generate, temperature=temperature, top_k=top_k, seed=seed,
                     start_token=decoder_start_token(model), keep_attention=keep)
        trace = gen.prefill
    result = report(net, trace, ids, seed=None if has_weights(model) else seed)
    if gen is not None:
        from llmarch_cli.forward.runner import generation_report

        result["generation"] = generation_report(gen, codec)
    if codec is not None:
        result["text"] = text
    probs = trace.attention.get((stack, layer)) if show is not None else None
    if show is not None and probs is None:
        raise LlmarchError(f"layer {layer} ran the blocked sliding-window kernel, which keeps no weights")
    if probs is not None:
        result["attention"] = {"stack": stack, "layer": layer, "head": head,
                               "window": net.spec.attention.layer_window(layer) if stack == "dec" else None,
                               "causal": stack == "dec", "weights": probs[head].tolist()}
    if concrete == "json":
        write_text(render_text(result, "json"), output)
        return
    if concrete in ("jsonl", "csv", "tsv") and gen is not None:
        rows = _step_rows(result["generation"])
        write_text(render_text(rows, concrete, columns=list(rows[0]) if rows else None), output)
        return
    if concrete in ("jsonl", "csv", "tsv"):
        write_text(render_text(result["layers"], concrete, columns=list(LAYER_COLUMNS)), output)
        return
    write_text(_human(result, concrete, on_terminal(concrete, output)), output)


@contextmanager
def _weights_progress():
    """A callback (bytes done, total bytes) drawing a transient bar on stderr while weights
    load, or None when stderr is not a terminal."""
    import sys

    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from llmarch_cli.render.console import make_console

    columns = (TextColumn("loading weights"), BarColumn(), DownloadColumn(binary_units=True),
               TimeRemainingColumn())
    with Progress(*columns, console=make_console(stderr=True), transient=True) as bar:
        task = bar.add_task("weights", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)


def _hidden(shown: dict) -> list[list[bool]] | None:
    """Cells a causal (and windowed) mask removes: future keys and keys beyond the window."""
    if not shown["causal"]:
        return None
    window, n = shown["window"], len(shown["weights"])
    return [[j > i or (window is not None and j <= i - window) for j in range(n)] for i in range(n)]


def _step_rows(generation: dict) -> list[dict]:
    """One flat row per generated token: cache bytes per layer kind as their own columns."""
    rows = []
    for st in generation["steps"]:
        row = {k: v for k, v in st.items() if k not in ("cache_bytes", "ms")}
        row.update({f"cache_{kind}_bytes": b for kind, b in st["cache_bytes"].items()})
        rows.append({**row, "ms": st["ms"]})
    return rows


def _human(result: dict, concrete: str, terminal: bool) -> str:
    """Table or Markdown: layers, stages, top next tokens, and the heatmap when asked."""
    from llmarch_cli.render.output import render_table, render_text

    title = (f"{result['model']} · {result['dtype']} · {len(result['tokens'])} tokens"
             + (f" · seed {result['seed']}" if result["seed"] is not None else ""))
    rows = [{k: _short(v) for k, v in row.items()} for row in result["layers"]]
    text = render_text(rows, concrete, columns=LAYER_COLUMNS, title=title, terminal=terminal)
    stages = [{"stage": name, "time": _short(ms)} for name, ms in result["stages_ms"].items()]
    text += "\n" + render_text(stages, concrete, columns={"stage": "Stage", "time": "Time (ms)"},
                               title="Time per stage", terminal=terminal)
    top = [{"token_id": t["token_id"], "prob": round(t["prob"], 4)} for t in result["top_next_tokens"]]
    text += "\n" + render_text(top, concrete, columns={"token_id": "Token ID", "prob": "Probability"},
                               title="Top next tokens", terminal=terminal)
    if "generation" in result:
        text += "\n" + _generation_text(result["generation"], concrete, terminal)
    shown = result.get("attention")
    if shown is not None and concrete == "table":
        from llmarch_cli.render.charts import heatmap

        weights = shown["weights"]
        chart = heatmap(weights, title=f"Attention weights, {shown['stack']} layer {shown['layer']} "
                                       f"head {shown['head']}", rows="query", cols="key",
                        hide=_hidden(shown))
        text += "\n" + render_table(chart, terminal)
    elif shown is not None:
        cells = [{"query": i, **{f"k{j}": f"{w:.3f}" for j, w in enumerate(row)}}
                 for i, row in enumerate(shown["weights"])]
        text += "\n" + render_text(cells, concrete, title="Attention weights", terminal=terminal)
    return text


def _generation_text(generation: dict, concrete: str, terminal: bool) -> str:
    """The per-token table of --generate, and the decoded text when a tokenizer was used."""
    from llmarch_cli.render.output import render_text

    rows = [{k: _short(v) for k, v in row.items()} for row in _step_rows(generation)]
    per_token = generation["decode_ms_per_token"]
    title = (f"Generation · {len(rows)} new tokens · prefill {_short(generation['prefill_ms'])} ms"
             + (f" · {_short(per_token)} ms per decoded token" if per_token is not None else ""))
    columns = {k: v for k, v in STEP_COLUMNS.items() if not rows or k in rows[0]}
    text = render_text(rows, concrete, columns=columns, title=title, terminal=terminal)
    if generation.get("generated_text") is not None:
        text += f"\nGenerated text: {generation['generated_text']!r}\n"
    return text
