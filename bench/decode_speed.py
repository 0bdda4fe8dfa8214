"""Decode speed: llmarch's numpy decoding through its KV cache vs transformers' generate on CPU.

Usage: python bench/decode_speed.py numpy|torch [--threads N] [--runs N]

The model is forward_speed.py's (hidden 512, 8 layers, 8 heads, 2 KV heads, vocab 32000; the
same safetensors file for both sides). A 512-token prompt, 128 new tokens, greedy: transformers
runs ``generate`` with eager attention and its own dynamic cache. Each side takes a timestamp
as every decoding step's logits are ready (a wrapper of ``Model.step``; a logits processor in
``generate``): decode time per token is the span from the first step's to the last's over the
126 steps between, so the prefill lies outside the measure on both sides. Both sides run on ``--threads`` threads (the BLAS/OpenMP variables are set before numpy
or torch starts, and torch.set_num_threads on top). Prints the minimum wall and CPU seconds per
decoded token over the runs, the CPU figure alone on the last line: at one thread it is the
process's own work, where wall time on a shared machine stretches with the load.
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


class Ticks:
    """Wall and CPU timestamps (CPU: user + system of this process), one per decoding step,
    taken as the step's logits are ready."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __call__(self) -> None:
        self.wall.append(time.perf_counter())
        self.cpu.append(time.process_time())

    def per_token(self) -> tuple[float, float]:
        steps = len(self.wall) - 1
        return (self.wall[-1] - self.wall[0]) / steps, (self.cpu[-1] - self.cpu[0]) / steps


def per_token(generate, runs: int) -> tuple[float, float]:
    """Minimum over runs of the mean wall and CPU seconds per decoding step; ``generate(tick)``
    makes NEW tokens and calls ``tick`` as each step after the prefill has its logits."""
    generate(Ticks())  # warm-up
    spans = []
    for _ in range(runs):
        ticks = Ticks()
        generate(ticks)
        assert len(ticks.wall) == NEW - 1, len(ticks.wall)
        spans.append(ticks.per_token())
    return min(wall for wall, _ in spans), min(cpu for _, cpu in spans)


def numpy_decode(runs: int) -> tuple[float, float]:
    from llmarch_cli.forward.decoding import generate
    from llmarch_cli.forward.hf_weights import load_hf_model
    from llmarch_cli.specs.loader import resolve_model

    model = load_hf_model(resolve_model(str(CHECKPOINT)))
    ids = prompt()
    step = model.step

    def run(tick) -> None:
        def ticked(*args):
            logits = step(*args)
            tick()
            return logits

        model.step = ticked  # generate calls model.step once per token after the prefill
        generate(model, ids, NEW)

    return per_token(run, runs)


def torch_decode(runs: int, threads: int) -> tuple[float, float]:
    import torch
    from transformers import GenerationConfig, LlamaForCausalLM, LogitsProcessor

    torch.set_num_threads(threads)
    model = LlamaForCausalLM.from_pretrained(CHECKPOINT, dtype=torch.float32,
                                             attn_implementation="eager").eval()
    ids = torch.tensor([prompt()])
    mask = torch.ones_like(ids)
    config = GenerationConfig(max_new_tokens=NEW, min_new_tokens=NEW, do_sample=False,
                              num_beams=1, eos_token_id=None, pad_token_id=0)

    class Tick(LogitsProcessor):  # called with each forward's logits; skips the prefill's
        def __init__(self, tick) -> None:
            self.tick = tick

        def __call__(self, input_ids, scores):
            if input_ids.shape[1] > PROMPT:
                self.tick()
            return scores

    def run(tick) -> None:
        with torch.inference_mode():
            model.generate(ids, attention_mask=mask, generation_config=config,
                           logits_processor=[Tick(tick)])

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
    wall, cpu = numpy_decode(args.runs) if args.side == "numpy" else torch_decode(args.runs, args.threads)
    print(f"{args.side} decode, {PROMPT}-token prompt, {NEW} new tokens, {args.threads} threads: "
          f"min seconds per decoded token, wall {wall:.6f} ({1 / wall:.1f} tokens/s), "
          f"then CPU {cpu:.6f} ({1 / cpu:.1f} tokens/s)")
    print(f"{cpu:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
