"""``make bench``: whole-process timings of llmarch commands against their baselines.

Each benchmark runs a command and a baseline command side by side (alternating, so both see
the same machine load) and prints min and median wall or CPU time over N runs and the ratio
of the medians against the benchmark's goal. Optional references (timed in the same rounds, no goal)
show where the time goes, e.g. the floor that typer + pydantic set. Add a benchmark with one
``register(...)`` call.

Usage: python bench/run.py [NAME ...] [--runs N]
"""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

PYTHON = sys.executable
LLMARCH = shutil.which("llmarch", path=str(Path(PYTHON).parent)) or "llmarch"


@dataclass(frozen=True)
class Benchmark:
    name: str
    command: list[str]
    baseline: list[str] | None  # None: ``goal`` is an absolute budget in the metric's unit
    goal: float  # the ratio command / baseline (medians) to stay within, or the budget
    metric: str = "time"  # "time": wall time; "cpu": user + system time of the process;
    #                       "bytes"/"seconds"/"exponent": the number the command prints last
    references: tuple[tuple[str, list[str]], ...] = ()  # (label, command): timed, no goal
    allowance: float | None = None  # seconds: pass when median <= baseline median + allowance
    rounds: int = 1  # "seconds": alternating invocations of command and baseline (medians compared)


BENCHMARKS: dict[str, Benchmark] = {}


def register(name: str, command: list[str], baseline: list[str] | None, goal: float,
             metric: str = "time", references: dict[str, list[str]] | None = None,
             allowance: float | None = None, rounds: int = 1) -> None:
    """Add a benchmark: ``command`` timed against ``baseline``, passing when the ratio of
    the medians is at most ``goal`` (with no baseline, ``goal`` is an absolute budget). With ``metric="bytes"`` each command prints a byte count
    (e.g. a peak memory) on its last line, compared instead of the time. ``references``
    (label -> command, timed like the command) are printed with the command's ratio to each. With
    ``allowance`` (seconds) the goal is additive instead: the command's median may exceed the
    baseline's by at most that much. A ``"seconds"`` benchmark runs ``rounds`` alternating
    invocations of each side (each prints its own best of several runs)."""
    BENCHMARKS[name] = Benchmark(name, command, baseline, goal, metric,
                                 tuple((references or {}).items()), allowance, rounds)


# The floor of the stack a JSON command must use (issue 7): typer, plus one pydantic model class
# with one field, validated once.
FLOOR = [PYTHON, "-c", "import typer\nfrom pydantic import BaseModel\n"
         "class M(BaseModel):\n    x: int\nM(x=1)"]
# The same floor with the collector settings llmarch's process uses (llmarch_cli/__main__.py):
# much of llmarch's lead over FLOOR is the final collection both would otherwise pay at exit, so
# this reference shows what is left of llmarch's own start-up.
FLOOR_SAME_GC = [PYTHON, "-c", "import gc\ngc.set_threshold(100_000, 50, 1000)\n" + FLOOR[2]
                 + "\ngc.freeze()"]
PARAMS_JSON = [LLMARCH, "params", "llama-2-7b", "--format", "json"]

# Both compared in CPU time (user + system of the process): on the shared 2-core box wall time
# grows with the other processes' load, CPU time much less so.
register(  # issue 7: start-up of a JSON command within 1.15x of the floor of its stack
    "params-json-startup", PARAMS_JSON, FLOOR, goal=1.15, metric="cpu",
    references={"python -c pass": [PYTHON, "-c", "pass"], "floor, llmarch's gc settings": FLOOR_SAME_GC},
)

register(  # issue 7: every preset in one process within 2x of one model
    "params-all-tsv-vs-one", [LLMARCH, "params", "--all", "--format", "tsv"], PARAMS_JSON, goal=2.0,
    metric="cpu",
)

register(  # issue 3: fit over every preset x format x context ladder within 0.3 s (analysis)
    "fit-all-presets", [PYTHON, str(Path(__file__).with_name("fit_speed.py"))], None, goal=0.3,
    metric="seconds",
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

# issue 11: inspect a sharded checkpoint describing 100 GB (headers only, sparse shards) within
# the start-up budget of a JSON command (params --format json) plus 50 ms. Compared in CPU time:
# on the shared 2-core box wall-time differences grow with the load average.
_SPARSE = Path(tempfile.mkdtemp(prefix="llmarch-bench-")) / "sparse-100gb"
atexit.register(shutil.rmtree, _SPARSE.parent, True)
register(
    "inspect-100gb-sharded",
    [LLMARCH, "inspect", str(_SPARSE), "--format", "json"],
    [LLMARCH, "params", "llama-2-7b", "--format", "json"],
    goal=0.0, metric="cpu", allowance=0.050,
)

_DECODE_SPEED = [PYTHON, str(Path(__file__).with_name("decode_speed.py"))]
register(  # issue 10: CPU seconds per decoded token at one thread, numpy vs transformers
    # generate: >= 2x tokens/s
    "decode-numpy-vs-torch", [*_DECODE_SPEED, "numpy", "--threads", "1"],
    [*_DECODE_SPEED, "torch", "--threads", "1"], goal=0.5, metric="seconds", rounds=3,
)


_PARAMS_JSON = [LLMARCH, "params", "llama-3.1-8b", "--format", "json"]
# issue 9: the pure-Python compute commands stay near params' start-up (roofline also reads a
# GPU file and sizes memory, as `llmarch memory` does: 1.25x)
for _name, _args, _goal in (("flops-json", ["flops", "llama-3.1-8b", "mixtral", "-c", "4k,32k"], 1.15),
                            ("complexity-json", ["complexity"], 1.15),
                            ("roofline-json", ["roofline", "mixtral", "--gpu", "h100x2", "--batch", "32"],
                             1.25)):
    register(_name, [LLMARCH, *_args, "--format", "json"], _PARAMS_JSON, goal=_goal)

register(  # issue 9: measured exponents of the attention kernels within 0.2 of the analytic ones
    "attention-exponents", [PYTHON, str(Path(__file__).with_name("attention_exponents.py"))], None,
    goal=0.2, metric="exponent",
)


# Children write their .pyc files (the warm-up run compiles what changed), as an installed
# llmarch has them: with PYTHONDONTWRITEBYTECODE every edited module would be recompiled on
# every timed run.
CHILD_ENV = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "NO_COLOR": "1"}


