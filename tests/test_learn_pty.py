"""The interactive quiz driven through a pseudo-terminal, as a person would use it."""

from __future__ import annotations

import json
import os
import sys

import pytest
from typer.testing import CliRunner

from llmarch_cli.cli.app import app

pexpect = pytest.importorskip("pexpect")

SCORE = {"en": "Score: 3/3 (100%)", "ja": "スコア:3問中3問正解(100%)"}
ARGS = ["quiz", "--seed", "11", "--count", "3"]


def answers(lang: str) -> list[str]:
    result = CliRunner().invoke(app, [*ARGS, "--lang", lang, "--json"])
    return [str(q["answer"]) for q in json.loads(result.stdout)]


def spawn(lang: str):
    env = {**os.environ, "NO_COLOR": "1", "LC_ALL": "ja_JP.UTF-8" if lang == "ja" else "C.UTF-8"}
    child = pexpect.spawn(sys.executable, ["-m", "llmarch_cli", *ARGS], env=env, encoding="utf-8",
                          timeout=60, dimensions=(40, 120))
    return child


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_the_drill_runs_from_the_first_question_to_the_score(lang):
    child = spawn(lang)  # the language comes from LC_ALL: no --lang
    for index, answer in enumerate(answers(lang), start=1):
        child.expect_exact(f"Q{index}/3")
        child.expect_exact("> ")
        child.sendline(answer)
        child.expect_exact("正解です。" if lang == "ja" else "Correct.")
    child.expect_exact(SCORE[lang])
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_ctrl_c_ends_the_drill_with_the_score_so_far():
    child = spawn("en")
    child.expect_exact("> ")
    child.sendline(answers("en")[0])
    child.expect_exact("Q2/3")
    child.expect_exact("> ")
    child.sendintr()
    child.expect_exact("Stopped after 1 of 3 questions.")
    child.expect_exact("Score: 1/1 (100%)")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130


def test_end_of_input_ends_the_drill_cleanly():
    child = spawn("en")
    child.expect_exact("> ")
    child.sendeof()
    child.expect_exact("Stopped after 0 of 3 questions.")
    child.expect_exact("Score: 0/0 (0%)")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "Traceback" not in child.before
