"""Multiply-add counting for the FLOP cross-check: kernels report what they multiply.

Off by default: a kernel pays one module-attribute test (``ACTIVE is None``) per call.
Inside ``with counting() as tally:`` ``linear`` adds rows x in x out and attention adds
(allowed query-key pairs) x (qk + v head dims), the multiply-adds a kernel that skips masked
scores performs. ``tally.flops`` is twice the multiply-adds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np


@dataclass
class Tally:
    macs: int = 0

    @property
    def flops(self) -> int:
        return 2 * self.macs


ACTIVE: Tally | None = None


@contextmanager
def counting() -> Iterator[Tally]:
    """Count every multiply-add the kernels perform inside the block."""
    global ACTIVE
    outer, ACTIVE = ACTIVE, Tally()
    try:
        yield ACTIVE
    finally:
        ACTIVE = outer


def add_matmul(x: np.ndarray, w: np.ndarray) -> None:
    """x [..., in] @ w [in, out]: rows x in x out multiply-adds."""
    ACTIVE.macs += (x.size // x.shape[-1]) * w.size


def add_attention(heads: int, qk_dim: int, v_dim: int, allowed: np.ndarray | int) -> None:
    """Q·K^T and P·V over the allowed pairs: a bool mask, a float score bias (masked entries
    hold the most negative float), or a count of pairs per head."""
    if isinstance(allowed, np.ndarray):
        keep = allowed if allowed.dtype == bool else allowed > np.finfo(allowed.dtype).min / 2
        pairs = int(np.count_nonzero(keep)) * (heads if keep.ndim < 3 or keep.shape[0] == 1 else 1)
    else:
        pairs = allowed * heads
    ACTIVE.macs += pairs * (qk_dim + v_dim)
