"""docs/validation.md quotes only published figures that a test pins.

Every number in a "Published" column of the page must occur in the test sources (digit
separators ``,`` and ``_`` ignored), so the page cannot claim a check the suite does not make.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def published_figures() -> list[str]:
    """Numbers (separators removed) in the Published column of every table of the page."""
    found, column = [], None
    for line in (ROOT / "docs" / "validation.md").read_text().splitlines():
        if not line.startswith("|"):
            column = None
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if column is None:
            column = cells.index("Published") if "Published" in cells else -1
        elif column >= 0 and not set(cells[column]) <= set("-: "):
            found += [n.replace(",", "") for n in NUMBER.findall(cells[column])]
    return found


def test_every_published_figure_on_the_validation_page_is_pinned_by_a_test():
    figures = published_figures()
    assert len(figures) > 40
    sources = "".join(p.read_text() for p in sorted((ROOT / "tests").rglob("test_*.py"))
                      if p.name != Path(__file__).name)
    sources = re.sub(r"(?<=\d)[,_](?=\d)", "", sources)
    missing = [n for n in figures if not re.search(rf"(?<![\d.]){re.escape(n)}(?!\d)", sources)]
    assert not missing, f"not found in tests/: {missing}"
