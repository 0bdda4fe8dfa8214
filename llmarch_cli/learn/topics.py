"""``llmarch explain`` topics: prose from ``topics/<id>.toml`` plus live examples and presets.

A topic file holds, in English (``en``) and Japanese (``ja``): ``title``, ``body``,
``formula``, ``misconceptions`` (claim, fact and the fact-check rows it corrects) and ``try``
(commands to run next, the same in both languages).
"""

from __future__ import annotations

import difflib
from functools import cache
from pathlib import Path
from typing import Any

from llmarch_cli._toml import tomllib
from llmarch_cli.errors import LlmarchError
from llmarch_cli.learn.results import Misconception, Topic, TopicSummary

TOPIC_DIR = Path(__file__).parent / "topics"
# The article's 15 questions in its order, then the ideas that came after it.
TOPICS = (
    "transformer", "attention", "positions", "llama", "qwen", "mistral", "gpt-oss",
    "encoder-decoder", "ffn", "norms", "gqa", "moe", "lora", "compare", "choosing",
    "mla", "qk-norm", "local-global", "hybrid",
)


@cache
def read_topic(topic: str) -> dict[str, Any]:
    with (TOPIC_DIR / f"{topic}.toml").open("rb") as fh:
        return tomllib.load(fh)


@cache
def _aliases() -> dict[str, str]:
    return {alias: t for t in TOPICS for alias in read_topic(t).get("aliases", [])}


def resolve_topic(name: str) -> str:
    """The topic id for an id or alias; LlmarchError with the closest name otherwise."""
    key = name.strip().lower()
    if key in TOPICS:
        return key
    if key in _aliases():
        return _aliases()[key]
    close = difflib.get_close_matches(key, [*TOPICS, *_aliases()], n=1, cutoff=0.5)
    hint = f"did you mean {close[0]!r}?" if close else "'llmarch explain' lists the topics"
    raise LlmarchError(f"unknown topic {name!r} ({hint})")


def topic_list(lang: str) -> list[TopicSummary]:
    return [TopicSummary(id=t, title=read_topic(t)["title"][lang]) for t in TOPICS]


def _runnable(command: str, tags: set[str]) -> bool:
    """False for ``llmarch list --feature T`` while no preset has the tag T yet."""
    words = command.split()
    return not (words[1:3] == ["list", "--feature"] and words[3] not in tags)


def build_topic(topic: str, lang: str) -> Topic:
    """The full topic: prose in ``lang``, examples computed now, presets from the library."""
    from llmarch_cli.learn.examples import examples
    from llmarch_cli.learn.library import FEATURE_TESTS, all_specs, presets_with

    data = read_topic(topic)
    return Topic(
        id=topic,
        title=data["title"][lang],
        body=data["body"][lang].strip(),
        formula=data["formula"][lang].strip(),
        examples=examples(topic, lang),
        presets=presets_with(FEATURE_TESTS[topic]),
        misconceptions=[Misconception(claim=m["claim"][lang], fact=m["fact"][lang], refs=m["refs"])
                        for m in data.get("misconceptions", [])],
        try_commands=[c for c in data["try"] if _runnable(c, {t for s in all_specs() for t in s.features})],
    )
