"""``llmarch spec schema|export|validate``: the ArchSpec file format."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import typer

from llmarch_cli.cli.options import ModelArg, OutputOpt, WhatIfs, shared

EXAMPLES = {  # shown under --help: "" for the group, then each subcommand
    "": ("llmarch spec export llama-2-7b --gqa 8 -o my-arch.toml",
         "llmarch spec validate my-arch.toml",
         "llmarch spec schema | jq .required"),
    "schema": ("llmarch spec schema", "llmarch spec schema -o archspec.schema.json"),
    "export": ("llmarch spec export llama-2-7b --gqa 8 -o my-arch.toml",
               "llmarch spec export mistral -f json"),
    "validate": ("llmarch spec validate my-arch.toml", "cat config.json | llmarch spec validate -"),
}

app = typer.Typer(help="The spec file format: print its JSON schema, export a model, validate a file.",
                  invoke_without_command=True, add_completion=False)


@app.callback()
def group(ctx: typer.Context) -> None:
    """Without a subcommand: the help (exit 0)."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())


class SpecFormat(str, Enum):
    toml = "toml"
    json = "json"


@app.command()
def schema(output: OutputOpt = None) -> None:
    """Print the JSON schema of an llmarch spec file (ArchSpec)."""
    from llmarch_cli.render.formats import to_json
    from llmarch_cli.render.output import write_text
    from llmarch_cli.specs.model import ArchSpec

    write_text(to_json(ArchSpec.model_json_schema()), output)


@app.command()
@shared
def export(
    model: ModelArg,
    fmt: Annotated[SpecFormat, typer.Option("--format", "-f", case_sensitive=False,
                                            help="Spec file format.")] = SpecFormat.toml,
    change: WhatIfs = None,
    output: OutputOpt = None,
) -> None:
    """Write MODEL as an llmarch spec file.

    Every MODEL argument (and 'spec validate') accepts the file back. With --set/--gqa/--mqa/--mha/
    --window, the what-if spec.
    """
    from llmarch_cli.cli.options import report_notes, resolve
    from llmarch_cli.render.output import write_text
    from llmarch_cli.render.spec_file import spec_text

    resolved = resolve(model, change)
    write_text(spec_text(resolved.spec.model_dump(mode="json"), fmt.value), output)
    report_notes([resolved])


@app.command()
def validate(
    file: Annotated[str, typer.Argument(metavar="FILE",
                                        help="A spec file, a config.json, a folder, or '-' for stdin.")],
) -> None:
    """Check a spec file or config.json: exit 0 with one line, or exit 2 with the error."""
    from llmarch_cli.errors import LlmarchError
    from llmarch_cli.specs.loader import load_model, looks_like_path

    if not file.strip():
        raise LlmarchError("empty file name")
    if not looks_like_path(file):
        raise LlmarchError(f"{file}: no such file")
    spec = load_model(file)
    typer.echo(f"{file}: OK ({spec.id}, {spec.architecture}, {spec.num_layers} layers)")

