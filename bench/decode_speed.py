"""Decode speed: llmarch's numpy decoding through its KV cache vs transformers' generate on CPU.

Usage: python bench/decode_speed.py numpy|torch [--threads N] [--runs N]

The model is forward_speed.py's (hidden 512, 8 layers, 8 heads, 2 KV heads, vocab 32000; the
same safetensors file for both sides). A 512-token prompt, 128 new tokens, greedy: transformers
runs ``generate`` with eager attention and its own dynamic cache. Decode time per token is
(time for 128 new tokens - time for 1 new token) / 127, so the prefill cancels out on both
sides. Prints the minimum seconds per decoded token over the runs on the last line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from forward_speed import CHECKPOINT, CONFIG

PROMPT = 512
NEW = 128


def prompt() -> list[int]:
    return [(i * 7919) % CONFIG["vocab_size"] for i in range(PROMPT)]


def per_token(generate, runs: int) -> float:
    """Minimum over runs of (seconds for NEW tokens - seconds for 1) / (NEW - 1)."""
    generate(2)  # warm-up
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        generate(1)
        t1 = time.perf_counter()
        generate(NEW)
        t2 = time.perf_counter()
        best = min(best, ((t2 - t1) - (t1 - t0)) / (NEW - 1))
    return best


def numpy_decode(runs: int) -> float:
    from llmarch_cli.forward.decoding import generate
    from llmarch_cli.forward.hf_weights import load_hf_model
    from llmarch_cli.specs.loader import resolve_model

    model = load_hf_model(resolve_model(str(CHECKPOINT)))
    ids = prompt()
    return per_token(lambda n: generate(model, ids, n), runs)


def torch_decode(runs: int, threads: int) -> float:
    import torch
    from transformers import GenerationConfig, LlamaForCausalLM

    torch.set_num_threads(threads)
    model = LlamaForCausalLM.from_pretrained(CHECKPOINT, dtype=torch.float32,
                                             attn_implementation="eager").eval()
    ids = torch.tensor([prompt()])
    mask = torch.ones_like(ids)

    def run(n: int) -> None:
        config = GenerationConfig(max_new_tokens=n, min_new_tokens=n, do_sample=False,
                                  num_beams=1, eos_token_id=None, pad_token_id=0)
        with torch.inference_mode():
            model.generate(ids, attention_mask=mask, generation_config=config)

    return per_token(run, runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("side", choices=("numpy", "torch"))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (CHECKPOINT / "model.safetensors").is_file():
        import subprocess

        subprocess.run([sys.executable, os.path.join(os.path.dirname(__file__), "forward_speed.py"),
                        "prepare"], check=True)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)  # before numpy's or torch's thread pools start
    seconds = numpy_decode(args.runs) if args.side == "numpy" else torch_decode(args.runs, args.threads)
    print(f"{args.side} decode, {PROMPT}-token prompt, {NEW} new tokens, {args.threads} threads: "
          f"min seconds per decoded token ({1 / seconds:.1f} tokens/s)")
    print(f"{seconds:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
