"""Docs stay true: every command has a page and a README mention, every example runs with the
documented exit code, and every documented output is what the example prints today.

Examples and their outputs are found by tests/doc_examples.py (see there); ``make docs``
regenerates the outputs after an intended change. Each command's --help EXAMPLES run too.
"""

from __future__ import annotations

import importlib
import re

import pytest
from conftest import WIDE, run
from doc_examples import ROOT, Example, example_folder, examples, matches, run_example

from llmarch_cli.cli.app import COMMANDS, _build_command

EXAMPLES = examples()


def help_examples() -> list[tuple[str, str]]:
    """(command, line) for every EXAMPLES line a command shows under --help."""
    found = []
    for name, (module_name, _) in COMMANDS.items():
        listed = importlib.import_module(f"llmarch_cli.cli.commands.{module_name}").EXAMPLES
        groups = listed.values() if isinstance(listed, dict) else [listed]
        found += [(name, line) for lines in groups for line in lines]
    return found


@pytest.fixture(scope="module")
def workdir():
    """One folder for all examples, so a file one example writes is there for the next."""
    with example_folder() as path:
        yield path


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda e: e.name)
def test_every_documented_example_prints_its_documented_output(workdir, example: Example):
    ran = run_example(example)
    if isinstance(ran, str):
        pytest.skip(f"{ran}: {example.command}")
    assert ran.code == example.code, f"{example.name}: {example.command}\n" + "\n".join(ran.text or [])
    if example.output and ran.text is not None:
        assert matches(example.output, ran.text), (
            f"{example.name}: `{example.command}` prints something else; run `make docs`\n"
            + "\n".join(ran.text))


@pytest.mark.parametrize(("command", "line"), help_examples(), ids=lambda v: v)
def test_every_help_example_runs(workdir, command, line):
    ran = run_example(Example(ROOT / "README.md", 0, line))
    if isinstance(ran, str):
        pytest.skip(f"{ran}: {line}")
    assert ran.code == 0, f"{command}: {line}\n" + "\n".join(ran.text or [])


def test_docs_have_examples_with_outputs():
    assert len(EXAMPLES) >= 30
    assert sum(bool(e.output) for e in EXAMPLES) >= 20
    counts: dict[str, int] = {}
    for name, _ in help_examples():
        counts[name] = counts.get(name, 0) + 1
    assert all(count >= 2 for count in counts.values())


def test_an_elided_output_matches_any_run_of_lines():
    assert matches(["a", "...", "d"], ["a", "b", "c", "d"])
    assert matches(["a", "...", "d"], ["a", "d"])
    assert not matches(["a", "...", "d"], ["a", "b", "c"])
    assert not matches(["a", "b"], ["a", "b", "c"])


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_has_a_page_an_index_link_and_a_readme_mention(command):
    assert (ROOT / "docs" / "commands" / f"{command}.md").is_file()
    assert f"(commands/{command}.md)" in (ROOT / "docs" / "index.md").read_text()
    assert re.search(rf"\bllmarch {command}\b", (ROOT / "README.md").read_text())


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_shows_examples_under_help(command):
    result = run(command, "--help", env=WIDE)
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    group = _build_command(command)
    for sub in getattr(group, "commands", {}):
        sub_help = run(command, sub, "--help", env=WIDE)
        assert "Examples:" in sub_help.stdout and f"llmarch {command} {sub}" in sub_help.stdout
