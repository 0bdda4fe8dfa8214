"""``llmarch explain [TOPIC]``: a concept explained with figures computed now, in en or ja."""

from __future__ import annotations

from typing import Annotated

import typer

from llmarch_cli.cli.options import Format, FormatOpt, LangOpt, NoColorOpt, OutputOpt

EXAMPLES = (  # shown under --help
    "llmarch explain",
    "llmarch explain gqa",
    "llmarch explain rope --lang ja",
    "llmarch explain moe --json | jq '.examples[] | {command, result}'",
)


def complete_topic(incomplete: str) -> list[str]:
    from llmarch_cli.learn.topics import TOPICS

    return [t for t in TOPICS if t.startswith(incomplete.lower())]


def explain(
    topic: Annotated[str | None, typer.Argument(
        metavar="[TOPIC]", autocompletion=complete_topic, show_default=False,
        help="A topic id or alias (gqa, rope, swa, moe, lora, mla, ...); without it, the list.")] = None,
    lang: LangOpt = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Explain an architecture topic: what it is, its formula, live examples computed by
    llmarch (each with the command that prints it), the presets that use it, and the
    misconceptions it corrects.

    Without TOPIC: the list of topics (id and title). A topic prints as text on a terminal,
    in a pipe and in Markdown (-f md); -f json gives an object with id, title, body, formula,
    examples (label, command, result, unit, text), presets, misconceptions and try_commands;
    csv/tsv/jsonl give the examples one per row.
    """
    from llmarch_cli.learn.lang import resolve_lang
    from llmarch_cli.learn.topics import build_topic, resolve_topic, topic_list
    from llmarch_cli.render import learn as view
    from llmarch_cli.render.output import (
        emit,
        on_terminal,
        render_table,
        resolve_format,
        write_text,
    )

    language = resolve_lang(lang)
    if topic is None:
        emit(view.topic_list_view(topic_list(language), language), fmt, output)
        return
    result = build_topic(resolve_topic(topic), language)
    # auto: prose on a terminal and in a pipe alike (a topic is text, not rows)
    concrete = "table" if fmt == Format.auto and output is None else resolve_format(fmt, output)
    if concrete in ("json", "jsonl", "csv", "tsv"):
        emit(view.topic_view(result), concrete, output)
    elif concrete == "md":
        write_text(view.topic_markdown(result, language), output)
    else:
        text = render_table(view.topic_renderable(result, language), on_terminal(concrete, output))
        write_text(text, output)
