"""Command-line sizes: counts with k/M suffixes (powers of two) and IEC/SI byte sizes."""

from __future__ import annotations

import pytest

from llmarch_cli.cli.sizes import parse_bytes, parse_count, parse_counts
from llmarch_cli.errors import LlmarchError


@pytest.mark.parametrize("text,value", [("4k", 4096), ("128k", 131072), ("1M", 1 << 20),
                                        ("3000", 3000), ("2K", 2048)])
def test_parse_count_uses_binary_k_and_m(text: str, value: int) -> None:
    assert parse_count(text) == value


def test_parse_counts_splits_on_commas() -> None:
    assert parse_counts("2k,8k") == [2048, 8192]


@pytest.mark.parametrize("text,value", [("24GiB", 24 << 30), ("80GB", 80 * 10**9),
                                        ("512MiB", 512 << 20), ("1.5GiB", 3 << 29), ("100", 100)])
def test_parse_bytes_reads_iec_and_si(text: str, value: int) -> None:
    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["12XB", "abc", "0", "-4k", "", "1.5"])
def test_bad_sizes_are_one_line_errors(text: str) -> None:
    with pytest.raises(LlmarchError):
        parse_count(text) if not text.endswith("XB") else parse_bytes(text)
    with pytest.raises(LlmarchError):
        parse_bytes(text if text != "1.5" else "0.5B")


@pytest.mark.parametrize("text,message", [
    ("0", "--context: size must be positive, got '0'"),
    ("-4k", "--context: size must be positive, got '-4k'"),
    ("12XB", "--context: invalid size '12XB'"),
])
def test_errors_name_the_option(text: str, message: str) -> None:
    with pytest.raises(LlmarchError, match=message):
        parse_count(text, "--context")


def test_memory_sizes_read_g_as_si() -> None:
    assert parse_bytes("24G") == 24 * 10**9 and parse_bytes("24GiB") == 24 << 30
