"""Views of learning mode: a topic as text (Rich on a terminal, plain when piped, Markdown),
quiz questions, feedback and scores. Everything shown is already computed in ``learn``; its
results (``learn.results``: TopicSummary, Topic, Question, GradedQuestion) come in duck-typed,
as render imports nothing above it."""

from __future__ import annotations

from typing import Any

from llmarch_cli.render.page import Page, Section

LABELS: dict[str, dict[str, str]] = {
    "id": {"en": "ID", "ja": "ID"},
    "title": {"en": "Title", "ja": "タイトル"},
    "formula": {"en": "Formula", "ja": "数式"},
    "examples": {"en": "Live examples (computed now)", "ja": "実例(いま計算した値)"},
    "example": {"en": "Example", "ja": "例"},
    "result": {"en": "Result", "ja": "結果"},
    "command": {"en": "Command", "ja": "コマンド"},
    "computed": {"en": "(closed form computed here; no command prints it yet)",
                 "ja": "(ここで式から計算。表示するコマンドはまだありません)"},
    "presets": {"en": "Presets with this feature", "ja": "この機能を使うプリセット"},
    "no_presets": {"en": "none in the spec library yet", "ja": "スペックライブラリにはまだありません"},
    "misconceptions": {"en": "Misconceptions corrected", "ja": "よくある誤解と訂正"},
    "claim": {"en": "Claim", "ja": "誤解"},
    "fact": {"en": "Fact", "ja": "事実"},
    "try": {"en": "Try next", "ja": "次に試すコマンド"},
    "question": {"en": "Question", "ja": "問題"},
    "choices": {"en": "Choices", "ja": "選択肢"},
    "answer": {"en": "Answer", "ja": "答え"},
    "explanation": {"en": "Explanation", "ja": "解説"},
    "topic": {"en": "Topic", "ja": "トピック"},
    "given": {"en": "Given", "ja": "回答"},
    "correct": {"en": "Correct", "ja": "正誤"},
}


def label(key: str, lang: str) -> str:
    return LABELS[key][lang]


def topic_list_view(topics: list[Any], lang: str) -> Page:
    """The topics: an array of {id, title}; a table with headers in ``lang``."""
    data = [t.model_dump() for t in topics]
    return Page(data, data, sections=[Section(data, {"id": label("id", lang), "title": label("title", lang)})])


def topic_view(topic: Any) -> Page:
    """A topic for json (one object) and jsonl/csv/tsv (its examples, one per row); its text
    forms are ``topic_renderable`` and ``topic_markdown``."""
    examples = [e.model_dump() for e in topic.examples]
    return Page(topic.model_dump(), examples)


