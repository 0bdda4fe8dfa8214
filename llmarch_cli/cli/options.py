"""Options and arguments shared by every command, each with one meaning everywhere, as
``Annotated`` aliases, and the MODEL resolution every command goes through.

Use them as parameter types: ``def params(models: ModelsArg, fmt: FormatOpt = Format.auto, ...)``.
Options that travel together are groups (``WhatIfs``, ``Selected``, ``Outputs``): a command
decorated with ``shared`` takes one parameter per group and receives one value for it.
Values become ints, enums and analysis objects here, at the boundary (``parser=``): the
commands and analysis below never re-validate strings. Only typer and the standard library are
imported at the top; everything else loads on use.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NamedTuple

import typer

if TYPE_CHECKING:
    from llmarch_cli.specs.loader import ResolvedModel
    from llmarch_cli.specs.overrides import WhatIf


class Format(str, Enum):
    """Output formats; ``auto`` is a table on a terminal and TSV when piped."""

    auto = "auto"
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    tsv = "tsv"
    md = "md"


# config.json's torch_dtype spellings -> llmarch's dtype names.
DTYPE_SPELLINGS = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}


def dtype_name(text: str) -> str:
    """A dtype name in llmarch's spelling: 'bfloat16' -> 'bf16', 'FP16' -> 'fp16'."""
    key = str(text).strip().lower()
    return DTYPE_SPELLINGS.get(key, key)


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


def _counts(option: str):
    def parse(text: Any) -> tuple[int, ...]:
        from llmarch_cli.cli.sizes import parse_counts

        return tuple(parse_counts(text, option)) if isinstance(text, str) else text
    return parse


def _count(option: str):
    def parse(text: Any) -> int:
        from llmarch_cli.cli.sizes import parse_count

        return parse_count(text, option) if isinstance(text, str) else text
    return parse


def _naming(option: str, parse):
    """``parse`` with its LlmarchError prefixed by the option's name."""
    def named(text: Any):
        from llmarch_cli.errors import LlmarchError

        try:
            return parse(text)
        except LlmarchError as exc:
            raise LlmarchError(f"{option}: {exc.message}", exc.hint) from None
    return named


def _kv_dtype(text: Any):
    """'fp8', 'float16' -> the KvDtype (scales counted)."""
    from llmarch_cli.analysis.kvcache import kv_dtype

    return kv_dtype(dtype_name(text)) if isinstance(text, str) else text


def _quants(text: Any):
    """'q4_k_m,bfloat16' -> the weight formats, in the order given."""
    from llmarch_cli.analysis.quant_formats import weight_format

    if not isinstance(text, str):
        return text
    return tuple(dict.fromkeys(weight_format(dtype_name(part)) for part in text.split(",")))


def one_of(option: str, module: str, table: str):
    """A parser accepting the names in ``module.table`` (an analysis table, imported on use),
    lower-cased; anything else is an LlmarchError naming ``option`` and the valid names."""
    def parse(text: Any) -> str:
        if not isinstance(text, str):
            return text
        import importlib

        from llmarch_cli.errors import LlmarchError

        valid = tuple(getattr(importlib.import_module(module), table))
        key = text.strip().lower()
        if key not in valid:
            raise LlmarchError(f"{option}: unknown value {text!r} (valid: {', '.join(valid)})")
        return key
    return parse


def _engine(text: Any):
    """'minimal' or 'full' -> the Engine."""
    from llmarch_cli.analysis.kvcache import engine

    return engine(text) if isinstance(text, str) else text


parse_kv_dtype = _naming("--kv-dtype", _kv_dtype)
parse_quants = _naming("--quant", _quants)
parse_engine = _naming("--engine", _engine)


_MODEL_HELP = (
    "Preset id, alias, Hugging Face id (fine-tunes of a preset included) or family name; a "
    "config.json, a folder holding one, an llmarch spec file (TOML/JSON), or '-' for stdin. "
    "Any other Hugging Face id (org/name or org/name@revision) is read through the Hugging Face "
    "cache (--offline: the cache only)."
)

ModelArg = Annotated[str, typer.Argument(metavar="MODEL", help=_MODEL_HELP,
                                         autocompletion=complete_model, show_default=False)]
ModelsArg = Annotated[list[str], typer.Argument(metavar="MODEL", help=_MODEL_HELP,
                                                autocompletion=complete_model, show_default=False)]
SelectModelsArg = Annotated[list[str] | None, typer.Argument(
    metavar="[MODEL]...", help=_MODEL_HELP + " Several give one row each; or select presets with "
    "--all/--family/--feature.", autocompletion=complete_model, show_default=False)]
AllOpt = Annotated[bool, typer.Option("--all", help="Every preset.")]
FamilyOpt = Annotated[str | None, typer.Option(
    "--family", show_default=False, help="The presets of this family (llama, qwen, ...).")]
