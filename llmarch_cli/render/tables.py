"""Rich tables from rows of human values, readable at any width. Only imported to print one.

``rows_table`` returns a renderable that lays itself out when printed: a grid when every
column fits at its minimum width (a number, an identifier or a word is never split across
lines), else a stacked layout, one small "field: value" block per row.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from llmarch_cli.render.formats import humanise, is_numeric

HIGHLIGHT_STYLE = "bold yellow"
# Keys whose cells name something (preset id, model id, token id): never wrapped mid-name.
IDENTIFIERS = frozenset({"id", "model", "token_id"})
_PADDING = 2  # one space either side of a cell
LONG_WORD = 16  # cells: a longer word may fold in a narrow column
NUMBER = re.compile(r"[-+]?\d[\d,]*(?:\.\d+)?(?:e[-+]?\d+)?")
QUANTITY = re.compile(rf"{NUMBER.pattern}(?: [A-Za-z]+)?")  # 256.00 MiB, 6.74 B, 1,024


class RowsTable:
    """A table of ``rows`` (one per mapping, one column per key of ``columns``) that stacks
    its rows when the grid does not fit the width it is printed at."""

    def __init__(self, rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str], *,
                 title: str | None = None, highlight: Collection[int] = ()) -> None:
        self.columns = dict(columns)
        self.cells = [[humanise(key, row.get(key)) for key in columns] for row in rows]
        self.numeric = [is_numeric([row.get(key) for row in rows]) for key in columns]
        self.solid = [n or key in IDENTIFIERS for n, key in zip(self.numeric, columns, strict=True)]
        self.title = title
        self.highlight = frozenset(highlight)

    def minimum_widths(self) -> list[int]:
        """Per column, the widest thing that must stay on one line: a whole cell for numeric
        and identifier columns and for a number with its unit ("256.00 MiB"), else every
        number in a cell and the words of cells and header (a word past ``LONG_WORD`` cells,
        a URL or a dotted path, may fold)."""
        widths = []
        for index, head in enumerate(self.columns.values()):
            texts = [row[index] for row in self.cells]
            solid = texts if self.solid[index] else [t for t in texts if QUANTITY.fullmatch(t)]
            words = [w for t in texts for w in t.split()] + head.split()
            widths.append(max([1, *(cell_len(t) for t in solid),
                               *(cell_len(w) if NUMBER.fullmatch(w.strip(",;()")) else
                                 min(cell_len(w), LONG_WORD) for w in words)]))
        return widths

    def natural_widths(self) -> list[int]:
        """Per column, the width of its widest cell or header on one line."""
        return [max(cell_len(t) for t in [head, *(row[i] for row in self.cells)])
                for i, head in enumerate(self.columns.values())]

    def widths(self, width: int) -> list[int] | None:
        """Column widths that fit ``width`` cells (borders and padding included) with no
        column below its minimum, or None when even the minimums do not fit. Space beyond
        the minimums is shared fairly: a column that lacks little gets all it lacks."""
        mins, wants = self.minimum_widths(), self.natural_widths()
        room = width - (_PADDING * len(mins) + len(mins) + 1)
        if sum(mins) > room:
            return None
        if sum(wants) <= room:
            return wants
        widths, spare = list(mins), room - sum(mins)
        lacking = sorted(range(len(mins)), key=lambda i: wants[i] - mins[i])
        for done, i in enumerate(lacking):  # narrow wants first: each gets a fair share
            extra = min(wants[i] - mins[i], spare // (len(lacking) - done))
            widths[i] += extra
            spare -= extra
        return widths

    def grid(self, widths: list[int] | None = None) -> Table:
        """The grid; ``widths`` (from ``widths()``) keep every solid cell and word whole."""
        table = Table(header_style="bold")
        for index, head in enumerate(self.columns.values()):
            table.add_column(head, justify="right" if self.numeric[index] else "left",
                             overflow="fold", width=None if widths is None else widths[index])
        for index, cells in enumerate(self.cells):
            table.add_row(*cells, style=HIGHLIGHT_STYLE if index in self.highlight else None)
        return table

    def stacked(self) -> RenderableType:
        """One two-column block per row: header, value."""
        blocks: list[RenderableType] = []
        for index, cells in enumerate(self.cells):
            block = Table(show_header=False, style=HIGHLIGHT_STYLE if index in self.highlight else None)
            block.add_column(style="bold", no_wrap=True)
            block.add_column(overflow="fold")
            for head, cell in zip(self.columns.values(), cells, strict=True):
                block.add_row(head, cell)
            blocks.append(block)
        return Group(*blocks)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.title:
            yield Text(self.title, style="bold")
        widths = self.widths(options.max_width)
        yield self.stacked() if widths is None else self.grid(widths)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        grid = self.grid()
        return Measurement.get(console, options, Group(Text(self.title), grid) if self.title else grid)


def rows_table(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str], *,
               title: str | None = None, highlight: Collection[int] = ()) -> RenderableType:
    """A ``RowsTable``: numeric columns right-aligned, rows in ``highlight`` emphasised
    (colour shows only on a terminal), ``title`` a bold line above."""
    return RowsTable(rows, columns, title=title, highlight=highlight)
