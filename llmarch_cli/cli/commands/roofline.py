"""``llmarch roofline MODEL --gpu NAME[xN]``: prefill time and decode speed from a roofline."""

from __future__ import annotations

from typing import Annotated

import typer

from llmarch_cli.cli.options import ExplainOpt, ModelArg, Outputs, WhatIfs, shared

RESULT = ("llmarch_cli.analysis.compute_results", "RooflineResult", "one")  # `llmarch schema`
EXAMPLES = (  # shown under --help
    "llmarch roofline llama-3-8b --gpu h100",
    "llmarch roofline llama-3-70b --gpu h100x4 --batch 32 -c 8k",
    "llmarch roofline mixtral --gpu mi300x --quant fp8 --kv-dtype fp8 --explain",
    "llmarch roofline llama-2-7b --gpu a100 --json | jq .decode_tokens_per_s",
)


@shared
def roofline(
    model: ModelArg,
    gpu: Annotated[str, typer.Option(
        "--gpu", "-g", metavar="NAME[xN]", show_default=False,
        help="GPU preset and count: h100, h100x8, mi300x, m4-max (see 'llmarch fit --help').")],
    tp: Annotated[int | None, typer.Option(
        "--tp", metavar="N", show_default=False,
        help="Tensor-parallel GPUs per replica; default all of them. The rest serve replicas.")] = None,
    batch: Annotated[str, typer.Option(
        "--batch", "-b", metavar="B", help="Sequences decoded together per replica.")] = "1",
    context: Annotated[str, typer.Option(
        "--context", "-c", metavar="N", help="Tokens per sequence (the prompt, and the KV read per step).")] = "4k",
    quant: Annotated[str, typer.Option(
        "--quant", help="Weight format: bf16, fp16, fp8, int8, int4, nf4, q8_0, q4_k_m, ...")] = "bf16",
    kv: Annotated[str, typer.Option(
        "--kv-dtype", help="KV cache dtype: fp16, bf16, fp8, int8, int4, fp32.")] = "fp16",
    bandwidth_efficiency: Annotated[float, typer.Option(
        "--bandwidth-efficiency", metavar="F",
        help="Share of peak bandwidth reached, in (0, 1].")] = 0.7,
    compute_efficiency: Annotated[float, typer.Option(
        "--compute-efficiency", metavar="F",
        help="Share of peak FLOP/s reached, in (0, 1].")] = 0.5,
    change: WhatIfs = None,
    explain: ExplainOpt = False,
    out: Outputs = None,
) -> None:
    """Prefill time, time to first token and decode tokens/s of MODEL on GPUs, from a roofline.

    A decode step reads the active weights (MoE: the experts the batch is expected to touch)
    and the KV cache, and computes batch x FLOPs per token; it takes the longer of bytes over
    bandwidth and FLOPs over peak, each scaled by its efficiency (defaults 0.7 and 0.5).
    Also: which bound applies, arithmetic intensity against the ridge point, and the batch at
    which decode turns compute-bound. Communication between GPUs is not modelled.
    """
    from llmarch_cli.analysis.hardware import resolve_gpu
    from llmarch_cli.analysis.roofline import roofline as compute
    from llmarch_cli.cli.options import report_notes, resolve
    from llmarch_cli.cli.sizes import parse_count
    from llmarch_cli.render.compute import roofline_view
    from llmarch_cli.render.output import emit, note
    from llmarch_cli.render.units import format_bytes

    device, count = resolve_gpu(gpu)
    resolved = resolve(model, change)
    result = compute(resolved.spec, device, gpus=count, tp=tp, batch=parse_count(batch, "--batch"),
                     context=parse_count(context, "--context"), quant=quant, kv=kv,
                     bandwidth_efficiency=bandwidth_efficiency, compute_efficiency=compute_efficiency)
    if not result.fits_memory:
        note(f"note: {result.model} needs {format_bytes(result.memory_bytes_per_gpu)} per GPU here; "
             f"{device.id} holds {format_bytes(device.memory_bytes)} (speeds assume it fits)")
    emit(roofline_view(result, explain), *out)
    report_notes([resolved])
