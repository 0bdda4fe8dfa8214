"""``emit``: the single sink for command results, in every ``--format``, to stdout or a file.

``auto`` is a Rich table on a terminal and TSV (with a header row) otherwise. Machine formats
(json, jsonl, csv, tsv) carry raw values; human formats (table, md) humanise them. With
``output`` a regular file is replaced atomically and anything else (a FIFO, a device, a
symlink's target) is never replaced (``render.destination``).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

from llmarch_cli.errors import LlmarchError
from llmarch_cli.render import formats
from llmarch_cli.render.page import Page

FORMATS = ("auto", "table", "json", "jsonl", "csv", "tsv", "md")
MACHINE_FORMATS = ("json", "jsonl", "csv", "tsv")
_SUFFIX_FORMATS = {".json": "json", ".jsonl": "jsonl", ".csv": "csv", ".tsv": "tsv", ".md": "md"}

def resolve_format(fmt: str, output: Path | None = None) -> str:
    """The concrete format for ``fmt``: ``auto`` becomes table on a terminal, TSV otherwise
    (or the format named by the output file's suffix)."""
    fmt = str(getattr(fmt, "value", fmt))
    if fmt not in FORMATS:
        raise LlmarchError(f"unknown format {fmt!r}", f"choose one of {', '.join(FORMATS)}")
    if fmt != "auto":
        return fmt
    if output is not None:
        return _SUFFIX_FORMATS.get(output.suffix.lower(), "tsv")
    return "table" if sys.stdout.isatty() else "tsv"


def page_text(page: Page, fmt: str, *, terminal: bool = False) -> str:
    """The text of ``page`` in a concrete (not ``auto``) format."""
    if fmt == "json":
        return formats.to_json(page.data)
    if fmt == "jsonl":
        return formats.to_jsonl(page.records if page.jsonl is None else page.jsonl)
    if fmt in ("csv", "tsv"):
        keys = page.record_columns or list(dict.fromkeys(k for r in page.records for k in r))
        return formats.to_delimited(page.records, {k: k for k in keys}, "," if fmt == "csv" else "\t")
    if fmt == "md":
        return "\n".join(formats.to_markdown(s.rows, s.columns, s.title, s.highlight)
                         for s in page.sections)
    from rich.console import Group
    from rich.text import Text

    from llmarch_cli.render.charts import render_views
    from llmarch_cli.render.tables import rows_table

    pictures = [render_views(page.pictures, title=page.picture_title)] if page.pictures else []
    tables = [rows_table(s.rows, s.columns, highlight=s.highlight,
                         title=None if pictures and s.title == page.picture_title else s.title)
              for s in page.sections if not s.markdown_only]
    parts: list[Any] = []
    for part in (pictures + tables if page.pictures_first else tables + pictures):
        parts += [Text(""), part]
    return render_table(Group(*parts[1:]), terminal)


def on_terminal(fmt: str, output: Path | None = None) -> bool:
    """True when a table goes to stdout and stdout is a terminal (colour, terminal width)."""
    return output is None and fmt == "table" and sys.stdout.isatty()


def render_table(renderable: Any, terminal: bool) -> str:
    """A Rich renderable as text: coloured at the terminal's width on a TTY; otherwise plain,
    as wide as it needs up to the width a terminal would have (``COLUMNS``, default 80).
    Wide tables stack their rows rather than split a number (``render.tables``)."""
    from llmarch_cli.render.console import make_console

    if terminal:
        console = make_console()
        with console.capture() as capture:
            console.print(renderable)
        return capture.get()
    limit = make_console(file=io.StringIO()).width  # COLUMNS, or 80
    measure = make_console(file=io.StringIO(), width=10_000)
    width = max(40, min(measure.measure(renderable).maximum, limit))
    buffer = io.StringIO()
    make_console(file=buffer, width=width).print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def write_text(text: str, output: Path | None = None) -> None:
    """``text`` to stdout, or to ``output`` safely (``render.destination``)."""
    from llmarch_cli.render.destination import write_file, write_stdout

    if output is None:
        write_stdout(text)
    else:
        write_file(text, Path(output))


def emit(page: Page, fmt: str, output: Path | None = None) -> None:
    """Write ``page`` in ``fmt`` to stdout or ``output``; its explanation (``--explain``)
    follows a table on stdout, and goes to stderr beside machine formats or a file."""
    concrete = resolve_format(fmt, output)
    for line in page.notes:
        note(line)
    write_text(page_text(page, concrete, terminal=on_terminal(concrete, output)), output)
    if page.explanation:
        text = "\n".join(page.explanation)
        if concrete in ("table", "md") and output is None:
            write_text(text + "\n")
        else:
            note(text)


def note(message: str) -> None:
    """A message for the user on stderr (never mixed into the data on stdout)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
