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


def _short(value):
    """Floats to 3 significant digits (lists of them as one spaced string) for human tables."""
    if isinstance(value, float):
        return float(f"{value:.3g}")
    if isinstance(value, list):
        return " ".join(str(_short(v)) for v in value)
    return value


def forward(
    model: ModelArg,
    tokens: Annotated[str, typer.Option(
        "--tokens", "-t", metavar="IDS", show_default=False,
        help="Comma-separated token ids, e.g. 1,2,3.")],
    seed: Annotated[int, typer.Option(min=0, help="Seed of a replica's random weights.")] = 0,
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

    ids = parse_tokens(tokens)
    concrete = resolve_format(fmt, output)
    spec = runtime_spec(model, scale.value)  # --layer/--head checked before any weight is read
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
    trace = net.run(ids, keep_attention={(stack, layer)} if show is not None else set())
    result = report(net, trace, ids, seed=None if has_weights(model) else seed)
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
