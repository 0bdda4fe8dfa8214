"""Rich tables from rows of human values. Only imported when a table is printed."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from rich.table import Table

from llmarch_cli.render.formats import humanise, is_numeric

HIGHLIGHT_STYLE = "bold yellow"


def rows_table(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str], *,
               title: str | None = None, highlight: Collection[int] = ()) -> Table:
    """One row per mapping, one column per key of ``columns`` (key -> header).

    Numeric columns are right-aligned; rows whose index is in ``highlight`` are emphasised
    (colour shows only on a terminal).
    """
    table = Table(title=title, title_justify="left", header_style="bold")
    for key, head in columns.items():
        numeric = is_numeric([row.get(key) for row in rows])
        table.add_column(head, justify="right" if numeric else "left", overflow="fold")
    for index, row in enumerate(rows):
        style = HIGHLIGHT_STYLE if index in highlight else None
        table.add_row(*(humanise(key, row.get(key)) for key in columns), style=style)
    return table
