"""``llmarch kernel NAME``: one building block on a small seeded input, drawn in the terminal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer

from llmarch_cli.cli.options import Format, FormatOpt, NoColorOpt, OutputOpt

EXAMPLES = (  # shown under --help
    "llmarch kernel attention --heads 6 --kv-heads 2 --window 3",
    "llmarch kernel rope --len 16",
    "llmarch kernel quant -f tsv",
    "llmarch kernel alibi --heads 6 --json | jq -c .slopes",
    "llmarch kernel mla --heads 8 --len 6",
)

KERNELS = ("attention", "rope", "alibi", "norm", "activation", "moe", "lora", "quant", "mla")
MAX_SIZE = 4096  # any size option above this is a typo, not a demo
FLOAT32_MAX = 3.4028234663852886e38
MAX_LEN = 256  # attention, rope and alibi print T x T matrices
DIMS = {"norm": 8, "lora": 64, "quant": 256}  # default --dim per kernel


def complete_kernel(incomplete: str) -> list[str]:
    return [name for name in KERNELS if name.startswith(incomplete)]


def complete_routing(incomplete: str) -> list[str]:
    from llmarch_cli.specs.model import ROUTINGS

    return [name for name in ROUTINGS if name.startswith(incomplete)]


def _size(*flags: str, text: str):
    """An int option in 1..MAX_SIZE: Typer rejects anything else with exit 2."""
    return typer.Option(*flags, min=1, max=MAX_SIZE, help=text, show_default=False)


@dataclass(frozen=True)
class _Options:
    """The options after each kernel's defaults; every size is already in 1..MAX_SIZE."""

    name: str
    length: int
    heads: int
    kv_heads: int
    head_dim: int
    dim: int
    experts: int
    top_k: int
    routing: str
    rank: int

    def check(self) -> None:
        """The constraints between options; LlmarchError (exit 2) on the first broken one."""
        from llmarch_cli.errors import LlmarchError
        from llmarch_cli.specs.model import ROUTINGS

        name = self.name
        if name in ("attention", "rope", "alibi", "mla") and self.length > MAX_LEN:
            raise LlmarchError(f"--len {self.length} is too large for {name} (at most {MAX_LEN})")
        if name == "attention" and self.heads % self.kv_heads:
            raise LlmarchError(f"--kv-heads {self.kv_heads} must divide --heads {self.heads}",
                               "each KV head serves an equal group of query heads")
        if name == "rope" and self.head_dim % 2:
            raise LlmarchError(f"--head-dim must be even for RoPE pairs, got {self.head_dim}")
        if name == "moe" and self.top_k > self.experts:
            raise LlmarchError(f"--top-k {self.top_k} exceeds --experts {self.experts}")
        if name == "moe" and self.routing not in ROUTINGS:
            raise LlmarchError(f"unknown routing {self.routing!r}", f"choose one of {', '.join(ROUTINGS)}")
        if name == "lora" and self.rank > self.dim:
            raise LlmarchError(f"--rank {self.rank} exceeds --dim {self.dim}")


def kernel(
    name: Annotated[str, typer.Argument(metavar="NAME", autocompletion=complete_kernel,
                                        help=f"One of: {', '.join(KERNELS)}.", show_default=False)],
    length: Annotated[int | None, _size("--len", "-n", text="Sequence length (attention, rope, "
                                       "alibi, mla: 8); tokens (moe: 8); grid points (activation: 9).")] = None,
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
                                              "names it; a wrong name lists the valid ones.")]
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
    from llmarch_cli.errors import LlmarchError

    name = name.lower()
    if name not in KERNELS:
        raise LlmarchError(f"unknown kernel {name!r}", f"choose one of {', '.join(KERNELS)}")
    for flag, value in (("--sinks", sinks), ("--theta", theta), ("--alpha", alpha)):
        if not abs(value) <= FLOAT32_MAX:  # nan and inf fail too: the demos compute in float32
            raise LlmarchError(f"{flag} must be a finite float32 number, got {value:g}")
    o = _Options(
        name=name, length=length if length is not None else (9 if name == "activation" else 8),
        heads=heads if heads is not None else (8 if name == "alibi" else 4), kv_heads=kv_heads,
        head_dim=head_dim, dim=dim if dim is not None else DIMS.get(name, 1), experts=experts,
        top_k=top_k, routing=routing, rank=rank,
    )
    o.check()

    from llmarch_cli.kernels import demo as d

    if name == "attention":
        result = d.attention_demo(o.length, o.heads, kv_heads, window, sinks, seed=seed)
    elif name == "rope":
        result = d.rope_demo(o.length, head_dim, theta, seed=seed)
    elif name == "alibi":
        result = d.alibi_demo(o.heads, o.length)
    elif name == "norm":
        result = d.norm_demo(o.dim, 1e-5, seed=seed)
    elif name == "activation":
        result = d.activation_demo(o.length)
    elif name == "moe":
        result = d.moe_demo(o.length, experts, top_k, routing, seed=seed)
    elif name == "lora":
        result = d.lora_demo(o.dim, o.dim, rank, alpha, seed=seed)
    elif name == "quant":
        result = d.quant_demo(o.dim, o.dim, group_size, seed=seed)
    else:
        result = d.mla_demo(o.length, o.heads, seed=seed)

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
