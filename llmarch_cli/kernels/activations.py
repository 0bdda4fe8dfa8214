"""Element-wise activations, softmax and an accurate vectorised erf.

Every function takes an array of any shape and returns the same shape in the input's
floating dtype (float32 unless the caller chose otherwise). ``ACTIVATIONS`` maps the spec
names of ``specs.model.Activation`` to these functions.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

_SQRT_PI = math.sqrt(math.pi)
_ERF_SERIES_TERMS = 25  # Taylor terms used below |x| = 2: truncation error < 1e-12
_ERF_FRACTION_DEPTH = 40  # continued-fraction depth used from |x| = 2: error < 1e-12
_ERF_SPLIT = 2.0


def _float(x: np.ndarray) -> np.ndarray:
    """``x`` as a floating array: float inputs keep their dtype, anything else becomes float32."""
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float32)


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, absolute error < 1e-11 (numpy has none; scipy is not a dependency).

    Evaluated in float64 and returned in the input's dtype: the Maclaurin series
    2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)) below |x| = 2, and above it
    erfc(x) = exp(-x^2) / sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))).
    """
    x = _float(x)
    a = np.abs(x.astype(np.float64))  # [...] float64
    out = np.empty_like(a)  # [...]
    near = a < _ERF_SPLIT  # [...] bool
    s = a[near]  # [n] |x| below the split
    z = s * s
    term, total = s.copy(), s.copy()
    for n in range(1, _ERF_SERIES_TERMS):
        term *= -z / n  # (-1)^n x^(2n+1) / n!
        total += term / (2 * n + 1)
    out[near] = total * (2 / _SQRT_PI)
    b = a[~near]  # [m] |x| at or above the split
    frac = b.copy()
    for k in range(_ERF_FRACTION_DEPTH, 0, -1):
        frac = b + (k / 2) / frac  # evaluated from the tail up
    out[~near] = 1.0 - np.exp(-b * b) / (_SQRT_PI * frac)
    return np.copysign(out, x).astype(x.dtype)  # erf is odd


def _one_plus_exp_neg(x: np.ndarray) -> np.ndarray:
    """1 + e^-x in a new array; e^-x overflowing to inf (x < -88 in float32) is harmless for
    the divisions below, which then give 0 (or -0) instead of a value below 1e-38."""
    t = np.negative(x)
    with np.errstate(over="ignore"):
        np.exp(t, out=t)
    t += 1
    return t


def sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-x): no NaN at any |x|, relative error of float32 rounding."""
    x = _float(x)
    t = _one_plus_exp_neg(x)
    return np.reciprocal(t, out=t)


def relu(x: np.ndarray) -> np.ndarray:
    """max(x, 0)."""
    x = _float(x)
    return np.maximum(x, 0).astype(x.dtype)


def gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2))) (transformers' ``gelu``)."""
    x = _float(x)
    return (0.5 * x * (1 + erf(x / np.sqrt(2).astype(x.dtype)))).astype(x.dtype)


def gelu_tanh(x: np.ndarray) -> np.ndarray:
    """Tanh GELU, 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (``gelu_new``, ``gelu_pytorch_tanh``)."""
    x = _float(x)
    c = np.asarray(math.sqrt(2 / math.pi), dtype=x.dtype)
    return (0.5 * x * (1 + np.tanh(c * (x + 0.044715 * x * x * x)))).astype(x.dtype)


def quick_gelu(x: np.ndarray) -> np.ndarray:
    """x * sigmoid(1.702 x) (CLIP's ``quick_gelu``)."""
    x = _float(x)
    return (x * sigmoid(1.702 * x)).astype(x.dtype)


def silu(x: np.ndarray) -> np.ndarray:
    """SiLU / Swish with beta 1: x * sigmoid(x), computed as x / (1 + e^-x)."""
    x = _float(x)
    t = _one_plus_exp_neg(x)
    return np.divide(x, t, out=t)


ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "relu": relu,
    "gelu": gelu,
    "gelu_tanh": gelu_tanh,
    "quick_gelu": quick_gelu,
    "silu": silu,
}


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """exp(x - max) / sum exp(x - max) along ``axis``; rows sum to 1."""
    x = _float(x)
    e = x - x.max(axis=axis, keepdims=True)  # [...] <= 0
    np.exp(e, out=e)  # [...] in (0, 1]
    e /= e.sum(axis=axis, keepdims=True)
    return e
