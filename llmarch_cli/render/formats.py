"""Rows -> text in the machine formats (json, jsonl, csv, tsv) and Markdown, without rich.

A row is a flat mapping of snake_case keys to values. Machine formats keep raw values (exact
integers in base units); human formats (Markdown here, Rich tables in ``tables``) go through
``humanise``, which reads the unit from the key's suffix: ``*_bytes`` -> IEC, ``*_params`` ->
SI count, ``*_flops`` -> FLOPs.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from llmarch_cli.render.units import format_bytes, format_count, format_flops

_ACRONYMS = {"kv": "KV", "id": "ID", "ffn": "FFN", "moe": "MoE", "hf": "HF", "qkv": "QKV",
             "rope": "RoPE", "fp16": "fp16", "lm": "LM", "mlp": "MLP", "gqa": "GQA"}
_PREFIXES = ("non",)  # 'non_embedding' -> 'Non-embedding'



def header(key: str) -> str:
    """A column header for a snake_case key: 'kv_bytes_per_token' -> 'KV bytes per token'."""
    words = [_ACRONYMS.get(w, w) for w in key.split("_")]
    for i in range(len(words) - 1, 0, -1):
        if words[i - 1] in _PREFIXES:
            words[i - 1 : i + 1] = [f"{words[i - 1]}-{words[i]}"]
    first = words[0]
    words[0] = first if first in _ACRONYMS.values() else first[:1].upper() + first[1:]
    return " ".join(words)


def humanise(key: str, value: Any) -> str:
    """The human form of one cell; the unit comes from the key's suffix."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(humanise("", v) for v in value) or "-"
    if isinstance(value, (int, float)):
        if key == "bytes" or key.endswith("_bytes") or "_bytes_per_" in key:
            return format_bytes(value)
        if key.endswith("_params"):
            return format_count(value)
        if key.endswith("_flops") or "_flops_per_" in key:
            return format_flops(value)
        if isinstance(value, int) or (value.is_integer() and abs(value) < 1e15):
            return f"{int(value):,}"
        return f"{value:g}"
    return str(value)


def is_numeric(values: Sequence[Any]) -> bool:
    """True when every non-missing value is a number (right-aligned in tables)."""
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in present
    )


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def to_jsonl(rows: Sequence[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _cell(value: Any) -> Any:
    """A CSV/TSV cell: raw numbers, lower-case booleans, comma-joined lists of scalars, JSON
    for anything nested."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)) and not any(isinstance(v, (list, tuple, dict)) for v in value):
        return ",".join(str(_cell(v)) for v in value)
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def to_delimited(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str], sep: str) -> str:
    """CSV (sep ',') or TSV (sep '\\t') with a header row of the keys."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(key)) for key in columns])
    return buffer.getvalue()


def to_markdown(rows: Sequence[Mapping[str, Any]], columns: Mapping[str, str],
                title: str | None = None, highlight: Sequence[int] = ()) -> str:
    """A GitHub Markdown table of human values; numeric columns right-aligned; the first cell
    of rows in ``highlight`` in bold (Markdown has no colour)."""

    def escape(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"**{escape(title)}**", ""] if title else []
    lines.append("| " + " | ".join(escape(h) for h in columns.values()) + " |")
    rules = ["---:" if is_numeric([r.get(k) for r in rows]) else "---" for k in columns]
    lines.append("| " + " | ".join(rules) + " |")
    for index, row in enumerate(rows):
        cells = [escape(humanise(key, row.get(key))) for key in columns]
        if index in highlight and cells:
            cells[0] = f"**{cells[0]}**"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