def topic_renderable(topic: Any, lang: str) -> Any:
    """The topic as a Rich renderable: title, body, formula, examples table, presets,
    misconceptions table, commands to try."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    def heading(key: str) -> Text:
        return Text("\n" + label(key, lang), style="bold underline")

    parts: list[Any] = [Text(topic.title, style="bold")]
    parts += [Text("\n" + para) for para in topic.body.split("\n\n")]
    parts += [heading("formula"), Text(topic.formula, style="cyan")]
    lines = []  # one figure per item, its command whole on the next line (copy-paste)
    for ex in topic.examples:
        how = f"$ {ex.command}" if ex.command else label("computed", lang)
        sep = ":" if lang == "ja" else ": "
        lines.append(Text.assemble("• ", ex.label, sep, (ex.text, "bold"), "\n  ", (how, "dim")))
    parts += [heading("examples"), *lines]
    parts += [heading("presets"), Text(", ".join(topic.presets) or label("no_presets", lang))]
    if topic.misconceptions:
        wrong = Table(header_style="bold", show_lines=True)
        wrong.add_column(label("claim", lang), overflow="fold", ratio=1)
        wrong.add_column(label("fact", lang), overflow="fold", ratio=2)
        for m in topic.misconceptions:
            wrong.add_row(Text(m.claim, style="red"), m.fact)
        parts += [heading("misconceptions"), wrong]
    parts += [heading("try"), Text("\n".join(f"$ {c}" for c in topic.try_commands))]
    return Group(*parts)


def topic_markdown(topic: Any, lang: str) -> str:
    """The topic as GitHub Markdown."""
    lines = [f"# {topic.title}", "", topic.body, "", f"## {label('formula', lang)}", "",
             f"`{topic.formula}`", "", f"## {label('examples', lang)}", "",
             f"| {label('example', lang)} | {label('result', lang)} | {label('command', lang)} |",
             "| --- | ---: | --- |"]
    for ex in topic.examples:
        how = f"`{ex.command}`" if ex.command else label("computed", lang)
        lines.append(f"| {ex.label} | {ex.text} | {how} |")
    lines += ["", f"## {label('presets', lang)}", "", ", ".join(topic.presets) or label("no_presets", lang)]
    if topic.misconceptions:
        lines += ["", f"## {label('misconceptions', lang)}", "",
                  f"| {label('claim', lang)} | {label('fact', lang)} |", "| --- | --- |"]
        lines += [f"| {m.claim} | {m.fact} |" for m in topic.misconceptions]
    lines += ["", f"## {label('try', lang)}", "", *(f"- `{c}`" for c in topic.try_commands)]
    return "\n".join(lines) + "\n"


def quiz_view(questions: list[Any], lang: str) -> Page:
    """JSON and jsonl: the questions (graded ones with ``given`` and ``correct``); csv, tsv
    and md: flashcard rows, choices joined and the answer as text."""
    data = [q.model_dump() for q in questions]
    rows, columns = _question_rows(questions, lang)
    return Page(data, rows, sections=[Section(rows, columns)], jsonl=data)


def _question_rows(questions: list[Any], lang: str) -> tuple[list[dict[str, Any]], dict[str, str]]:
    rows = []
    for q in questions:
        row = {"topic": q.topic, "question": q.question,
               "choices": " / ".join(f"{chr(97 + i)}) {c}" for i, c in enumerate(q.choices or ())),
               "answer": q.answer_text, "explanation": q.explanation}
        if hasattr(q, "given"):
            row.update(given=q.given, correct=q.correct)
        rows.append(row)
    keys = list(rows[0]) if rows else []
    return rows, {k: label(k, lang) if k in LABELS else k for k in keys}


TEXT: dict[str, dict[str, str]] = {
    "intro": {"en": "Quiz: {n} questions (seed {seed}). Answer with a letter or a number; "
                    "Ctrl-D or Ctrl-C stops.",
              "ja": "クイズ:全{n}問(シード {seed})。記号か数値で答えてください。Ctrl-DかCtrl-Cで終了します。"},
    "right": {"en": "Correct.", "ja": "正解です。"},
    "wrong": {"en": "Not quite: the answer is {answer}.", "ja": "不正解です。正解は {answer} です。"},
    "retry_choice": {"en": "Please answer with one of {letters}.",
                     "ja": "{letters}のいずれかの記号で答えてください。"},
    "retry_number": {"en": "Please answer with a number.", "ja": "数値で答えてください。"},
    "score": {"en": "Score: {right}/{total} ({pct}%)", "ja": "スコア:{total}問中{right}問正解({pct}%)"},
    "stopped": {"en": "Stopped after {done} of {n} questions.", "ja": "{n}問中{done}問で終了しました。"},
    "unit": {"en": " (within {tol}%)", "ja": "(誤差{tol}%まで)"},
    "exact": {"en": " (exact number)", "ja": "(整数で正確に)"},
    "given": {"en": "Your answer: {given}", "ja": "あなたの答え:{given}"},
}


def say(key: str, lang: str, **values: Any) -> str:
    return TEXT[key][lang].format(**values)


def question_text(q: Any, index: int, total: int, lang: str) -> str:
    """One question as printed in the drill: number, topic, wording, choices or unit."""
    lines = [f"Q{index}/{total} [{q.topic}] {q.question}"]
    if q.choices:
        lines += [f"  {chr(97 + i)}) {c}" for i, c in enumerate(q.choices)]
    elif q.tolerance:
        lines[0] += say("unit", lang, tol=f"{100 * q.tolerance:g}")
    else:
        lines[0] += say("exact", lang)
    return "\n".join(lines)


def retry_text(q: Any, lang: str) -> str:
    """What to type after an answer that cannot be read."""
    if q.choices:
        return say("retry_choice", lang, letters=", ".join(chr(97 + i) for i in range(len(q.choices))))
    return say("retry_number", lang)


def feedback_text(q: Any, right: bool, lang: str) -> str:
    verdict = say("right", lang) if right else say("wrong", lang, answer=q.answer_text)
    return f"{verdict} {q.explanation}"


def score_text(right: int, total: int, lang: str) -> str:
    pct = round(100 * right / total) if total else 0
    return say("score", lang, right=right, total=total, pct=pct)


def quiz_text(questions: list[Any], lang: str) -> str:
    """Questions as text; graded ones (``GradedQuestion``) with the answer given, the
    verdict and explanation, and the score at the end."""
    graded = bool(questions) and hasattr(questions[0], "given")
    blocks = []
    for index, q in enumerate(questions, start=1):
        block = question_text(q, index, len(questions), lang)
        if graded:
            block += "\n" + say("given", lang, given=q.given) + "\n" + feedback_text(q, q.correct, lang)
        blocks.append(block)
    if graded:
        blocks.append(score_text(sum(q.correct for q in questions), len(questions), lang))
    return "\n\n".join(blocks) + "\n"
