"""``complexity --measure`` (and ``bench/attention_exponents.py``): the numpy attention kernels
timed at growing lengths with ``kernels.scaling``, their exponents fitted by
``analysis.complexity``; the one place that joins the two."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence

from llmarch_cli.analysis.compute_results import MeasuredKernel
from llmarch_cli.errors import LlmarchError

ONE_BLAS_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def kernel_lengths(lengths: Sequence[int] | None) -> dict[str, list[int]]:
    """The lengths each kernel runs at: ``lengths`` for all, or each kernel's defaults. Sets
    one BLAS thread first when numpy is not loaded yet, so CPU seconds are the kernel's own."""
    if lengths and len(set(lengths)) < 2:  # checked before numpy is imported
        raise LlmarchError("--measure needs at least two different --seq lengths to fit an exponent")
    if "numpy" not in sys.modules:
        os.environ.update(ONE_BLAS_THREAD)
    from llmarch_cli.kernels.scaling import DEFAULT_LENGTHS, KERNELS

    return {k: sorted(set(lengths)) if lengths else list(DEFAULT_LENGTHS[k]) for k in KERNELS}


def measured_kernels(per_kernel: dict[str, list[int]], span: int,
                     starting: Callable[[str, list[int]], None] | None = None
                     ) -> list[MeasuredKernel]:
    """Each kernel timed at its lengths (``span``: window or chunk), with fitted exponents;
    ``starting(kernel, lengths)`` is called before each (a progress note)."""
    from llmarch_cli.analysis.complexity import measured_kernel
    from llmarch_cli.kernels.scaling import measure

    results = []
    for kernel, lengths in per_kernel.items():
        if starting is not None:
            starting(kernel, lengths)
        results.append(measured_kernel(kernel, lengths, *measure(kernel, lengths, span)))
    return results
