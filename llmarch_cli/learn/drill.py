"""``llmarch quiz`` on a terminal: one question at a time on stdin/stdout."""

from __future__ import annotations

import sys

from llmarch_cli.errors import ExitCode
from llmarch_cli.learn.quiz import is_correct, parse_answer
from llmarch_cli.learn.results import Question
from llmarch_cli.render import learn as view


def _show(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def drill(questions: list[Question], seed: int, lang: str) -> int:
    """Ask each question, explain after each answer, print the score; the exit code. End of
    input or Ctrl-C stops with the score so far."""
    _show(view.say("intro", lang, n=len(questions), seed=seed))
    right = done = 0
    code = ExitCode.OK
    try:
        for index, q in enumerate(questions, start=1):
            _show("\n" + view.question_text(q, index, len(questions), lang))
            while True:
                try:
                    value = parse_answer(q, input("> "))
                    break
                except ValueError:
                    _show(view.retry_text(q, lang))
            correct = is_correct(q, value)
            right, done = right + correct, done + 1
            _show(view.feedback_text(q, correct, lang))
    except (EOFError, KeyboardInterrupt) as exc:
        _show("\n" + view.say("stopped", lang, done=done, n=len(questions)))
        code = ExitCode.INTERRUPTED if isinstance(exc, KeyboardInterrupt) else ExitCode.OK
    _show("\n" + view.score_text(right, done, lang))
    return code