def wall_time(command: list[str]) -> float:
    """Seconds one run of ``command`` takes, start to exit (output discarded)."""
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   env=CHILD_ENV)
    return time.perf_counter() - start


def cpu_time(command: list[str]) -> float:
    """User + system seconds one run of ``command`` takes: unlike wall time, not stretched by
    other processes sharing the cores (the command itself is single-threaded and reads cached
    files, so on an idle machine the two agree)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True,
                   env=CHILD_ENV)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def printed_bytes(command: list[str]) -> float:
    """The byte count ``command`` prints on its last stdout line (deterministic: one run)."""
    out = subprocess.run(command, capture_output=True, text=True, check=True,
                         env=CHILD_ENV).stdout
    return float(out.split()[-1])


def run_budget(bench: Benchmark) -> bool:
    """A command that prints seconds, against an absolute budget: best of three runs (an
    exponent deviation: one run, its lines shown)."""
    if bench.metric == "exponent":
        out = subprocess.run(bench.command, capture_output=True, text=True, check=True).stdout
        deviation = float(out.split()[-1])
        ok = deviation <= bench.goal
        print(f"{bench.name}:\n" + "".join(f"  {line}\n" for line in out.splitlines()[:-1])
              + f"  largest deviation {deviation:.3f} (goal {bench.goal}): {'ok' if ok else 'OVER'}")
        return ok
    seconds = min(printed_bytes(bench.command) for _ in range(3))
    ok = seconds <= bench.goal
    print(f"{bench.name}: {seconds * 1000:.1f} ms, best of 3 (budget {bench.goal * 1000:.0f} ms): "
          f"{'ok' if ok else 'OVER'}")
    return ok


def run(bench: Benchmark, runs: int) -> bool:
    if bench.baseline is None:
        return run_budget(bench)
    if bench.metric == "bytes":
        measure, runs, scale, unit = printed_bytes, 1, 2**-20, "MiB"
    elif bench.metric == "seconds":  # the command times itself and prints seconds last
        measure, runs, scale, unit = printed_bytes, bench.rounds, 1000, "ms"
    else:
        measure, scale, unit = (cpu_time if bench.metric == "cpu" else wall_time), 1000, "ms"
        for argv in (bench.command, bench.baseline, *(ref for _, ref in bench.references)):
            wall_time(argv)  # warm the file cache and .pyc files
    references = bench.references if bench.metric in ("time", "cpu") else ()
    timed = [("command", bench.command), ("baseline", bench.baseline), *references]
    times: list[list[float]] = [[] for _ in timed]
    for _ in range(runs):
        for samples, (_, argv) in zip(times, timed, strict=True):
            samples.append(measure(argv))
    medians = [statistics.median(samples) for samples in times]
    ratio = medians[0] / medians[1]
    ok = ratio <= bench.goal if bench.allowance is None else medians[0] - medians[1] <= bench.allowance
    print(f"{bench.name}: {runs} runs")
    for (label, argv), samples, median in zip(timed, times, medians, strict=True):
        shown = " ".join(Path(argv[0]).name if i == 0 else a for i, a in enumerate(argv))
        shown = shown.replace("\n", "; ")
        print(f"  {label}: min {min(samples) * scale:.1f} {unit}, median {median * scale:.1f} {unit}  ({shown})")
    if bench.allowance is None:
        print(f"  ratio {ratio:.2f}x against the baseline (goal {bench.goal}x): {'ok' if ok else 'OVER'}")
    else:
        print(f"  {(medians[0] - medians[1]) * 1000:+.1f} ms against the baseline (goal "
              f"+{bench.allowance * 1000:.0f} ms): {'ok' if ok else 'OVER'}")
    for (label, _), median in zip(references, medians[2:], strict=True):
        print(f"  ratio {medians[0] / median:.2f}x against {label} (reference, no goal)")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default all: {', '.join(BENCHMARKS)})")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    if "inspect-100gb-sharded" in (args.names or BENCHMARKS):
        from sparse_checkpoint import build

        build(_SPARSE)
    results = [run(BENCHMARKS[name], args.runs) for name in args.names or BENCHMARKS]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