FeatureOpt = Annotated[str | None, typer.Option(
    "--feature", show_default=False,
    help="The presets with this feature: gqa, mqa, mha, moe, swa, rope, alibi, learned, "
         "sinusoidal, relative-buckets, rmsnorm, layernorm, gated-ffn, swiglu, geglu, sinks, "
         "parallel, tied, qkv-bias, mla, qk-norm, local-global, chunked, hybrid, ssm, "
         "shared-experts, softcap.")]
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
MqaOpt = Annotated[bool, typer.Option("--mqa", help="What-if: one KV head.")]
MhaOpt = Annotated[bool, typer.Option("--mha", help="What-if: as many KV heads as query heads.")]
WindowOpt = Annotated[Any, typer.Option(
    "--window", metavar="W", show_default=False, parser=_count("--window"),
    help="What-if: sliding window of W tokens (4096, 4k) on every layer of a decoder-only model.")]
ContextOpt = Annotated[Any, typer.Option(
    "--context", "-c", metavar="N[,N...]", show_default=False, parser=_counts("--context"),
    help="Context lengths in tokens (4k, 128k, 1M); several give one row each.")]
BatchOpt = Annotated[Any, typer.Option(
    "--batch", "-b", metavar="B[,B...]", parser=_counts("--batch"),
    help="Sequences held at once (8, 1k); several give one row each.")]
EncoderLengthOpt = Annotated[Any, typer.Option(
    "--encoder-length", metavar="N", show_default=False, parser=_count("--encoder-length"),
    help="Encoder-decoders: encoder tokens in the cross-attention cache, e.g. 512 or 1k "
         "(default: context).")]
KvDtypeOpt = Annotated[Any, typer.Option(
    "--kv-dtype", metavar="DTYPE", parser=parse_kv_dtype,
    help="KV cache dtype: fp32, fp16, bf16 (or float32, float16, bfloat16), fp8, int8, int4 "
         "(scales counted).")]
QuantOpt = Annotated[Any, typer.Option(
    "--quant", metavar="FMT[,FMT...]", show_default=False, parser=parse_quants,
    help="Weight formats: fp32, bf16, fp16 (or float32, bfloat16, float16), fp8, int8, int4, "
         "nf4, q8_0, q6_k, q5_k_m, q4_k_m, q4_0, q3_k_m, q2_k.")]
EngineOpt = Annotated[Any, typer.Option(
    "--engine", metavar="ENGINE", parser=parse_engine,
    help="KV cache policy: minimal (sliding/chunked layers keep min(context, W), MLA caches its "
         "latent) or full (every layer keeps the whole context, MLA its decompressed K and V, as "
         "eager transformers does).")]
TrainOpt = Annotated[Any, typer.Option(
    "--train", metavar="MODE", show_default=False,
    parser=one_of("--train", "llmarch_cli.analysis.training", "TRAIN_MODES"),
    help="Training instead of inference: full, lora or qlora (default checkpointing: selective "
         "for full, full for lora/qlora).")]
# memory --train's choices and the GPU layout.
OptimizerOpt = Annotated[Any, typer.Option(
    "--optimizer", show_default=False, metavar="NAME",
    parser=one_of("--optimizer", "llmarch_cli.analysis.training", "OPTIMIZER_MOMENT_BYTES"),
    help="Training: adamw (default), adamw8bit or sgd (momentum).")]
CheckpointingOpt = Annotated[Any, typer.Option(
    "--checkpointing", show_default=False, metavar="KIND",
    parser=one_of("--checkpointing", "llmarch_cli.analysis.training", "CHECKPOINTING"),
    help="Training: activation recomputation, none, selective or full. Default: selective for "
         "--train full (FlashAttention/SDPA stores no s x s scores), full for lora/qlora (the "
         "QLoRA recipe and PEFT's prepare_model_for_kbit_training enable gradient "
         "checkpointing).")]
ZeroOpt = Annotated[int | None, typer.Option(
    "--zero", min=0, max=3, show_default=False,
    help="Training: ZeRO stage 0-3 over the data-parallel GPUs (default 0).")]
TpOpt = Annotated[int, typer.Option("--tp", help="Tensor-parallel GPUs.")]
PpOpt = Annotated[int, typer.Option("--pp", help="Pipeline-parallel stages.")]
GpusOpt = Annotated[int | None, typer.Option(
    "--gpus", show_default=False, help="GPUs in all (default tp x pp); the rest is data parallel.")]
RankOpt = Annotated[int | None, typer.Option(
    "--rank", show_default=False, help="--train lora/qlora: LoRA rank r (default 8, PEFT's).")]
TargetsOpt = Annotated[list[str] | None, typer.Option(
    "--targets", metavar="NAMES", show_default=False,
    help="--train lora/qlora: LoRA targets, HF module names (q_proj, c_attn, query_key_value, "
         "...), short names q,k,v,o,gate,up,down, or all-linear (default).")]
ExplainOpt = Annotated[bool, typer.Option("--explain", help="Print every term with its formula.")]
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


