"""``llmarch complexity [MODEL]``: full against sliding-window attention over growing lengths."""

from __future__ import annotations

from typing import Annotated

import typer

from llmarch_cli.cli.options import ExplainOpt, Outputs, SetOpt, complete_model, shared

RESULT = ("llmarch_cli.analysis.compute_results", "ComplexityRow", "list")  # without --measure
EXAMPLES = (  # shown under --help
    "llmarch complexity",
    "llmarch complexity llama-3.1-8b --seq 4k,32k,128k --window 4k",
    "llmarch complexity mistral --plot",
    "llmarch complexity --measure --seq 512,1k,2k",
    "llmarch complexity --json | jq '.[] | [.seq_len, .full_attention_flops]'",
)

DEFAULT_MODEL = "mistral-7b-v0.1"
MEASURE_SPAN = 64  # window and chunk of the measured kernels: far below every measured length


@shared
def complexity(
    model: Annotated[str, typer.Argument(
        metavar="[MODEL]", autocompletion=complete_model,
        help=f"Model as for every command; default {DEFAULT_MODEL}.")] = DEFAULT_MODEL,
    seq: Annotated[str | None, typer.Option(
        "--seq", "-s", metavar="N[,N...]", show_default=False,
        help="Sequence lengths (1k, 128k). Default 1k, 4k, 16k, 64k, 128k; with --measure "
             "512 to 4k for full attention, 4k to 32k for the others.")] = None,
    window: Annotated[str | None, typer.Option(
        "--window", "-w", metavar="W", show_default=False,
        help="Window of the sliding curve; default the model's, else 4,096.")] = None,
    plot: Annotated[bool, typer.Option(
        "--plot", help="Draw the curves on log-log axes (needs the plot extra: plotext).")] = False,
    measure: Annotated[bool, typer.Option(
        "--measure", help="Time the numpy full, sliding, chunked and linear attention kernels "
                          "and fit their exponents (seconds to minutes).")] = False,
    sets: SetOpt = None,
    explain: ExplainOpt = False,
    out: Outputs = None,
) -> None:
    """Attention cost of whole sequences: O(n²) full against O(nW) sliding-window attention.

    Per length: causal full- and window-attention FLOPs of every layer, FFN FLOPs, one
    layer's score matrix (naive fp16) against tiled attention's log-sum-exp, the KV cache,
    where attention overtakes the FFN and how far stacked windows reach. JSON: an array, one
    object per length. --measure instead prints, per kernel, measured seconds and peak bytes
    with their fitted exponents beside the analytic ones.
    """
    from llmarch_cli.analysis.complexity import (
        LENGTHS,
        complexity_rows,
        complexity_terms,
        default_window,
    )
    from llmarch_cli.cli.options import report_notes, resolve, what_if
    from llmarch_cli.cli.sizes import parse_count, parse_counts
    from llmarch_cli.render.compute import complexity_view
    from llmarch_cli.render.output import emit
    from llmarch_cli.render.plots import show_plot

    lengths = parse_counts(seq, "--seq") if seq else None
    width = parse_count(window, "--window") if window is not None else None
    resolved = resolve(model, what_if(sets))
    spec = resolved.spec
    measured, terms = (), ()
    if measure:
        from llmarch_cli.cli.measure import kernel_lengths, measured_kernels
        from llmarch_cli.render.compute import measured_view
        from llmarch_cli.render.output import note

        per_kernel, width = kernel_lengths(lengths), width or MEASURE_SPAN
        rows = complexity_rows(spec, sorted({n for ns in per_kernel.values() for n in ns}), width)
        measured = measured_kernels(per_kernel, width, lambda kernel, ns: note(
            f"measuring {kernel} attention at {', '.join(f'{n:,}' for n in ns)} tokens ..."))
    else:
        width = width or default_window(spec)
        rows = complexity_rows(spec, lengths or LENGTHS, width)
        terms = complexity_terms(spec, rows[-1].seq_len, width) if explain else ()
    if plot:
        show_plot(rows, measured, *out)
    emit(measured_view(measured) if measure else complexity_view(rows, terms), *out)
    report_notes([resolved])
