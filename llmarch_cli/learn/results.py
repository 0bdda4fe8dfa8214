"""Pydantic models of learning mode: the JSON schema of ``explain`` and ``quiz``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class TopicSummary(_Result):
    """One line of ``llmarch explain`` without a topic."""

    id: str
    title: str


class Example(_Result):
    """A figure computed live. ``command`` reproduces ``result`` (None: computed here from a
    closed form that no command prints yet); ``text`` is the figure written for the reader."""

    label: str
    result: int | float
    unit: str
    text: str
    command: str | None


class Misconception(_Result):
    """A claim readers meet (the seed article's among them) and the corrected fact.
    ``refs``: fact-check rows it corrects ("Q3.1" = question 3, first table row)."""

    claim: str
    fact: str
    refs: list[str]


class Topic(_Result):
    """One ``llmarch explain TOPIC``: prose, formula, live examples, presets using the
    feature (queried from the spec library), misconceptions corrected, commands to try."""

    id: str
    title: str
    body: str
    formula: str
    examples: list[Example]
    presets: list[str]
    misconceptions: list[Misconception]
    try_commands: list[str]


class Question(_Result):
    """One quiz question. Multiple choice: ``choices`` and the letter ``answer``; numeric:
    ``answer`` is a number, right within ``tolerance`` (relative) in ``unit``. ``fact`` and
    ``subject`` name what was asked (generator and its inputs), so the answer can be
    re-derived from the spec library."""

    topic: str
    kind: Literal["choice", "number"]
    question: str
    choices: list[str] | None
    answer: str | float | int
    answer_text: str
    tolerance: float
    unit: str
    explanation: str
    fact: str
    subject: dict[str, Any]


class GradedQuestion(Question):
    """A question with the answer given (``--answers``) and whether it was right."""

    given: str
    correct: bool
