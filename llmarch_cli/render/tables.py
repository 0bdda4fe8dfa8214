"""Rich tables from rows of human values, readable at any width. Only imported to print one.

``rows_table`` returns a renderable that lays itself out when printed: a grid when every
column fits at its minimum width (a number, an identifier or a word is never split across
lines), else a stacked layout, one small "field: value" block per row.
"""

from __future__ import annotations

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
        """Per column, the widest thing that must not break: a whole cell for numbers and
        identifiers, else the longest word of a cell or of the header."""
        widths = []
        for index, head in enumerate(self.columns.values()):
            texts = [row[index] for row in self.cells]
            words = texts if self.solid[index] else [w for t in texts for w in t.split()]
            words += head.split()
            widths.append(max((cell_len(w) for w in words), default=1))
        return widths

    def natural_widths(self) -> list[int]:
        """Per column, the width of its widest cell or header on one line."""
        return [max(cell_len(t) for t in [head, *(row[i] for row in self.cells)])
                for i, head in enumerate(self.columns.values())]

    def widths(self, width: int) -> list[int] | None:
        """Column widths that fit ``width`` cells (borders and padding included) with no
        column below its minimum, or None when even the minimums do not fit. Space beyond
        the minimums goes to the columns that want it, in proportion to what they lack."""
        mins, wants = self.minimum_widths(), self.natural_widths()
        room = width - (_PADDING * len(mins) + len(mins) + 1)
        if sum(mins) > room:
            return None
        if sum(wants) <= room:
            return wants
        spare, lack = room - sum(mins), [w - m for w, m in zip(wants, mins, strict=True)]
        extra = [spare * gap // sum(lack) for gap in lack]
        return [m + e for m, e in zip(mins, extra, strict=True)]

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
        return Measurement.get(console, options, self.grid())


def rows_table(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str], *,
               title: str | None = None, highlight: Collection[int] = ()) -> RenderableType:
    """A ``RowsTable``: numeric columns right-aligned, rows in ``highlight`` emphasised
    (colour shows only on a terminal), ``title`` a bold line above."""
    return RowsTable(rows, columns, title=title, highlight=highlight)
