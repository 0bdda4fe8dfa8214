"""Forward-pass time of a llama-shaped model: llmarch's numpy forward vs transformers on CPU.

Usage: python bench/forward_speed.py numpy|torch [--threads N] [--runs N]

The model: hidden 512, 8 layers, 8 heads, 2 KV heads, SwiGLU width 1408, vocab 32000, 512
tokens. Its random weights are saved once with ``save_pretrained`` under the system temp
folder (torch is needed for that step); both sides then load the same safetensors file and run
on the same number of threads (the BLAS/OpenMP thread variables are set before numpy or torch
is imported, and torch.set_num_threads on top). Prints the minimum seconds of one forward over
the runs on the last line: on a shared machine the minimum is the least disturbed by load.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

CHECKPOINT = Path(tempfile.gettempdir()) / "llmarch-bench-llama-d512"
TOKENS = 512
CONFIG = dict(hidden_size=512, num_hidden_layers=8, num_attention_heads=8, num_key_value_heads=2,
              intermediate_size=1408, vocab_size=32000, max_position_embeddings=2048,
              rms_norm_eps=1e-5)


def prepare() -> None:
    """Save the random checkpoint once (in a separate process: torch stays out of the numpy run)."""
    if (CHECKPOINT / "model.safetensors").is_file():
        return
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(**CONFIG)).save_pretrained(CHECKPOINT)


def timed(fn, runs: int) -> float:
    """Minimum seconds of one call of ``fn`` over ``runs`` calls after a warm-up."""
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def numpy_forward(runs: int) -> float:
    from llmarch_cli.forward.hf_weights import load_hf_model
    from llmarch_cli.specs.loader import resolve_model

    model = load_hf_model(resolve_model(str(CHECKPOINT)))
    tokens = [(i * 7919) % CONFIG["vocab_size"] for i in range(TOKENS)]
    return timed(lambda: model.run(tokens), runs)


def torch_forward(runs: int, threads: int) -> float:
    import torch
    from transformers import LlamaForCausalLM

    torch.set_num_threads(threads)
    model = LlamaForCausalLM.from_pretrained(CHECKPOINT, dtype=torch.float32).eval()
    ids = torch.tensor([[(i * 7919) % CONFIG["vocab_size"] for i in range(TOKENS)]])

    def run():
        with torch.inference_mode():
            model(ids)

    return timed(run, runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("side", choices=("numpy", "torch", "prepare"))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if args.side == "prepare":
        prepare()
        return 0
    if not (CHECKPOINT / "model.safetensors").is_file():
        import subprocess

        subprocess.run([sys.executable, __file__, "prepare"], check=True)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before numpy's or torch's thread pools start
    if args.side == "numpy":
        seconds = numpy_forward(args.runs)
    else:
        seconds = torch_forward(args.runs, args.threads)
    print(f"{args.side} forward, {TOKENS} tokens, {args.threads} threads: min seconds")
    print(f"{seconds:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
