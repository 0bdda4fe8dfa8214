"""Log-log terminal plots of the complexity curves, drawn with plotext (an optional extra).

Draws given numbers only: the analytic curves of ``ComplexityRow`` and, when measured, each
kernel's times scaled onto the analytic curve at the first length (so slopes compare).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from llmarch_cli.analysis.compute_results import ComplexityRow, MeasuredKernel
from llmarch_cli.errors import LlmarchError

WIDTH, HEIGHT = 78, 20
TERA = 1e12
ANALYTIC = {"full": "full_attention_flops", "latent": "full_attention_flops",
            "sliding": "window_attention_flops"}


def _plotext():
    try:
        import plotext
    except ImportError:
        raise LlmarchError("--plot needs plotext: pip install 'llmarch[plot]'") from None
    return plotext


def complexity_plot(rows: Sequence[ComplexityRow], measured: Sequence[MeasuredKernel] = (),
                    colour: bool = False) -> str:
    """Full and sliding attention FLOPs (and FFN FLOPs) against tokens on log-log axes; measured
    kernels as points, their seconds scaled to the analytic curve at the first length."""
    plt = _plotext()
    plt.clf()
    plt.plotsize(WIDTH, HEIGHT)
    plt.theme("default" if colour else "clear")
    plt.xscale("log")
    plt.yscale("log")
    xs = [r.seq_len for r in rows]
    plt.plot(xs, [r.full_attention_flops / TERA for r in rows], label="full O(n²)")
    plt.plot(xs, [r.window_attention_flops / TERA for r in rows], label=f"window {rows[0].sliding_window:,} O(nW)")
    plt.plot(xs, [r.ffn_flops / TERA for r in rows], label="FFN O(n)")
    for m in measured:
        curve = ANALYTIC.get(m.kernel, "window_attention_flops")
        first = next(r for r in rows if r.seq_len == m.lengths[0])
        anchor = getattr(first, curve) / TERA / m.seconds[0]
        plt.scatter(m.lengths, [s * anchor for s in m.seconds], label=f"{m.kernel} measured (scaled)")
    plt.xticks(xs, [f"{x:,}" for x in xs])
    plt.title(f"Attention of {rows[0].model}, whole sequence, causal (TFLOP, log-log)")
    plt.xlabel("tokens")
    text = plt.build()
    return text if colour else plt.uncolorize(text)


def show_plot(rows: Sequence[ComplexityRow], measured: Sequence[MeasuredKernel], fmt: str,
              output: Path | None) -> None:
    """``complexity --plot``: the plot on stdout beside a table, on stderr beside machine
    formats or a file."""
    from llmarch_cli.render.output import note, on_terminal, resolve_format

    concrete = resolve_format(fmt, output)
    text = complexity_plot(rows, measured, colour=on_terminal(concrete, output))
    if concrete in ("table", "md") and output is None:
        import sys

        sys.stdout.write(text + "\n")
    else:
        note(text)
