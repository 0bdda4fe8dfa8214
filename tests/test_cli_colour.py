"""Colour end to end: escapes only on a terminal, never with NO_COLOR (any non-empty value) or
--no-color, never when piped, and never in the messages on stderr.

The terminal is a real pseudo-terminal (``pty``) around ``python -m llmarch_cli``.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pty = pytest.importorskip("pty")

ESC = "\x1b["
COMPARE = ["compare", "llama", "mistral", "-f", "table"]


def run(args: list[str], *, tty: bool, **env: str) -> tuple[str, str]:
    """(stdout, stderr) of llmarch; with ``tty`` both streams are one pseudo-terminal."""
    environ = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    environ.update({"TERM": "xterm-256color", "COLUMNS": "120", **env})
    command = [sys.executable, "-m", "llmarch_cli", *args]
    if not tty:
        done = subprocess.run(command, capture_output=True, text=True, env=environ, timeout=120)
        return done.stdout, done.stderr
    master, slave = pty.openpty()
    proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave,
                            env=environ)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the terminal closed: the child has exited
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.wait(timeout=120)
    text = b"".join(chunks).decode()
    return text, text


def test_a_table_on_a_terminal_is_coloured():
    out, _ = run(COMPARE, tty=True)
    assert ESC in out and "llama-2-7b" in out


@pytest.mark.parametrize("value", ["1", "0", "false", "yes"])
def test_any_non_empty_no_color_turns_every_escape_off(value):
    out, _ = run(COMPARE, tty=True, NO_COLOR=value)
    assert "llama-2-7b" in out and ESC not in out


def test_an_empty_no_color_is_ignored():
    out, _ = run(COMPARE, tty=True, NO_COLOR="")
    assert ESC in out


def test_the_no_color_flag_turns_every_escape_off():
    out, _ = run([*COMPARE, "--no-color"], tty=True)
    assert "llama-2-7b" in out and ESC not in out


def test_piped_output_has_no_escapes_even_as_a_table():
    out, err = run(COMPARE, tty=False)
    assert "llama-2-7b" in out and ESC not in out
    assert err == "llama -> llama-2-7b\nmistral -> mistral-7b-v0.1\n"


def test_messages_on_a_terminal_stderr_have_no_escapes():
    _, err = run(["params", "lama"], tty=True)
    assert "llmarch: error: unknown model 'lama'" in err and ESC not in err
