"""Peak memory of sliding-window attention at T tokens: prints the peak in bytes.

Usage: python bench/window_memory.py T [--window W] [--heads H] [--head-dim D]

The peak is what numpy allocates during ``kernels.attention.windowed_attention`` (tracemalloc
sees numpy's buffers), q, k and v included. Memory linear in T means the 16k peak is about
twice the 8k one; a T x T score matrix would make it four times.
"""

from __future__ import annotations

import argparse
import tracemalloc

import numpy as np

from llmarch_cli.kernels.attention import windowed_attention


def peak_bytes(T: int, window: int, heads: int, head_dim: int) -> int:
    tracemalloc.start()
    rng = np.random.default_rng(0)
    q = rng.standard_normal((heads, T, head_dim), dtype=np.float32)  # [nh, T, hd]
    k = rng.standard_normal((heads, T, head_dim), dtype=np.float32)
    v = rng.standard_normal((heads, T, head_dim), dtype=np.float32)
    windowed_attention(q, k, v, window=window, scale=head_dim**-0.5)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tokens", type=int)
    parser.add_argument("--window", type=int, default=512)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--head-dim", type=int, default=64)
    args = parser.parse_args()
    print(peak_bytes(args.tokens, args.window, args.heads, args.head_dim))


if __name__ == "__main__":
    main()
