"""Options and arguments shared by every command, as ``Annotated`` aliases, plus ``load_spec``.

Use them as parameter types: ``def params(model: ModelArg, fmt: FormatOpt = Format.auto, ...)``.
Only typer and the standard library are imported here; everything else loads on use.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from llmarch_cli.specs.model import ArchSpec


class Format(str, Enum):
    """Output formats; ``auto`` is a table on a terminal and TSV when piped."""

    auto = "auto"
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    md = "md"


def complete_model(incomplete: str) -> list[str]:
    """Preset ids and family names starting with what was typed (shell completion)."""
    from llmarch_cli.specs.registry import FAMILY_REPRESENTATIVES, preset_ids

    names = sorted({*preset_ids(), *FAMILY_REPRESENTATIVES})
    return [name for name in names if name.startswith(incomplete.lower())]


def _no_colour(value: bool) -> bool:
    if value:
        from llmarch_cli.render.console import disable_colour

        disable_colour()
    return value


_MODEL_HELP = (
    "Preset id, alias, Hugging Face id or family name; a config.json, a folder holding one, "
    "an llmarch spec file (TOML/JSON), or '-' for stdin."
)

ModelArg = Annotated[str, typer.Argument(metavar="MODEL", help=_MODEL_HELP,
                                         autocompletion=complete_model, show_default=False)]
ModelsArg = Annotated[list[str], typer.Argument(metavar="MODEL", help=_MODEL_HELP,
                                                autocompletion=complete_model, show_default=False)]
FormatOpt = Annotated[Format, typer.Option(
    "--format", "-f", case_sensitive=False,
    help="Output format; auto = table on a terminal, TSV when piped. --json is short for --format json.",
)]
SetOpt = Annotated[list[str] | None, typer.Option(
    "--set", metavar="KEY=VALUE", show_default=False,
    help="What-if override (repeatable): a spec path like attention.num_kv_heads=8 or an HF "
         "config name like num_key_value_heads=8. Values are JSON scalars.",
)]
GqaOpt = Annotated[int | None, typer.Option(
    "--gqa", min=1, metavar="N", show_default=False,
    help="What-if: N key/value heads (shorthand for --set attention.num_kv_heads=N).",
)]
OutputOpt = Annotated[Path | None, typer.Option(
    "--output", "-o", dir_okay=False, metavar="FILE", show_default=False,
    help="Write the output to FILE (atomically) instead of stdout.",
)]
LangOpt = Annotated[str | None, typer.Option(
    "--lang", metavar="en|ja", show_default=False,
    help="Language of explain and quiz: en or ja (default: Japanese when LC_ALL, LC_MESSAGES "
         "or LANG is Japanese, else English).",
)]
NoColorOpt = Annotated[bool, typer.Option(
    "--no-color", callback=_no_colour, is_eager=True, show_default=False,
    help="No colour (also when NO_COLOR is set or stdout is not a terminal).",
)]


RESOLVED: list[str] = []  # "family -> preset" notes of this invocation, printed by cli.app on success


def load_spec(model: str, sets: list[str] | None = None, gqa: int | None = None) -> ArchSpec:
    """The ArchSpec for a MODEL argument with ``--set``/``--gqa`` applied.

    A family name is reported on stderr with the preset it stands for (``llama -> llama-2-7b``),
    once the command has succeeded (``RESOLVED``), so that an error stays the only stderr line.
    """
    from llmarch_cli.specs.loader import load_model, looks_like_path
    from llmarch_cli.specs.registry import resolve_id

    if not looks_like_path(model):
        preset, family = resolve_id(model)
        if family is not None and family != preset:
            RESOLVED.append(f"{model} -> {preset}")
    spec = load_model(model)
    if sets or gqa is not None:
        from llmarch_cli.specs.overrides import apply_overrides

        spec = apply_overrides(spec, list(sets or ()), gqa)
    return spec
