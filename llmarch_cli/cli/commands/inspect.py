"""``llmarch inspect PATH...``: what a checkpoint holds, from its headers only."""

from __future__ import annotations

from typing import Annotated

import typer

from llmarch_cli.cli.options import Format, FormatOpt, NoColorOpt, OutputOpt

EXAMPLES = (  # shown under --help
    "llmarch inspect ./Llama-3.1-8B",
    "llmarch inspect model.safetensors.index.json --json | jq .total_params",
    "llmarch inspect qwen2.5-7b-instruct-q4_k_m.gguf",
    "llmarch inspect DeepSeek-R1-Q4_K_M-00001-of-00009.gguf --tensors",
    "llmarch inspect ./gpt2 --against gpt2 && echo complete",
    "llmarch inspect Qwen/Qwen2.5-7B-Instruct",
    "llmarch inspect bartowski/Llama-3.2-1B-Instruct-GGUF --file Llama-3.2-1B-Instruct-Q4_K_M.gguf",
)

PathsArg = Annotated[list[str], typer.Argument(
    metavar="PATH", show_default=False,
    help="A .safetensors file, a model.safetensors.index.json, a Hugging Face model folder, "
         "a .gguf file (any split of NAME-00001-of-0000N.gguf), or a Hugging Face id "
         "(org/name or org/name@revision) whose headers are read with range requests.")]


def inspect(
    paths: PathsArg,
    tensors: Annotated[bool, typer.Option(
        "--tensors", help="List every tensor (name, dtype, shape, params, bytes, file).")] = False,
    against: Annotated[str | None, typer.Option(
        "--against", metavar="MODEL", show_default=False,
        help="Compare with MODEL's tensors (preset, config or spec): missing, extra, misshaped. "
             "Exit 3 when they differ.")] = None,
    file: Annotated[str | None, typer.Option(
        "--file", metavar="NAME.gguf", show_default=False,
        help="With a Hugging Face id: the GGUF file of the repository to read.")] = None,
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
    from llmarch_cli.cli.options import report_notes, resolve
    from llmarch_cli.errors import ExitCode
    from llmarch_cli.render.inspect_view import inspect_view
    from llmarch_cli.render.output import emit

    model = resolve(against) if against is not None else None
    spec = model.spec if model is not None else None
    results = []
    for path in paths:
        result, ckpt = inspect_path(path, tensors=tensors, file=file)
        if spec is not None:
            from llmarch_cli.checkpoints.against import compare

            result = result.model_copy(update={"against": compare(ckpt, spec, against)})
        results.append(result)
    emit(inspect_view(results), fmt, output)
    report_notes([model] if model is not None else [])
    if any(r.against is not None and not r.against.match for r in results):
        raise typer.Exit(ExitCode.MISMATCH)
