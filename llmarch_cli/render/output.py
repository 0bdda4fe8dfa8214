"""``emit``: the single sink for command results, in every ``--format``, to stdout or a file.

``auto`` is a Rich table on a terminal and TSV (with a header row) otherwise. Machine formats
(json, jsonl, csv, tsv) carry raw values; human formats (table, md) humanise them. With
``output`` a regular file is replaced atomically and anything else (a FIFO, a device, a
symlink's target) is never replaced (``render.destination``).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from llmarch_cli.errors import LlmarchError
from llmarch_cli.render import formats

FORMATS = ("auto", "table", "json", "jsonl", "csv", "tsv", "md")
MACHINE_FORMATS = ("json", "jsonl", "csv", "tsv")
_SUFFIX_FORMATS = {".json": "json", ".jsonl": "jsonl", ".csv": "csv", ".tsv": "tsv", ".md": "md"}

Rows = Sequence[Mapping[str, Any]] | Sequence[BaseModel] | Mapping[str, Any] | BaseModel


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


def _plain(item: Mapping[str, Any] | BaseModel) -> dict[str, Any]:
    return item.model_dump(mode="json") if isinstance(item, BaseModel) else dict(item)


def _columns(rows: Sequence[Mapping[str, Any]],
             columns: Sequence[str] | Mapping[str, str] | None) -> dict[str, str]:
    if isinstance(columns, Mapping):
        return dict(columns)
    keys = list(columns) if columns is not None else list(dict.fromkeys(k for r in rows for k in r))
    return {key: formats.header(key) for key in keys}


def render_text(rows: Rows, fmt: str, *, columns: Sequence[str] | Mapping[str, str] | None = None,
                title: str | None = None, highlight: Collection[int] = (),
                terminal: bool = False) -> str:
    """The text ``emit`` would write, for a concrete (not ``auto``) format."""
    single = isinstance(rows, (Mapping, BaseModel))
    data = _plain(rows) if single else [_plain(r) for r in rows]
    if fmt == "json":
        return formats.to_json(data)
    listed = [data] if single else data
    if fmt == "jsonl":
        return formats.to_jsonl(listed)
    if single and fmt in ("table", "md"):  # one object: a field / value table
        listed = [{"field": formats.header(k), "value": formats.humanise(k, v)} for k, v in data.items()]
        columns, highlight = {"field": "Field", "value": "Value"}, ()
    cols = _columns(listed, columns)
    if fmt in ("csv", "tsv"):
        return formats.to_delimited(listed, cols, "," if fmt == "csv" else "\t")
    if fmt == "md":
        return formats.to_markdown(listed, cols, title)
    from llmarch_cli.render.tables import rows_table

    return render_table(rows_table(listed, cols, title=title, highlight=highlight), terminal)


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


def emit(rows: Rows, fmt: str, *, columns: Sequence[str] | Mapping[str, str] | None = None,
         title: str | None = None, output: Path | None = None,
         highlight: Collection[int] = ()) -> None:
    """Write ``rows`` (mappings or pydantic models, or one of them) in ``fmt``.

    ``columns`` picks and orders the keys (a mapping also names the headers) for the
    tabular formats; JSON always carries every key. ``highlight`` holds indices of rows to
    emphasise in a terminal table.
    """
    concrete = resolve_format(fmt, output)
    text = render_text(rows, concrete, columns=columns, title=title, highlight=highlight,
                       terminal=on_terminal(concrete, output))
    write_text(text, output)


def note(message: str) -> None:
    """A message for the user on stderr (never mixed into the data on stdout)."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