def what_if(sets: SetOpt = None, gqa: GqaOpt = None, mqa: MqaOpt = False, mha: MhaOpt = False,
            window: WindowOpt = None) -> WhatIf | None:
    """The what-if options of a command as one structured value, or None without any."""
    if not sets and gqa is None and not mqa and not mha and window is None:
        return None
    from llmarch_cli.specs.overrides import WhatIf

    return WhatIf.parse(sets, window=window, kv_heads=gqa, mqa=mqa, mha=mha)


class Selection(NamedTuple):
    """The MODEL arguments and the preset selectors, as ``select_models`` takes them."""

    models: list[str] | None
    all_presets: bool
    family: str | None
    feature: str | None


def _selection(models: SelectModelsArg = None, all_presets: AllOpt = False,
               family: FamilyOpt = None, feature: FeatureOpt = None) -> Selection:
    return Selection(models, all_presets, family, feature)


class Output(NamedTuple):
    """Where and how a command writes its result: ``emit(view, *out)``."""

    fmt: Format
    path: Path | None


def _output(fmt: FormatOpt = Format.auto, output: OutputOpt = None,
            no_color: NoColorOpt = False) -> Output:
    return Output(fmt, output)


class Group:
    """Options that travel together, declared once as the parameters of ``build``; see
    ``shared``."""

    def __init__(self, build: Callable[..., Any]) -> None:
        self.build = build


def shared(command: Callable[..., None]) -> Callable[..., None]:
    """Decorator: each parameter of ``command`` annotated with a Group becomes, for Typer, that
    group's options (where the parameter stands); the command receives what ``build`` returns.
    ``change: WhatIfs`` gives --set/--gqa/--mqa/--mha/--window and one WhatIf (or None)."""
    import functools
    import inspect

    params, groups = [], {}
    for param in inspect.signature(command, eval_str=True).parameters.values():
        group = next((m for m in getattr(param.annotation, "__metadata__", ())
                      if isinstance(m, Group)), None)
        if group is None:
            params.append(param)
            continue
        own = [p.replace(annotation=eval(p.annotation, group.build.__globals__))
               if isinstance(p.annotation, str) else p
               for p in inspect.signature(group.build).parameters.values()]
        groups[param.name] = (group.build, [p.name for p in own])
        params += own

    @functools.wraps(command)
    def run(**given: Any) -> None:
        for name, (build, names) in groups.items():
            given[name] = build(**{n: given.pop(n) for n in names})
        command(**given)

    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    return run


WhatIfs = Annotated[Any, Group(what_if)]  # --set, --gqa, --mqa, --mha, --window -> WhatIf | None
Selected = Annotated[Any, Group(_selection)]  # MODEL..., --all, --family, --feature -> Selection
Outputs = Annotated[Any, Group(_output)]  # --format, --output, --no-color -> Output


def check_mode_options(train: str | None, inference: dict[str, Any], training: dict[str, Any],
                       adapter: dict[str, Any]) -> None:
    """An option of the other mode is an LlmarchError: ``inference`` ones with --train,
    ``training`` ones without it, ``adapter`` ones (--rank, --targets) unless --train lora|qlora.
    Each mapping is option -> value given (None: not given)."""
    from llmarch_cli.errors import LlmarchError

    wrong = {**training, **adapter} if train is None else {
        **inference, **(adapter if train == "full" else {})}
    for option, value in wrong.items():
        if value is not None:
            applies = ("--train lora|qlora" if option in adapter
                       else "--train" if option in training else "inference (without --train)")
            why = "; a training step keeps no KV cache" if option in ("--kv-dtype", "--engine") else ""
            raise LlmarchError(f"{option} applies to {applies} only{why}")


def resolve(model: str, change: WhatIf | None = None) -> ResolvedModel:
    """One MODEL argument resolved once (what-ifs applied)."""
    from llmarch_cli.specs.loader import resolve_model

    return resolve_model(model, change)


def select_models(models: Sequence[str] | None, all_presets: bool = False, family: str | None = None,
                  feature: str | None = None, change: WhatIf | None = None,
                  default: str | None = None) -> list[ResolvedModel]:
    """The MODEL arguments, then the presets --all/--family/--feature select, each resolved
    once; ``default`` when none is given (else a usage error)."""
    from llmarch_cli.errors import LlmarchError
    from llmarch_cli.specs.loader import resolve_model

    names = list(models or ())
    if all_presets or family is not None or feature is not None:
        from llmarch_cli.specs.selection import select_preset_ids

        names += select_preset_ids(family, feature)
    if not names:
        if default is None:
            raise LlmarchError("Missing argument 'MODEL'", "name one or more models, or use --all, "
                               "--family or --feature")
        names = [default]
    return [resolve_model(name, change) for name in dict.fromkeys(names)]


def report_notes(models: Sequence[ResolvedModel]) -> None:
    """The resolution notes (``llama -> llama-2-7b``) on stderr, once each: call it after the
    output is written, so that on an error the error stays the only stderr line."""
    import sys

    notes = dict.fromkeys(m.note for m in models if m.note)
    sys.stderr.write("".join(f"{note}\n" for note in notes))
