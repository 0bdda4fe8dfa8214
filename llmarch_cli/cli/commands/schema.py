"""``llmarch schema [COMMAND]``: the JSON schema of a command's output, from its result model."""

from __future__ import annotations

from typing import Annotated

import typer

from llmarch_cli.cli.options import Format, FormatOpt, NoColorOpt, OutputOpt

EXAMPLES = (  # shown under --help
    "llmarch schema",
    "llmarch schema kvcache",
    "llmarch schema params | jq '.properties | keys'",
)
# A command module declares RESULT = (module, class, shape): shape "list" when its JSON is
# always an array of the class, "each" when it is one object per MODEL (an array for several),
# "one" when it is always one object.
SHAPES = {"list": "array", "each": "object (an array for several models)", "one": "object"}


def _results() -> dict[str, tuple[str, str, str]]:
    import importlib

    from llmarch_cli.cli.app import COMMANDS

    found = {}
    for name, (module, _attr) in COMMANDS.items():
        result = getattr(importlib.import_module(f"llmarch_cli.cli.commands.{module}"), "RESULT", None)
        if result is not None:
            found[name] = result
    return found


def schema(
    command: Annotated[str | None, typer.Argument(
        metavar="[COMMAND]", show_default=False,
        help="A command whose JSON output has a result model; without it, the list.")] = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """The JSON schema of COMMAND's --format json output, generated from its result model.

    Without COMMAND: the commands that have one, with the model and the shape of their JSON.
    The schema of a command is JSON whatever --format says.
    """
    from llmarch_cli.errors import LlmarchError
    from llmarch_cli.render.formats import to_json
    from llmarch_cli.render.output import emit, write_text
    from llmarch_cli.render.views import schema_list_view

    results = _results()
    if command is None:
        rows = [{"command": name, "result": cls, "json": SHAPES[shape]}
                for name, (_module, cls, shape) in results.items()]
        emit(schema_list_view(rows), fmt, output)
        return
    if command not in results:
        raise LlmarchError(f"no result model for {command!r}", f"commands: {', '.join(results)}")
    import importlib

    from pydantic import TypeAdapter

    module, cls, shape = results[command]
    model = getattr(importlib.import_module(module), cls)
    data = TypeAdapter(list[model]).json_schema() if shape == "list" else model.model_json_schema()
    write_text(to_json(data), output)
