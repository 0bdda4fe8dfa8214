"""``make bench``: whole-process timings of llmarch commands against their baselines.

Each benchmark runs a command and a baseline command side by side (alternating, so both see
the same machine load) and prints min and median wall time over N runs and the ratio of the
medians against the benchmark's goal. Add a benchmark with one ``register(...)`` call.

Usage: python bench/run.py [NAME ...] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

PYTHON = sys.executable
LLMARCH = shutil.which("llmarch", path=str(Path(PYTHON).parent)) or "llmarch"


@dataclass(frozen=True)
class Benchmark:
    name: str
    command: list[str]
    baseline: list[str]
    goal: float  # the ratio command / baseline (medians) to stay within
    metric: str = "time"  # "time": wall time; "bytes"/"seconds": the number the command prints last


BENCHMARKS: dict[str, Benchmark] = {}


def register(name: str, command: list[str], baseline: list[str], goal: float,
             metric: str = "time") -> None:
    """Add a benchmark: ``command`` timed against ``baseline``, passing when the ratio of
    the medians is at most ``goal``. With ``metric="bytes"`` each command prints a byte count
    (e.g. a peak memory) on its last line, compared instead of the time."""
    BENCHMARKS[name] = Benchmark(name, command, baseline, goal, metric)


register(
    "params-json",
    [LLMARCH, "params", "llama-2-7b", "--format", "json"],
    [PYTHON, "-c", "import typer, rich.table, pydantic"],
    goal=1.3,
)

register(  # issue 3: fit over every preset x format x context/batch search (budget 0.3 s in all)
    "fit-all-presets",
    [LLMARCH, "fit", "--memory", "24GiB", "--format", "json"],
    [PYTHON, "-c", "import typer, rich.table, pydantic"],
    goal=3.0,
)

_WINDOW_MEMORY = [PYTHON, str(Path(__file__).with_name("window_memory.py"))]
register(  # issue 4: sliding-window attention (W=512) in memory linear in length
    "window-memory-16k-vs-8k", [*_WINDOW_MEMORY, "16384"], [*_WINDOW_MEMORY, "8192"], goal=2.2,
    metric="bytes",
)

_FORWARD_SPEED = [PYTHON, str(Path(__file__).with_name("forward_speed.py"))]
register(  # issue 4: numpy forward of a llama-shaped model vs transformers on CPU, same threads
    "forward-numpy-vs-torch", [*_FORWARD_SPEED, "numpy"], [*_FORWARD_SPEED, "torch"], goal=1.5,
    metric="seconds",
)


def wall_time(command: list[str]) -> float:
    """Seconds one run of ``command`` takes, start to exit (output discarded)."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   env={**os.environ, "NO_COLOR": "1"})
    return time.perf_counter() - start


def printed_bytes(command: list[str]) -> float:
    """The byte count ``command`` prints on its last stdout line (deterministic: one run)."""
    out = subprocess.run(command, capture_output=True, text=True, check=True,
                         env={**os.environ, "NO_COLOR": "1"}).stdout
    return float(out.split()[-1])


def run(bench: Benchmark, runs: int) -> bool:
    if bench.metric == "bytes":
        measure, runs, scale, unit = printed_bytes, 1, 2**-20, "MiB"
    elif bench.metric == "seconds":  # the command times itself and prints seconds last
        measure, runs, scale, unit = printed_bytes, 1, 1000, "ms"
    else:
        measure, scale, unit = wall_time, 1000, "ms"
        wall_time(bench.command)  # warm the file cache and .pyc files
        wall_time(bench.baseline)
    ours, base = [], []
    for _ in range(runs):
        ours.append(measure(bench.command))
        base.append(measure(bench.baseline))
    ratio = statistics.median(ours) / statistics.median(base)
    ok = ratio <= bench.goal
    print(f"{bench.name}: {runs} runs")
    for label, times, argv in (("command", ours, bench.command), ("baseline", base, bench.baseline)):
        shown = " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv))
        print(f"  {label:<8} min {min(times) * scale:7.1f} {unit}  median {statistics.median(times) * scale:7.1f} {unit}  {shown}")
    print(f"  ratio    {ratio:.2f}x (goal {bench.goal}x): {'ok' if ok else 'OVER'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(BENCHMARKS)})")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    results = [run(BENCHMARKS[name], args.runs) for name in args.names or BENCHMARKS]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
