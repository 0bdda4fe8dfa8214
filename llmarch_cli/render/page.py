"""A ``Page``: how one result looks in every format, as a view (``render.views``) lays it out.

``data`` is the JSON document (the result models dumped, so JSON and the schema agree);
``records`` the flat rows of csv, tsv and jsonl (raw values, base units); ``sections`` the
human tables of table and md (raw values, humanised when drawn); ``pictures`` the charts a
terminal table adds; ``notes`` messages for stderr; ``explanation`` the ``--explain`` lines. A Page holds numbers the result
already has: nothing here computes. Page and Section are NamedTuples, quicker to define than
dataclasses (start-up).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple


class Section(NamedTuple):
    """One human table: ``rows`` of raw values, ``columns`` key -> header, rows in
    ``highlight`` emphasised on a terminal."""

    rows: Sequence[Mapping[str, Any]]
    columns: Mapping[str, str]
    title: str | None = None
    highlight: tuple[int, ...] = ()
    markdown_only: bool = False  # a picture's numbers, for Markdown (a terminal draws the picture)


class Page(NamedTuple):
    data: Any
    records: Sequence[Mapping[str, Any]]
    record_columns: Sequence[str] | None = None  # csv/tsv columns (default: every key, in order)
    sections: Sequence[Section] = ()
    jsonl: Sequence[Any] | None = None  # jsonl lines (default: ``records``)
    pictures: Sequence[Mapping[str, Any]] = ()  # render.charts views
    picture_title: str = ""
    pictures_first: bool = False  # pictures above the tables (their title heads the page)
    notes: Sequence[str] = ()  # messages on stderr, before the data
    explanation: Sequence[str] = ()
