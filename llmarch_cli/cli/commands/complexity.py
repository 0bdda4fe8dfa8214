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
ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
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
    if measure:
        _measure(spec, lengths, width or MEASURE_SPAN, plot, out)
    else:
        width = width or default_window(spec)
        rows = complexity_rows(spec, lengths or LENGTHS, width)
        if plot:
            show_plot(rows, (), *out)
        terms = complexity_terms(spec, rows[-1].seq_len, width) if explain else ()
        emit(complexity_view(rows, terms), *out)
    report_notes([resolved])


def _measure(spec, lengths, span, plot, out) -> None:
    """Run the kernels (numpy, imported here only) and emit their fitted exponents."""
    import os
    import sys

    from llmarch_cli.errors import LlmarchError

    if lengths and len(set(lengths)) < 2:  # checked before numpy is imported
        raise LlmarchError("--measure needs at least two different --seq lengths to fit an exponent")
    if "numpy" not in sys.modules:  # one BLAS thread, so CPU seconds measure the kernel alone
        os.environ.update(ONE_BLAS_THREAD)
    from llmarch_cli.analysis.complexity import complexity_rows, measured_kernel
    from llmarch_cli.kernels.scaling import DEFAULT_LENGTHS, KERNELS, measure
    from llmarch_cli.render.compute import measured_view
    from llmarch_cli.render.output import emit, note
    from llmarch_cli.render.plots import show_plot

    per_kernel = {k: sorted(set(lengths)) if lengths else list(DEFAULT_LENGTHS[k]) for k in KERNELS}
    rows = complexity_rows(spec, sorted({n for ns in per_kernel.values() for n in ns}), span)
    results = []  # complexity_rows above also rejects a span not below every length
    for kernel, ns in per_kernel.items():
        note(f"measuring {kernel} attention at {', '.join(f'{n:,}' for n in ns)} tokens ...")
        results.append(measured_kernel(kernel, ns, *measure(kernel, ns, span)))
    if plot:
        show_plot(rows, results, *out)
    emit(measured_view(results), *out)
