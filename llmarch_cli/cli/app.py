"""The root ``llmarch`` app: one registration line per command, and exit-code mapping.

Exit codes: 0 ok, 1 internal failure, 2 bad input or output (usage, unknown model, bad spec or
file, unwritable output, full disk, closed pipe), 3 a checkpoint that differs from the model
(``inspect --against``), 130 interrupted. Errors are one ``llmarch: error: ...`` line on stderr
(plus an optional ``hint:`` line); ``LLMARCH_DEBUG=1`` re-raises them with the traceback instead.
"""

import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from llmarch_cli import __version__
from llmarch_cli.cli.options import NoColorOpt
from llmarch_cli.errors import ExitCode, LlmarchError

EPILOG = (
    "Hugging Face ids (org/name or org/name@revision) that no preset answers are read through the "
    "Hugging Face cache; add --offline to any command (or set HF_HUB_OFFLINE=1) to use the cache "
    "only. "
    "Exit codes: 0 ok; 1 internal failure; 2 bad input or output (usage, unknown model, bad "
    "spec or file, unwritable output); 3 checkpoint differs from the model (inspect --against); "
    "130 interrupted. Set LLMARCH_DEBUG=1 to see tracebacks."
)


def _expand_aliases(args: Sequence[str]) -> list[str]:
    """``--json`` -> ``--format json``, and ``--offline`` (on any command) sets
    ``HF_HUB_OFFLINE=1`` for this process (both before any ``--``)."""
    out: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--":
            return out + list(args[index:])
        if arg == "--offline":
            os.environ["HF_HUB_OFFLINE"] = "1"
            continue
        out.extend(("--format", "json") if arg == "--json" else (arg,))
    return out


def _one_line(text: str) -> str:
    """``text`` with line breaks and other control characters (from user input) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _fail(message: str, hint: str | None, code: int) -> int:
    lines = [f"llmarch: error: {_one_line(message)}"] + ([f"hint: {_one_line(hint)}"] if hint else [])
    sys.stderr.write("\n".join(lines) + "\n")
    return code


# name -> (module under cli/commands, attribute): a function, or a Typer app for a group.
# Commands are imported and built only when invoked (or listed by --help), so a command's
# start-up pays for that command alone.
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("list_cmd", "list_models"),
    "show": ("show", "show"),
    "compare": ("compare", "compare"),
    "diff": ("diff", "diff"),
    "params": ("params", "params"),
    "spec": ("spec", "app"),
    "kvcache": ("kvcache", "kvcache"),
    "memory": ("memory", "memory"),
    "fit": ("fit", "fit"),
    "forward": ("forward", "forward"),
    "kernel": ("kernel", "kernel"),
    "flops": ("flops", "flops"),
    "complexity": ("complexity", "complexity"),
    "roofline": ("roofline", "roofline"),
    "explain": ("explain", "explain"),
    "quiz": ("quiz", "quiz"),
    "schema": ("schema", "schema"),
    "inspect": ("inspect", "inspect"),
}


def _reflow(text: str | None) -> str | None:
    """Help text with each paragraph on one line: Rich help keeps single line breaks, which
    would show docstring line ends as breaks mid-sentence."""
    if not text:
        return text
    import inspect

    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(text).split("\n\n"))


def _examples(lines: Sequence[str]) -> str | None:
    """An "Examples:" epilog, one indented invocation per line (the leading newline keeps
    the indent through Typer's dedent)."""
    return "\nExamples:\n" + "\n".join(f"  {line}" for line in lines) if lines else None


def _build_command(name: str) -> Any:
    """The click command for one entry of COMMANDS, with its help reflowed and the module's
    EXAMPLES as the epilog (for a group: EXAMPLES[""] for the group, EXAMPLES[sub] for each
    subcommand)."""
    import importlib

    module_name, attr = COMMANDS[name]
    module = importlib.import_module(f"llmarch_cli.cli.commands.{module_name}")
    target = getattr(module, attr)
    if not isinstance(target, typer.Typer):
        single = typer.Typer(add_completion=False, context_settings=CONTEXT_SETTINGS)
        single.command(name)(target)
        target = single
    command = typer.main.get_command(target)
    command.name = name
    examples = module.EXAMPLES
    parts = {"": command, **getattr(command, "commands", {})}
    for key, part in parts.items():
        part.help = _reflow(part.help)
        part.epilog = _examples(examples if isinstance(examples, tuple) else examples[key])
    return command


class LlmarchGroup(TyperGroup):
    """Typer's group with lazily built commands, run in non-standalone mode so that every
    error maps to one line."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*super().list_commands(ctx), *COMMANDS]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in COMMANDS:
            return _build_command(cmd_name)
        return super().get_command(ctx, cmd_name)

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        from llmarch_cli.render.console import disable_colour

        disable_colour(False)
        argv = _expand_aliases(sys.argv[1:] if args is None else args)
        debug = bool(os.environ.get("LLMARCH_DEBUG"))
        try:
            code = super().main(argv, prog_name or "llmarch", complete_var,
                                standalone_mode=False, **extra)
            sys.stdout.flush()  # a full disk or closed pipe shows here, not at exit
        except LlmarchError as exc:
            if debug:
                raise
            code = _fail(exc.message, exc.hint, ExitCode.BAD_INPUT)
        except typer.TyperException as exc:  # Typer's usage errors (click's UsageError etc.)
            if debug:
                raise
            ctx = getattr(exc, "ctx", None)
            hint = f"see '{ctx.command_path} --help'" if ctx is not None else None
            message = exc.format_message().replace("Value error, ", "")
            code = _fail(message, hint, ExitCode.BAD_INPUT)
        except typer.Abort:
            code = _fail("aborted", None, ExitCode.INTERNAL)
        except KeyboardInterrupt:
            code = ExitCode.INTERRUPTED
        except OSError as exc:  # help, --version or a one-line result into a full disk or closed pipe
            from llmarch_cli.render.destination import OUTPUT_ERRORS, reason, silence_stdout

            if exc.errno not in OUTPUT_ERRORS:
                if debug:
                    raise
                code = _internal(exc)
            else:
                silence_stdout()
                code = _fail(f"cannot write to stdout: {reason(exc)}", None, ExitCode.BAD_INPUT)
        except Exception as exc:
            if debug:
                raise
            code = _internal(exc)
        sys.exit(int(code) if isinstance(code, int) else ExitCode.OK)


def _internal(exc: Exception) -> int:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):  # a spec that slipped past a loader: still bad input
        from llmarch_cli.specs.validation import describe_validation_error

        return _fail(f"invalid spec: {describe_validation_error(exc)}", None, ExitCode.BAD_INPUT)
    detail = str(exc).splitlines()[0] if str(exc) else ""
    message = f"internal error: {type(exc).__name__}" + (f": {detail}" if detail else "")
    return _fail(message, "set LLMARCH_DEBUG=1 for the traceback", ExitCode.INTERNAL)


CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"]}

app = typer.Typer(
    cls=LlmarchGroup,
    name="llmarch",
    help="Explore LLM architectures: exact parameter counts, KV cache, memory and forward passes.",
    epilog=EPILOG,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings=CONTEXT_SETTINGS,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"llmarch {__version__}")
        raise typer.Exit()


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    no_color: NoColorOpt = False,
) -> None:
    """Explore LLM architectures: exact parameter counts, KV cache, memory and forward passes."""
    if ctx.invoked_subcommand is None:
        typer.echo(ctx.get_help())



def main() -> None:
    """Console-script entry point."""
    app()
