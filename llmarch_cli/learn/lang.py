"""The language of learning mode and numbers written for it.

``--lang en|ja`` wins; otherwise a Japanese ``LC_ALL``, ``LC_MESSAGES`` or ``LANG`` (the first
one set, as POSIX orders them) selects Japanese. Counts are written in SI steps in English
(46.70 B) and in 万/億/兆 in Japanese (467.0億); bytes use IEC units in both.
"""

from __future__ import annotations

import os

from llmarch_cli.errors import LlmarchError

LANGS = ("en", "ja")
_JA_STEPS = ((10**12, "兆"), (10**8, "億"), (10**4, "万"))


def resolve_lang(requested: str | None) -> str:
    """``requested`` checked, or the language the locale asks for (en unless Japanese)."""
    if requested is not None:
        lang = requested.strip().lower()
        if lang not in LANGS:
            raise LlmarchError(f"unknown language {requested!r} (choose one of {', '.join(LANGS)})")
        return lang
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var)
        if value:
            return "ja" if value.lower().startswith("ja") else "en"
    return "en"


def count_text(n: int | float, lang: str) -> str:
    """A count: '46.70 B' (en) or '467.0億' (ja); small counts whole with separators."""
    if lang == "ja":
        for step, unit in _JA_STEPS:
            if abs(n) >= step:
                return f"{n / step:,.1f}{unit}"
        return f"{n:,}" if isinstance(n, int) else f"{n:,.2f}"
    from llmarch_cli.render.units import format_count

    return format_count(n)
