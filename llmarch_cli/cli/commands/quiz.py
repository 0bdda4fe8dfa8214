"""``llmarch quiz``: a one-question-one-answer drill generated from the spec library."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from llmarch_cli.cli.options import Format, LangOpt, Outputs, shared

EXAMPLES = (  # shown under --help
    "llmarch quiz",
    "llmarch quiz --count 10 --topic gqa --lang ja",
    "llmarch quiz --seed 7 --format json",
    "llmarch quiz --seed 7 --count 3 --topic positions --answers a,b,c",
)
RESULT = ("llmarch_cli.learn.results", "Question", "list")  # `llmarch schema quiz`
DEFAULT_COUNT = 5


@shared
def quiz(
    count: Annotated[int, typer.Option("--count", "-n", metavar="N",
                                       help="Questions to ask.")] = DEFAULT_COUNT,
    seed: Annotated[int | None, typer.Option(
        "--seed", metavar="S", show_default=False,
        help="Random seed: the same seed gives the same quiz (default: a new one, printed).")] = None,
    topic: Annotated[str | None, typer.Option(
        "--topic", "-t", metavar="TOPIC", show_default=False,
        help="Only questions about this explain topic (gqa, positions, moe, ...).")] = None,
    lang: LangOpt = None,
    answers: Annotated[str | None, typer.Option(
        "--answers", metavar="A,B,...", show_default=False,
        help="Grade these answers without asking: one per question, comma-separated "
             "(a letter for a choice, a number otherwise).")] = None,
    out: Outputs = None,
) -> None:
    """A quiz generated now from the spec library and the analyses: multiple choice and
    numeric questions (KV heads, KV cache sizes, positional encodings, parameter counts, ...),
    the explanation after each answer, the score at the end.

    On a terminal (or with -f table) it asks one question at a time; Ctrl-D or Ctrl-C ends it
    with the score so far. -f json prints the questions (question, choices, answer,
    explanation, topic, ...) for flashcards and scripts; --answers grades without asking.
    Numeric answers count when within the stated tolerance (2 %) or exact for counts.
    """
    import random

    from llmarch_cli.errors import LlmarchError
    from llmarch_cli.learn.drill import drill
    from llmarch_cli.learn.lang import resolve_lang
    from llmarch_cli.learn.quiz import grade_all, make_quiz
    from llmarch_cli.learn.topics import resolve_topic
    from llmarch_cli.render import learn as view
    from llmarch_cli.render.output import emit, note, resolve_format, write_text

    fmt, output = out
    language = resolve_lang(lang)
    topic_id = resolve_topic(topic) if topic is not None else None
    drawn = seed is None
    if seed is None:
        seed = random.SystemRandom().randrange(1_000_000)
    elif seed < 0:
        raise LlmarchError(f"--seed must be 0 or more, got {seed}")
    questions = make_quiz(count, seed, topic_id, language)
    graded = grade_all(questions, answers) if answers is not None else None
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    concrete = "table" if fmt == Format.auto and output is None and interactive else resolve_format(fmt, output)
    if concrete == "table" and graded is None and output is None:
        raise typer.Exit(drill(questions, seed, language))  # its first line names the seed
    if drawn:
        note(f"seed {seed} (--seed {seed} gives this quiz again)")
    shown = graded if graded is not None else questions
    if concrete != "table":
        emit(view.quiz_view(shown, language), concrete, output)
    else:  # a graded report, or the questions as text for a file
        write_text(view.quiz_text(shown, language), output)
        return
    if graded is not None:  # machine formats: the score beside the data, on stderr
        note(view.score_text(sum(q.correct for q in graded), len(graded), language))
