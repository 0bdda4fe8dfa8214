"""``llmarch kernel NAME``: one building block on a small seeded input, drawn in the terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from llmarch_cli.cli.options import Format, FormatOpt, NoColorOpt, OutputOpt
from llmarch_cli.kernels.results import KERNELS

EXAMPLES = (  # shown under --help
    "llmarch kernel attention --heads 6 --kv-heads 2 --window 3",
    "llmarch kernel rope --len 16",
    "llmarch kernel quant -f tsv",
    "llmarch kernel alibi --heads 6 --json | jq -c .slopes",
    "llmarch kernel mla --heads 8 --len 6",
)

RESULT = ("llmarch_cli.kernels.results", "KernelFigures", "one")  # `llmarch schema kernel`
MAX_SIZE = 4096  # any size option above this is a typo, not a demo


def complete_kernel(incomplete: str) -> list[str]:
    return [name for name in KERNELS if name.startswith(incomplete)]


def complete_routing(incomplete: str) -> list[str]:
    from llmarch_cli.specs.model import TOKEN_ROUTINGS

    return [name for name in TOKEN_ROUTINGS if name.startswith(incomplete)]


def _size(*flags: str, text: str):
    """An int option in 1..MAX_SIZE: Typer rejects anything else with exit 2."""
    return typer.Option(*flags, min=1, max=MAX_SIZE, help=text, show_default=False)


def kernel(
    name: Annotated[str, typer.Argument(metavar="NAME", autocompletion=complete_kernel,
                                        help=f"One of: {', '.join(KERNELS)}.", show_default=False)],
    length: Annotated[int | None, _size("--len", "-n", text="Sequence length (attention, rope, mla, "
                                       "alibi: 8); tokens (moe: 8); grid points (activation: 9).")] = None,
    heads: Annotated[int | None, _size("--heads", text="Query heads (attention, mla: 4; alibi: 8).")] = None,
    kv_heads: Annotated[int, _size("--kv-heads", text="Key/value heads (attention: 2).")] = 2,
    window: Annotated[int, _size("--window", text="Sliding window: keys per query, itself "
                                "included (attention: 3).")] = 3,
    sinks: Annotated[float, typer.Option("--sinks", help="Sink logit of every head (attention).")] = 0.0,
    head_dim: Annotated[int, _size("--head-dim", text="Head dimension (rope: 16).")] = 16,
    theta: Annotated[float, typer.Option("--theta", help="RoPE base (rope).")] = 10000.0,
    dim: Annotated[int | None, _size("--dim", text="Vector size (norm: 8); matrix side "
                                    "(lora: 64, quant: 256).")] = None,
    experts: Annotated[int, _size("--experts", text="Experts (moe: 8).")] = 8,
    top_k: Annotated[int, _size("--top-k", text="Experts per token (moe: 2).")] = 2,
    routing: Annotated[str, typer.Option("--routing", autocompletion=complete_routing,
                                         help="Routing order (moe), as a spec's moe.routing "
                                              "names it (those without expert groups); a "
                                              "wrong name lists the valid ones.")]
        = "softmax_topk_renorm",
    rank: Annotated[int, _size("--rank", text="LoRA rank (lora: 8).")] = 8,
    alpha: Annotated[float, typer.Option("--alpha", help="LoRA alpha (lora).")] = 16.0,
    group_size: Annotated[int, _size("--group-size", text="Values per scale (quant: 64).")] = 64,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed of the inputs.")] = 0,
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

    mla: DeepSeek's latent attention naive and absorbed: same output, the shapes, and the cache
    each keeps per token.

    The table format draws heatmaps and bars; --json carries every number.
    """
    from llmarch_cli.kernels.demo import DemoOptions, run_demo
    from llmarch_cli.render.output import emit
    from llmarch_cli.render.views import kernel_view

    options = DemoOptions(
        name=name.lower(), length=length, heads=heads, kv_heads=kv_heads, window=window,
        sinks=sinks, head_dim=head_dim, theta=theta, dim=dim, experts=experts, top_k=top_k,
        routing=routing, rank=rank, alpha=alpha, group_size=group_size, seed=seed)
    emit(kernel_view(run_demo(options)), fmt, output)
