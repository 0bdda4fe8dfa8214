"""``llmarch inspect PATH...``: what a checkpoint holds, from its headers only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from llmarch_cli.cli.options import Format, FormatOpt, NoColorOpt, OutputOpt

EXAMPLES = (  # shown under --help
    "llmarch inspect ./Llama-3.1-8B",
    "llmarch inspect model.safetensors.index.json --json | jq .total_params",
    "llmarch inspect qwen2.5-7b-instruct-q4_k_m.gguf",
    "llmarch inspect DeepSeek-R1-Q4_K_M-00001-of-00009.gguf --tensors",
    "llmarch inspect ./gpt2 --against gpt2 && echo complete",
)

PathsArg = Annotated[list[Path], typer.Argument(
    metavar="PATH", show_default=False,
    help="A .safetensors file, a model.safetensors.index.json, a Hugging Face model folder, "
         "or a .gguf file (any split of NAME-00001-of-0000N.gguf).")]


def inspect(
    paths: PathsArg,
    tensors: Annotated[bool, typer.Option(
        "--tensors", help="List every tensor (name, dtype, shape, params, bytes, file).")] = False,
    against: Annotated[str | None, typer.Option(
        "--against", metavar="MODEL", show_default=False,
        help="Compare with MODEL's tensors (preset, config or spec): missing, extra, misshaped. "
             "Exit 3 when they differ.")] = None,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """What a checkpoint holds, read from its headers only (no tensor data): tensors by layer
    and kind, parameters, bytes by dtype or GGUF type, real bits per weight, the architecture
    (config.json or GGUF metadata) and, from its spec, memory to load and KV bytes per token.

    Buffers stored in the file (GPT-2's attn.bias) are listed and not counted as parameters.
    The estimate row puts 'llmarch memory --quant <the file's format>' weight bytes beside the
    real bytes. Exit status: 0 ok; 2 bad input (unreadable or hostile header, missing shard);
    3 with --against when the checkpoint does not match MODEL.
    """
    from llmarch_cli.checkpoints.inspect import inspect_path
    from llmarch_cli.errors import ExitCode
    from llmarch_cli.render.output import render_text, resolve_format, write_text

    spec = None
    if against is not None:
        from llmarch_cli.cli.options import load_spec

        spec = load_spec(against)
    results = []
    for path in paths:
        result, ckpt = inspect_path(path, tensors=tensors)
        if spec is not None:
            from llmarch_cli.checkpoints.against import compare

            result = result.model_copy(update={"against": compare(ckpt, spec, against)})
        results.append(result)
    concrete = resolve_format(fmt, output)
    if concrete in ("json", "jsonl"):
        data = [r.model_dump(mode="json", exclude={k for k in ("tensors", "against", "estimate")
                                                   if getattr(r, k) is None}) for r in results]
        text = render_text(data[0] if len(data) == 1 and concrete == "json" else data, concrete)
    else:
        from llmarch_cli.render.inspect_view import render_inspect
        from llmarch_cli.render.output import on_terminal

        terminal = on_terminal(concrete, output)
        text = "\n".join(render_inspect(r, concrete, terminal) for r in results)
    write_text(text, output)
    if any(r.against is not None and not r.against.match for r in results):
        raise typer.Exit(ExitCode.MISMATCH)
