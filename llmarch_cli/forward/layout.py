"""The runnable model's weights: every tensor of ``specs.inventory`` under a forward key.

Keys are ``{stack}.{name}`` for a tensor held once and ``{stack}.{layer}.{name}`` per layer,
with the inventory's stack ("model" for decoder-only and encoder-only models and for the
shared embedding and head; "encoder"/"decoder") and canonical name (``model.embed.weight``,
``decoder.3.cross.q.weight``, ``encoder.0.attn.relative_bias.weight``).

Shapes are the inventory's, except matrices that multiply activations, which are stored
``[in, out]`` (routed experts ``[E, in, out]``) and applied as ``x @ W + b``: a fused qkv is
``[H, q | k | v]`` column blocks and experts' ``gate_up`` ``[E, H, gate | up]`` halves.
"""

from __future__ import annotations

from collections.abc import Iterator

from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.inventory import Weight, inventory
from llmarch_cli.specs.model import ArchSpec

Shapes = dict[str, tuple[int, ...]]


def stacks(spec: ArchSpec) -> list[tuple[str, str, int]]:
    """(stack, label, layer count) in run order; the label ('dec' causal, 'enc') names it in traces."""
    if spec.architecture == "encoder-decoder":
        return [("encoder", "enc", spec.num_layers),
                ("decoder", "dec", spec.num_decoder_layers or spec.num_layers)]
    return [("model", "dec" if spec.architecture == "decoder" else "enc", spec.num_layers)]


def check_supported(spec: ArchSpec) -> None:
    """LlmarchError for spec features the forward pass does not implement."""
    a, moe = spec.attention, spec.moe
    unsupported = {
        f"QK-norm {a.qk_norm!r}": a.qk_norm == "heads",
        "Mamba layers": "mamba" in spec.layer_kinds(),
        "residual scaling": spec.residual_scale is not None,
        "plain (ungated) experts": moe is not None and spec.ffn.kind != "gated",
    }
    missing = [name for name, used in unsupported.items() if used]
    if missing:
        raise LlmarchError(f"{spec.id}: forward does not implement {', '.join(missing)} yet")


def is_moe_layer(spec: ArchSpec, layer: int) -> bool:
    return spec.moe is not None and layer not in spec.moe.dense_layers


def forward_shape(w: Weight) -> tuple[int, ...]:
    """``w``'s shape in the forward pass: ``[in, out]`` for a matrix applied to activations."""
    if w.in_out is None or w.role == "embedding":
        return w.shape
    return (w.experts, *w.in_out) if w.experts else w.in_out


def entries(spec: ArchSpec) -> Iterator[tuple[str, Weight, int | None]]:
    """(forward key, inventory entry, layer or None) of every tensor, in inventory order."""
    for w in inventory(spec):
        if w.layers is None:
            yield f"{w.stack}.{w.name}", w, None
        else:
            for layer in w.layers:
                yield f"{w.stack}.{layer}.{w.name}", w, layer


def model_shapes(spec: ArchSpec) -> Shapes:
    """Every forward tensor of the model with its shape."""
    check_supported(spec)
    return {key: forward_shape(w) for key, w, _ in entries(spec)}
