"""Pydantic result models of ``params``: its JSON schema, apart from the other analyses' so that
``params`` builds only the two classes it emits (start-up, docs/performance.md).

Counts are exact integers (parameters).
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict

Stack = Literal["model", "encoder", "decoder"]


class _Result(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class ParamGroup(_Result):
    """One component of one stack: ``per_layer`` parameters repeated over ``layers``."""

    stack: Stack
    component: str
    per_layer: int
    layers: int
    total: int


class ParamsResult(_Result):
    """Exact parameter counts of one spec (tied weights counted once).

    ``active_params`` is what one token uses (equal to ``total_params`` for dense models);
    ``embedding_params`` = token + learned position + token-type embeddings;
    ``lm_head_params`` = the untied output projection (0 when tied);
    ``non_embedding_params`` = total - embedding - lm_head.
    """

    model: str
    total_params: int
    active_params: int
    embedding_params: int
    lm_head_params: int
    non_embedding_params: int
    breakdown: list[ParamGroup]
