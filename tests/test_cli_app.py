"""The root app: --version, help and exit codes, --json alias, error mapping, broken pipes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run as invoke

import llmarch_cli
from llmarch_cli._toml import tomllib
from llmarch_cli.cli.app import COMMANDS
from llmarch_cli.errors import LlmarchError

ROOT = Path(__file__).resolve().parents[1]


def test_version_prints_the_package_version_from_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"llmarch {project['version']}\n"
    assert llmarch_cli.__version__ == project["version"]


def test_help_documents_every_exit_code():
    result = invoke("--help", env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for text in ("0 ok", "1 internal failure", "2 bad input", "130 interrupted", "LLMARCH_DEBUG"):
        assert text in result.stdout


def test_no_arguments_prints_help_and_succeeds():
    result = invoke()
    assert result.exit_code == 0
    assert "Usage" in result.stdout


def test_json_flag_is_short_for_format_json():
    a = invoke("params", "gpt2", "--json")
    b = invoke("params", "gpt2", "--format", "json")
    assert a.exit_code == b.exit_code == 0
    assert a.stdout == b.stdout


def test_llmarch_error_is_one_line_with_hint_and_exit_2():
    result = invoke("params", "lama")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "llmarch: error: unknown model 'lama'"
    assert lines[1].startswith("hint: did you mean") and "'llama'" in lines[1]
    assert result.stdout == ""


def test_internal_failure_is_one_line_and_exit_1(monkeypatch):
    def boom(spec):
        raise RuntimeError("kaput\nsecond line")

    monkeypatch.setattr("llmarch_cli.analysis.params.count_params", boom)
    result = invoke("params", "gpt2", "--json")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == "llmarch: error: internal error: RuntimeError: kaput"
    assert "Traceback" not in result.stderr


def test_llmarch_debug_re_raises_with_the_traceback():
    result = invoke("params", "lama", env={"LLMARCH_DEBUG": "1"})
    assert isinstance(result.exception, LlmarchError)


def test_usage_error_exits_2_on_one_line():
    result = invoke("params", "gpt2", "--bogus")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith("llmarch: error: No such option")
    assert lines[1:] == ["hint: see 'llmarch params --help'"]


@pytest.mark.parametrize("command", ["list", "show", "compare", "diff", "params", "spec"])
def test_every_command_has_help(command):
    assert invoke(command, "--help").exit_code == 0


def test_interrupt_exits_130(monkeypatch):
    def interrupted(spec):
        raise KeyboardInterrupt

    monkeypatch.setattr("llmarch_cli.analysis.params.count_params", interrupted)
    assert invoke("params", "gpt2", "--json").exit_code == 130


def test_readme_quick_start_is_exactly_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    quick = readme.split("## Quick start", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert quick.splitlines() == ["pip install . && llmarch compare llama mistral", "make test"]


@pytest.mark.parametrize("command", ["list", "show", "compare", "diff", "params", "spec"])
def test_every_command_has_a_docs_page_linked_from_the_index(command):
    assert (ROOT / "docs" / "commands" / f"{command}.md").is_file()
    assert f"commands/{command}.md" in (ROOT / "docs" / "index.md").read_text()


@pytest.mark.parametrize("command", ["memory", "fit", "forward", "kvcache", "compare", "diff"])
def test_help_paragraphs_have_no_line_breaks_mid_sentence(command):
    from llmarch_cli.cli.app import _build_command

    out = invoke(command, "--help", env={"COLUMNS": "250"}).stdout
    lines = [line.strip() for line in out.splitlines()]
    paragraphs = [p for p in _build_command(command).help.split("\n\n") if len(p) < 240]
    assert paragraphs
    for paragraph in paragraphs:
        assert paragraph in lines  # one whole line at a width it fits in


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_texts_hold_no_accidental_rich_markup(command):
    from rich.text import Text

    from llmarch_cli.cli.app import _build_command

    built = _build_command(command)
    for part in [built, *getattr(built, "commands", {}).values()]:
        texts = [part.help, part.epilog, *(getattr(p, "help", None) for p in part.params)]
        for text in filter(None, texts):
            assert Text.from_markup(text).plain == text  # '[sequence]' would vanish from --help
