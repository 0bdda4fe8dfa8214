"""``--explain``: every memory term with its bytes, formula, inputs and assumption, as text.

The terms come computed from ``analysis`` (``MemoryTerm``); this module only lays them out.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from llmarch_cli.analysis.results import MemoryTerm
from llmarch_cli.render.output import note, resolve_format
from llmarch_cli.render.units import format_bytes


def explanation_lines(terms: Sequence[MemoryTerm]) -> list[str]:
    """Four lines at most per term: name and size, formula, inputs, assumption."""
    lines = []
    for t in terms:
        lines.append(f"{t.name}: {format_bytes(t.bytes)} ({t.bytes:,} B)")
        lines.append(f"  formula: {t.formula}")
        lines.append(f"  inputs: {t.inputs}")
        if t.assumption:
            lines.append(f"  assumption: {t.assumption}")
    return lines


def print_explanation(terms: Sequence[MemoryTerm], fmt: str, output: Path | None) -> None:
    """The explanation on stdout beside a table, on stderr beside machine formats or a file
    (so piped data stays clean)."""
    text = "\n".join(explanation_lines(terms))
    if resolve_format(fmt, output) in ("table", "md") and output is None:
        sys.stdout.write(text + "\n")
    else:
        note(text)
