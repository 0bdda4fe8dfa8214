"""Seconds ``fit`` takes over every preset x weight format x context ladder (analysis only).

Usage: python bench/fit_speed.py

Specs are loaded first (as one ``fit`` call does once); the timed part is the fitting itself,
the figure issue 3 budgets at 0.3 s. Prints the seconds on the last line.
"""

from __future__ import annotations

import time

from llmarch_cli.analysis.fit import fit_all
from llmarch_cli.analysis.quant_formats import WEIGHT_FORMATS
from llmarch_cli.specs.loader import load_preset
from llmarch_cli.specs.registry import preset_ids

GIB = 2**30
LADDER = (2048, 8192, 32768, 131072)


def main() -> None:
    specs = [load_preset(p) for p in preset_ids()]
    start = time.perf_counter()
    for context in LADDER:
        for quant in WEIGHT_FORMATS.values():
            fit_all(specs, 24 * GIB, context=context, quants=[quant])
    print(f"{time.perf_counter() - start:.4f}")


if __name__ == "__main__":
    main()
