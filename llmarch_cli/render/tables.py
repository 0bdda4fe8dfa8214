"""Rich tables from rows of human values. Only imported when a table is printed."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from llmarch_cli.render.formats import humanise, is_numeric

HIGHLIGHT_STYLE = "bold yellow"
# Keys whose cells name something (preset id, model id, token id): never wrapped mid-name.
IDENTIFIERS = frozenset({"id", "model", "token_id"})


def rows_table(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str], *,
               title: str | None = None, highlight: Collection[int] = ()) -> RenderableType:
    """One row per mapping, one column per key of ``columns`` (key -> header).

    Numeric columns are right-aligned; identifier columns (``IDENTIFIERS``) and header words
    never fold mid-word; rows whose index is in ``highlight`` are emphasised (colour shows
    only on a terminal). A title is a bold line above the table, so a long title wraps at
    the terminal's width rather than the table's.
    """
    table = Table(header_style="bold")
    for key, head in columns.items():
        numeric = is_numeric([row.get(key) for row in rows])
        identifier = key in IDENTIFIERS
        table.add_column(head, justify="right" if numeric else "left", overflow="fold",
                         no_wrap=identifier)
    for index, row in enumerate(rows):
        style = HIGHLIGHT_STYLE if index in highlight else None
        table.add_row(*(humanise(key, row.get(key)) for key in columns), style=style)
    return Group(Text(title, style="bold"), table) if title else table
