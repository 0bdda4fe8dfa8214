"""The CLI helpers every test module uses (``from conftest import run, ...``).

``run`` invokes llmarch in-process through Typer's CliRunner (stdout and stderr kept apart);
``run_json`` parses its JSON; ``assert_one_line_error`` checks the bad-input contract: exit 2
and one ``llmarch: error:`` line on stderr, optionally followed by one ``hint:`` line.
"""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from llmarch_cli.cli.app import app

WIDE = {"COLUMNS": "200"}  # help and tables as wide as they want


def run(*args: str, stdin: str | bytes | None = None, env: dict[str, str] | None = None) -> Result:
    """``llmarch ARGS...`` in-process, with ``stdin`` as its input."""
    return CliRunner().invoke(app, list(args), input=stdin, env=env)


def run_ok(*args: str, **kwargs: Any) -> Result:
    """``run``, asserting exit 0."""
    result = run(*args, **kwargs)
    assert result.exit_code == 0, result.output
    return result


def run_json(*args: str, **kwargs: Any) -> Any:
    """The parsed stdout of ``llmarch ARGS... --format json`` (asserting exit 0)."""
    return json.loads(run_ok(*args, "--format", "json", **kwargs).stdout)


def assert_one_line_error(result: Result, contains: str = "") -> None:
    """Exit 2, one ``llmarch: error:`` line (plus an optional ``hint:``) holding ``contains``."""
    assert result.exit_code == 2, (result.exit_code, result.output)
    lines = result.stderr.splitlines()
    assert lines and lines[0].startswith("llmarch: error: "), result.stderr
    assert len(lines) == 1 or (len(lines) == 2 and lines[1].startswith("hint: ")), result.stderr
    assert "Traceback" not in result.output
    assert contains.lower() in result.stderr.lower(), (contains, result.stderr)
