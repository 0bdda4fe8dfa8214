"""render/: units, machine formats, Rich tables at a fixed width, colour rules, atomic output."""

from __future__ import annotations

import io
import json

import pytest

from llmarch_cli.render import console as console_mod
from llmarch_cli.render.formats import header, humanise, to_delimited, to_markdown
from llmarch_cli.render.output import page_text, render_table, resolve_format
from llmarch_cli.render.page import Page, Section
from llmarch_cli.render.tables import rows_table
from llmarch_cli.render.units import format_bytes, format_count, format_flops


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("n", "text"), [
    (0, "0 B"), (1023, "1023 B"), (1024, "1.00 KiB"), (524288, "512.00 KiB"),
    (13_476_831_232, "12.55 GiB"), (2**40, "1.00 TiB"), (1024**2 - 1, "1.00 MiB"),
])
def test_format_bytes_is_iec(n, text):
    assert format_bytes(n) == text


@pytest.mark.parametrize(("n", "text"), [
    (999, "999"), (1000, "1.00 K"), (124_439_808, "124.44 M"), (6_738_415_616, "6.74 B"),
    (405_853_388_800, "405.85 B"), (999_999, "1.00 M"),
])
def test_format_count_is_si(n, text):
    assert format_count(n) == text


def test_format_flops():
    assert format_flops(1_200_000_000_000) == "1.20 TFLOP"
    assert format_flops(12) == "12 FLOP"


def test_humanise_reads_the_unit_from_the_key():
    assert humanise("kv_bytes_per_token", 524288) == "512.00 KiB"
    assert humanise("total_params", 6_738_415_616) == "6.74 B"
    assert humanise("vocab_size", 32000) == "32,000"
    assert humanise("tied", False) == "no" and humanise("window", None) == "-"
    assert header("kv_bytes_per_token") == "KV bytes per token"
    assert header("non_embedding_params") == "Non-embedding params"


def test_tsv_and_csv_keep_raw_values():
    rows = [{"id": "a", "total_params": 6_738_415_616, "tied": True, "tags": ["gqa", "rope"],
             "window": None}]
    cols = {k: k for k in rows[0]}
    assert to_delimited(rows, cols, "\t") == (
        "id\ttotal_params\ttied\ttags\twindow\na\t6738415616\ttrue\tgqa,rope\t\n")
    assert to_delimited(rows, cols, ",").splitlines()[1] == 'a,6738415616,true,"gqa,rope",'


def test_markdown_table_is_human_and_right_aligns_numbers():
    md = to_markdown([{"id": "a|b", "total_params": 7_241_732_096}], {"id": "ID", "total_params": "Params"})
    assert md.splitlines() == ["| ID | Params |", "| --- | ---: |", "| a\\|b | 7.24 B |"]


def test_a_page_is_its_data_in_json_its_records_in_tsv_and_its_sections_in_tables():
    data = {"model": "x", "total_params": 1_000_000}
    page = Page(data, [data], sections=[Section([data], {"model": "Model", "total_params": "Params"})])
    assert json.loads(page_text(page, "json")) == data
    assert page_text(page, "tsv") == "model\ttotal_params\nx\t1000000\n"
    assert "1.00 M" in page_text(page, "table") and "| x | 1.00 M |" in page_text(page, "md")


def test_a_table_too_wide_for_its_width_stacks_its_rows_and_keeps_every_number_whole():
    rows = [{"model": f"m{i}", **{f"term{j}_bytes": 2**30 * j + i for j in range(9)}} for i in range(2)]
    table = rows_table(rows, {key: header(key) for key in rows[0]})
    wide = render_table(table, terminal=False)
    narrow = io.StringIO()
    console_mod.make_console(file=narrow, width=80).print(table)
    assert max(len(line) for line in narrow.getvalue().splitlines()) <= 80
    assert narrow.getvalue().count("Term8 bytes") == 2  # one block per row
    for j in range(9):
        assert f"{format_bytes(2**30 * j)}" in narrow.getvalue()
    wider = io.StringIO()
    console_mod.make_console(file=wider, width=200).print(table)
    assert wider.getvalue().count("Term8 bytes") == 1 and wide


def test_rich_table_at_a_fixed_width_without_colour():
    table = rows_table([{"id": "gpt2", "total_params": 124_439_808}],
                       {"id": "ID", "total_params": "Params"}, title="Models")
    text = render_table(table, terminal=False)
    assert text.splitlines()[0] == "Models"
    assert "124.44 M" in text and "\x1b[" not in text


def test_highlighted_rows_are_coloured_on_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    console_mod.disable_colour(False)
    stream = FakeTTY()
    con = console_mod.make_console(file=stream, width=60)
    con.print(rows_table([{"a": "same"}, {"a": "differs"}], {"a": "A"}, highlight=[1]))
    lines = stream.getvalue().splitlines()
    assert "\x1b[" in next(line for line in lines if "differs" in line)
    assert "\x1b[" not in next(line for line in lines if "same" in line)


@pytest.mark.parametrize("setting", ["NO_COLOR", "flag", "TERM=dumb"])
def test_colour_is_off_for_no_color_the_flag_and_dumb_terminals(monkeypatch, setting):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    console_mod.disable_colour(False)
    if setting == "NO_COLOR":
        monkeypatch.setenv("NO_COLOR", "1")
    elif setting == "flag":
        console_mod.disable_colour()
    else:
        monkeypatch.setenv("TERM", "dumb")
    try:
        assert not console_mod.colour_allowed(FakeTTY())
    finally:
        console_mod.disable_colour(False)


def test_colour_only_on_a_terminal(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert console_mod.colour_allowed(FakeTTY())
    assert not console_mod.colour_allowed(io.StringIO())


def test_auto_is_tsv_when_piped_and_follows_the_output_suffix(tmp_path):
    assert resolve_format("auto") == "tsv"  # pytest captures stdout: not a terminal
    assert resolve_format("auto", tmp_path / "x.csv") == "csv"
    assert resolve_format("auto", tmp_path / "x.txt") == "tsv"
    assert resolve_format("md") == "md"


def test_identifier_columns_never_fold_in_a_narrow_table():
    rows = [{"model": "mixtral-8x7b", **{f"term{i}_bytes": 2**30 * i for i in range(8)}}]
    table = rows_table(rows, {key: header(key) for key in rows[0]})
    buffer = io.StringIO()
    console_mod.make_console(file=buffer, width=80).print(table)
    assert "mixtral-8x7b" in buffer.getvalue()


def test_a_long_title_is_one_line_above_a_narrow_table():
    title = "llama-2-7b: inference, bf16, context 4,096, batch 1, per GPU of 1 (IEC units)"
    table = rows_table([{"term": "weights", "memory_bytes": 13_476_831_232}],
                       {"term": "Term", "memory_bytes": "Memory (IEC)"}, title=title)
    lines = render_table(table, terminal=False).splitlines()
    assert lines[0] == title and "12.55 GiB" in lines[4]
