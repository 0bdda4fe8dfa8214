"""``llmarch kernel NAME``: one building block on a small seeded input, drawn in the terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from llmarch_cli.cli.options import Format, FormatOpt, NoColorOpt, OutputOpt

EXAMPLES = (  # shown under --help
    "llmarch kernel attention --heads 6 --kv-heads 2 --window 3",
    "llmarch kernel rope --len 16",
    "llmarch kernel quant -f tsv",
    "llmarch kernel alibi --heads 6 --json | jq -c .slopes",
)

KERNELS = ("attention", "rope", "alibi", "norm", "activation", "moe", "lora", "quant")
ROUTINGS = ("softmax_topk_renorm", "topk_softmax", "softmax_topk")
MAX_SIZE = 4096  # any size option above this is a typo, not a demo
MAX_LEN = 256  # attention, rope and alibi print T x T matrices


def complete_kernel(incomplete: str) -> list[str]:
    return [name for name in KERNELS if name.startswith(incomplete)]


def _positive(name: str, value: int | float, limit: int = MAX_SIZE) -> None:
    from llmarch_cli.errors import LlmarchError

    if value <= 0:
        raise LlmarchError(f"{name} must be positive, got {value:g}")
    if value > limit:
        raise LlmarchError(f"{name} {value:g} is too large for a demo (at most {limit})")


def _check(name: str, length: int, heads: int | None, kv_heads: int, window: int, head_dim: int,
           experts: int, top_k: int, routing: str, rank: int, dim: int, group_size: int) -> None:
    """Validate the options the kernel NAME uses; LlmarchError (exit 2) on bad input."""
    from llmarch_cli.errors import LlmarchError

    if name not in KERNELS:
        raise LlmarchError(f"unknown kernel {name!r}", f"choose one of {', '.join(KERNELS)}")
    checks = {
        "attention": {"--len": length, "--heads": heads or 4, "--kv-heads": kv_heads, "--window": window},
        "rope": {"--len": length, "--head-dim": head_dim},
        "alibi": {"--len": length, "--heads": heads or 8},
        "norm": {"--dim": dim},
        "activation": {"--len": length},
        "moe": {"--len": length, "--experts": experts, "--top-k": top_k},
        "lora": {"--dim": dim, "--rank": rank},
        "quant": {"--dim": dim, "--group-size": group_size},
    }[name]
    for option, value in checks.items():
        quadratic = option == "--len" and name in ("attention", "rope", "alibi")
        _positive(option, value, MAX_LEN if quadratic else MAX_SIZE)
    if name == "attention" and (heads or 4) % kv_heads:
        raise LlmarchError(f"--kv-heads {kv_heads} must divide --heads {heads or 4}",
                           "each KV head serves an equal group of query heads")
    if name == "rope" and head_dim % 2:
        raise LlmarchError(f"--head-dim must be even for RoPE pairs, got {head_dim}")
    if name == "moe" and top_k > experts:
        raise LlmarchError(f"--top-k {top_k} exceeds --experts {experts}")
    if name == "moe" and routing not in ROUTINGS:
        raise LlmarchError(f"unknown routing {routing!r}", f"choose one of {', '.join(ROUTINGS)}")
    if name == "lora" and rank > dim:
        raise LlmarchError(f"--rank {rank} exceeds --dim {dim}")


def kernel(
    name: Annotated[str, typer.Argument(metavar="NAME", autocompletion=complete_kernel,
                                        help=f"One of: {', '.join(KERNELS)}.", show_default=False)],
    length: Annotated[int | None, typer.Option("--len", "-n", show_default=False, help="Sequence "
                                               "length (attention, rope, alibi: 8); tokens (moe: 8); "
                                               "grid points (activation: 9).")] = None,
    heads: Annotated[int | None, typer.Option("--heads", show_default=False,
                                              help="Query heads (attention: 4, alibi: 8).")] = None,
    kv_heads: Annotated[int, typer.Option("--kv-heads", help="Key/value heads (attention).")] = 2,
    window: Annotated[int, typer.Option("--window", help="Sliding window: keys per query, "
                                        "itself included (attention).")] = 3,
    sinks: Annotated[float, typer.Option("--sinks", help="Sink logit of every head (attention).")] = 0.0,
    head_dim: Annotated[int, typer.Option("--head-dim", help="Head dimension (rope).")] = 16,
    theta: Annotated[float, typer.Option("--theta", help="RoPE base (rope).")] = 10000.0,
    dim: Annotated[int, typer.Option("--dim", help="Vector size (norm: 8); matrix side "
                                     "(lora: 64, quant: 256).", show_default=False)] = 0,
    experts: Annotated[int, typer.Option("--experts", help="Experts (moe).")] = 8,
    top_k: Annotated[int, typer.Option("--top-k", help="Experts per token (moe).")] = 2,
    routing: Annotated[str, typer.Option("--routing", help=f"moe routing: {', '.join(ROUTINGS)}.")]
        = "softmax_topk_renorm",
    rank: Annotated[int, typer.Option("--rank", help="LoRA rank (lora).")] = 8,
    alpha: Annotated[float, typer.Option("--alpha", help="LoRA alpha (lora).")] = 16.0,
    group_size: Annotated[int, typer.Option("--group-size", help="Values per scale (quant).")] = 64,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the inputs.")] = 0,
    fmt: FormatOpt = Format.auto,
    output: OutputOpt = None,
    no_color: NoColorOpt = False,
) -> None:
    """Run one kernel on a small seeded input and show what it does.

    attention: masks and weights for causal, sliding-window and sink attention, GQA groups.

    rope: angles per dimension pair; q.k depends only on the relative position.

    alibi: slopes (non power-of-two head counts too) and the bias matrix.

    norm: LayerNorm vs RMSNorm on one vector. activation: ReLU, GELU, SiLU, SwiGLU side by side.

    moe: routing table and expert load. lora: merged equals unmerged. quant: error per format.

    The table format draws heatmaps and bars; --json carries every number.
    """
    name = name.lower()
    length = length if length is not None else (9 if name == "activation" else 8)
    dim = dim or {"norm": 8, "lora": 64, "quant": 256}.get(name, 1)
    _check(name, length, heads, kv_heads, window, head_dim, experts, top_k, routing, rank, dim,
           group_size)

    from llmarch_cli.kernels import demo as d

    if name == "attention":
        result = d.attention_demo(length, heads or 4, kv_heads, window, sinks, seed=seed)
    elif name == "rope":
        result = d.rope_demo(length, head_dim, theta, seed=seed)
    elif name == "alibi":
        result = d.alibi_demo(heads or 8, length)
    elif name == "norm":
        result = d.norm_demo(dim, 1e-5, seed=seed)
    elif name == "activation":
        result = d.activation_demo(length)
    elif name == "moe":
        result = d.moe_demo(length, experts, top_k, routing, seed=seed)
    elif name == "lora":
        result = d.lora_demo(dim, dim, rank, alpha, seed=seed)
    else:
        result = d.quant_demo(dim, dim, group_size, seed=seed)

    from llmarch_cli.render.output import emit, render_table, resolve_format, write_text

    concrete = resolve_format(fmt, output)
    if concrete == "json":
        emit(result.data, "json", output=output)
    elif concrete == "table":
        import sys

        from llmarch_cli.render.charts import render_views
        from llmarch_cli.render.formats import header
        from llmarch_cli.render.tables import rows_table

        table = rows_table(result.rows, {k: header(k) for k in result.rows[0]})
        terminal = output is None and sys.stdout.isatty()
        write_text(render_table(render_views(result.views, title=result.title, table=table), terminal),
                   output)
    else:
        emit(result.rows, concrete, title=result.title, output=output)
