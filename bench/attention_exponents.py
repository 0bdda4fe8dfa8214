"""Measured time and memory exponents of the numpy attention kernels against the analytic ones.

Usage: python bench/attention_exponents.py

Runs what ``llmarch complexity --measure`` runs (``cli.measure``: full, latent, sliding, chunked
and linear attention at their default lengths, window and chunk 64, one BLAS thread), prints
one line per kernel, and last the largest distance between a measured exponent and its
analytic value (goal: within 0.2).
"""

from __future__ import annotations

from llmarch_cli.cli.measure import kernel_lengths, measured_kernels

SPAN = 64


def main() -> None:
    worst = 0.0
    for k in measured_kernels(kernel_lengths(None), SPAN):
        worst = max(worst, abs(k.time_exponent - k.analytic_time_exponent),
                    abs(k.memory_exponent - k.analytic_memory_exponent))
        print(f"{k.kernel}: time exponent {k.time_exponent:.3f} (analytic "
              f"{k.analytic_time_exponent:g}), memory exponent {k.memory_exponent:.3f} (analytic "
              f"{k.analytic_memory_exponent:g}) over {k.lengths[0]:,}..{k.lengths[-1]:,} tokens")
    print(f"{worst:.3f}")


if __name__ == "__main__":
    main()
