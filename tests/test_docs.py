"""Docs stay in sync: every command has a page and a README mention, and every example runs.

Examples are the ``$ llmarch ...`` lines of README.md and docs/commands/*.md, the ``llmarch``
lines of their ``sh`` blocks, and every command's --help EXAMPLES. Each runs in-process with
its output discarded: exit 0, or exit 2 where the docs show an ``llmarch: error:`` line next,
or exit 3 where the command's comment says ``# exit 3`` (``inspect --against`` on a mismatch).
A ``cat FILE |`` or ``echo TEXT |`` before llmarch becomes stdin; pipes after it and ``>``
redirections are dropped. Lines naming a file that is not at hand are skipped.
"""

from __future__ import annotations

import importlib
import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from llmarch_cli.cli.app import COMMANDS, _build_command, app

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs" / "commands").glob("*.md"))]
FILE_SUFFIXES = (".json", ".toml", ".safetensors", ".gguf")
HEAVY = ("--scale full",)  # a full-size forward pass: minutes and gigabytes where memory allows


def doc_examples() -> list[tuple[str, str, int]]:
    """(file name, command line, expected exit code) for every example line of the docs."""
    found = []
    for path in DOCS:
        block = None
        lines = path.read_text().splitlines()
        for index, line in enumerate(lines):
            if line.startswith("```"):
                block = line[3:].strip() if block is None else None
                continue
            command = (line[2:] if block == "console" and line.startswith("$ ")
                       else line if block == "sh" and line.startswith("llmarch ") else None)
            if command is None:
                continue
            after = lines[index + 1] if index + 1 < len(lines) else ""
            text, _, comment = command.partition("  #")
            code = 2 if after.startswith("llmarch: error:") else 3 if "exit 3" in comment else 0
            found.append((path.name, text.strip(), code))
    return found


def help_examples() -> list[tuple[str, str, int]]:
    """(command, line, 0) for every EXAMPLES line a command shows under --help."""
    found = []
    for name, (module_name, _) in COMMANDS.items():
        examples = importlib.import_module(f"llmarch_cli.cli.commands.{module_name}").EXAMPLES
        groups = examples.values() if isinstance(examples, dict) else [examples]
        found += [(name, line, 0) for lines in groups for line in lines]
    return found


def parse(line: str) -> list[list[list[str]]]:
    """The line's commands (``&&`` or ``;`` separated), each a list of pipeline stages."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars="|>&;")
    lexer.whitespace_split = True
    commands: list[list[list[str]]] = [[[]]]
    for token in lexer:
        if token in ("&&", ";"):
            commands.append([[]])
        elif token == "|":
            commands[-1].append([])
        else:
            commands[-1][-1].append(token)
    return commands


def prepare(stages: list[list[str]]) -> tuple[list[str], str | None] | None:
    """The argv after ``llmarch`` and the stdin text of one pipeline, or None when it can't
    run here (no llmarch in it, another program feeding it, a file that is not here)."""
    start = next((i for i, stage in enumerate(stages) if stage and stage[0] == "llmarch"), None)
    if start is None:
        return None
    stdin = None
    if start:
        feeder = stages[start - 1]
        if feeder[0] == "cat" and Path(feeder[1]).is_file():
            stdin = Path(feeder[1]).read_text()
        elif feeder[0] == "echo":
            stdin = " ".join(feeder[1:]) + "\n"
        else:
            return None
    argv = stages[start][1:]
    if ">" in argv:
        argv = argv[: argv.index(">")]
    for previous, arg in zip(["", *argv[:-1]], argv, strict=True):
        local = arg.startswith(("./", "/")) or arg.endswith(FILE_SUFFIXES)
        if local and previous not in ("-o", "--output") and not Path(arg).exists():
            return None
    return argv, stdin


@pytest.fixture(scope="module")
def shared_dir(tmp_path_factory):
    """One directory for all examples, so a file one example writes is there for the next;
    it starts with the files the examples name: config.json, my-arch.toml and the inspect
    checkpoints (tiny-llama, tiny-llama-q4_k_m.gguf, broken.gguf)."""
    from checkpoint_files import LLAMA, llama_shapes, write_gguf, write_safetensors

    path = tmp_path_factory.mktemp("examples")
    shutil.copy(ROOT / "tests" / "data" / "tiny-gqa.json", path / "config.json")
    write_safetensors(path / "tiny-llama", llama_shapes(), LLAMA, shards=2)
    write_gguf(path / "tiny-llama-q4_k_m.gguf")
    (path / "broken.gguf").write_bytes(b"GGUX")
    spec = CliRunner().invoke(app, ["spec", "export", "llama-2-7b", "--gqa", "8"])
    assert spec.exit_code == 0, spec.output
    (path / "my-arch.toml").write_text(spec.stdout)
    return path


@pytest.fixture
def workdir(shared_dir, monkeypatch):
    monkeypatch.chdir(shared_dir)
    return shared_dir


@pytest.mark.parametrize(("where", "line", "code"), doc_examples() + help_examples(),
                         ids=lambda value: value if isinstance(value, str) else None)
def test_every_example_runs(workdir, where, line, code):
    if any(heavy in line for heavy in HEAVY):
        pytest.skip("too heavy for the plain suite")
    for stages in parse(line):
        prepared = prepare(stages)
        if prepared is None:
            pytest.skip(f"needs a program, file or input that is not here: {line}")
        argv, stdin = prepared
        result = CliRunner().invoke(app, argv, input=stdin)
    assert result.exit_code == code, f"{where}: {line}\n{result.output}"


def test_docs_have_examples_to_run():
    assert len(doc_examples()) >= 30
    assert all(len(lines) >= 2 for lines in _help_example_counts().values())


def _help_example_counts() -> dict[str, list[str]]:
    counts: dict[str, list[str]] = {}
    for name, line, _ in help_examples():
        counts.setdefault(name, []).append(line)
    return counts


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_has_a_page_an_index_link_and_a_readme_mention(command):
    assert (ROOT / "docs" / "commands" / f"{command}.md").is_file()
    assert f"(commands/{command}.md)" in (ROOT / "docs" / "index.md").read_text()
    assert re.search(rf"\bllmarch {command}\b", (ROOT / "README.md").read_text())


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_command_shows_examples_under_help(command):
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    group = _build_command(command)
    for sub in getattr(group, "commands", {}):
        sub_help = CliRunner().invoke(app, [command, sub, "--help"], env={"COLUMNS": "200"})
        assert "Examples:" in sub_help.stdout and f"llmarch {command} {sub}" in sub_help.stdout
