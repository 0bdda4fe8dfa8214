"""Every ``--format`` of every data command is read back by a real parser.

json and jsonl by ``json`` (strict: no NaN or Infinity), csv and tsv by ``csv`` (a header row,
every row as wide), md as a GitHub table (a header, a rule row, every row as wide). Where the
JSON is a list of flat records, jsonl carries the same records and csv/tsv the same values.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from conftest import run_ok

COMMANDS = {
    "list": ["list", "--family", "mistral"],
    "show": ["show", "gpt2"],
    "compare": ["compare", "gpt2", "llama-2-7b"],
    "diff": ["diff", "llama-2-7b", "--gqa", "8"],
    "params": ["params", "mixtral-8x7b"],
    "kvcache": ["kvcache", "mistral-7b-v0.1", "-c", "4k,32k"],
    "memory": ["memory", "llama-2-7b", "--train", "lora"],
    "fit": ["fit", "--gpu", "rtx4090", "--licence", "open"],
    "forward": ["forward", "gpt2", "-t", "1,2,3"],
    "kernel": ["kernel", "alibi"],
}
RULE = re.compile(r"^\|(\s*:?-{3,}:?\s*\|)+$")


def strict_json(text: str):
    def refuse(name: str):
        raise ValueError(f"non-standard JSON constant {name}")

    return json.loads(text, parse_constant=refuse)


def md_cells(line: str) -> list[str]:
    """The cells of one Markdown table row (``\\|`` is an escaped bar, not a separator)."""
    assert line.startswith("|") and line.endswith("|"), line
    return [c.strip() for c in re.split(r"(?<!\\)\|", line[1:-1])]


def md_tables(text: str) -> list[list[list[str]]]:
    """Every table of a Markdown text as rows of cells (header first, rule row dropped)."""
    tables, lines = [], text.splitlines()
    for index, line in enumerate(lines):
        if RULE.match(line) and index and lines[index - 1].startswith("|"):
            rows = [md_cells(lines[index - 1])]
            for row in lines[index + 1:]:
                if not row.startswith("|"):
                    break
                rows.append(md_cells(row))
            tables.append(rows)
    return tables


def as_cell(value) -> str:
    """What a csv/tsv cell holds for a JSON value."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and not any(isinstance(v, (list, dict)) for v in value):
        return ",".join(as_cell(v) for v in value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def flat_records(data) -> list[dict] | None:
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        return data
    return None


@pytest.mark.parametrize("command", COMMANDS)
def test_json_and_jsonl_parse_and_agree(command):
    data = strict_json(run_ok(*COMMANDS[command], "-f", "json").stdout)
    lines = run_ok(*COMMANDS[command], "-f", "jsonl").stdout.splitlines()
    records = [strict_json(line) for line in lines]
    assert records and all(isinstance(r, dict) for r in records)
    if flat_records(data) is not None:
        assert records == data


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
@pytest.mark.parametrize("command", COMMANDS)
def test_csv_and_tsv_parse_as_rectangles_that_hold_the_json_values(command, fmt):
    text = run_ok(*COMMANDS[command], "-f", fmt).stdout
    rows = list(csv.reader(io.StringIO(text), delimiter="," if fmt == "csv" else "\t"))
    assert len(rows) >= 2, text
    header = rows[0]
    assert all(re.fullmatch(r"[a-z][a-z0-9_.]*", key) for key in header), header
    assert all(len(row) == len(header) for row in rows), text
    records = flat_records(strict_json(run_ok(*COMMANDS[command], "-f", "json").stdout))
    if records is not None and set(header) <= set(records[0]):
        assert len(rows) - 1 == len(records)
        for row, record in zip(rows[1:], records, strict=True):
            assert row == [as_cell(record[key]) for key in header]


@pytest.mark.parametrize("command", COMMANDS)
def test_markdown_is_tables_with_a_rule_row_and_even_rows(command):
    text = run_ok(*COMMANDS[command], "-f", "md").stdout
    tables = md_tables(text)
    assert tables, text
    for table in tables:
        assert len(table) >= 2, text
        assert all(len(row) == len(table[0]) for row in table), text
