"""Position-wise feed-forward blocks: plain, gated (SwiGLU, GeGLU) and gpt-oss's clamped SwiGLU.

Weights are stored ``[in, out]`` and applied as ``x @ w + b`` (picoGPT's layout; a
``torch.nn.Linear`` weight ``[out, in]`` is passed transposed, ``w.T``, a free view).
``x`` is ``[T, H]``; the inner width is ``I``.
"""

from __future__ import annotations

import numpy as np

from llmarch_cli.kernels import counting
from llmarch_cli.kernels.activations import ACTIVATIONS, sigmoid


def linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """x @ w + b: [..., in] @ [in, out] -> [..., out]."""
    y = x @ w  # [..., out]
    if counting.ACTIVE is not None:
        counting.add_matmul(x, w)
    return y if b is None else y + b


def plain_ffn(
    x: np.ndarray,
    w_up: np.ndarray,
    w_down: np.ndarray,
    activation: str,
    b_up: np.ndarray | None = None,
    b_down: np.ndarray | None = None,
) -> np.ndarray:
    """down(act(up(x))): [T, H] -> [T, I] -> [T, H] (GPT-2, BERT, NeoX, BLOOM, T5 v1.0)."""
    h = ACTIVATIONS[activation](linear(x, w_up, b_up))  # [T, I]
    return linear(h, w_down, b_down)  # [T, H]


def glu(gate: np.ndarray, up: np.ndarray, activation: str) -> np.ndarray:
    """act(gate) * up: SwiGLU with silu, GeGLU with gelu. [..., I] x2 -> [..., I]."""
    return ACTIVATIONS[activation](gate) * up


def gated_ffn(
    x: np.ndarray,
    w_gate_up: np.ndarray,
    w_down: np.ndarray,
    activation: str,
    b_gate_up: np.ndarray | None = None,
    b_down: np.ndarray | None = None,
) -> np.ndarray:
    """down(act(gate(x)) * up(x)) with gate and up as one matrix [H, gate | up] (one product
    instead of two): [T, H] -> [T, 2I] -> [T, I] -> [T, H] (Llama, Mistral, Qwen2, experts)."""
    gate_up = linear(x, w_gate_up, b_gate_up)  # [T, 2I]
    i = gate_up.shape[-1] // 2
    return linear(glu(gate_up[..., :i], gate_up[..., i:], activation), w_down, b_down)  # [T, H]


def clamped_swiglu(gate: np.ndarray, up: np.ndarray, *, limit: float, alpha: float) -> np.ndarray:
    """gpt-oss: g = min(gate, limit), u = clip(up, -limit, limit), (u + 1) * g * sigmoid(alpha g).

    The gate has no lower clamp; the +1 lets the linear branch pass the gate through at u = 0.
    [..., I] x2 -> [..., I].
    """
    g = np.minimum(gate, limit)  # [..., I]
    u = np.clip(up, -limit, limit)  # [..., I]
    return ((u + 1) * (g * sigmoid(alpha * g))).astype(gate.dtype, copy=False)
