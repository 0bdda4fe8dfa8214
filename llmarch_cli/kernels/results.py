"""The result of ``llmarch kernel``: what one demonstration computed, and how to draw it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

KERNELS = ("attention", "rope", "alibi", "norm", "activation", "moe", "lora", "quant", "mla")


class KernelResult(BaseModel):
    """One kernel run on a small seeded input.

    ``data``: every number the kernel produced (the JSON output; its keys depend on the
    kernel); ``rows``: the summary table, one flat row per case (csv/tsv/jsonl); ``views``:
    pictures for a terminal, each a dict with ``kind`` heatmap, bars or table.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)

    kernel: str
    title: str
    data: dict[str, Any]
    rows: list[dict[str, Any]]
    views: list[dict[str, Any]] = []
