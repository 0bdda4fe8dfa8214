"""Measured time and memory exponents of the numpy attention kernels against the analytic ones.

Usage: python bench/attention_exponents.py

Runs ``kernels.scaling.measure`` for full, sliding, chunked and linear attention at their
default lengths (window and chunk 64) with one BLAS thread (set here, before numpy loads, so
CPU seconds are the kernel's own), prints one line per kernel, and last the largest distance
between a measured exponent and its analytic value (goal: within 0.2).
"""

from __future__ import annotations

import os

os.environ.update({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"})

from llmarch_cli.analysis.complexity import ANALYTIC_EXPONENTS, slope  # noqa: E402
from llmarch_cli.kernels.scaling import DEFAULT_LENGTHS, KERNELS, measure  # noqa: E402

SPAN = 64


def main() -> None:
    worst = 0.0
    for kernel in KERNELS:
        lengths = DEFAULT_LENGTHS[kernel]
        seconds, peaks = measure(kernel, lengths, SPAN)
        time_exp, memory_exp = slope(lengths, seconds), slope(lengths, peaks)
        want_time, want_memory = ANALYTIC_EXPONENTS[kernel]
        worst = max(worst, abs(time_exp - want_time), abs(memory_exp - want_memory))
        print(f"{kernel}: time exponent {time_exp:.3f} (analytic {want_time:g}), memory exponent "
              f"{memory_exp:.3f} (analytic {want_memory:g}) over {lengths[0]:,}..{lengths[-1]:,} tokens")
    print(f"{worst:.3f}")


if __name__ == "__main__":
    main()
