"""Mixture-of-experts routing and dispatch.

``router_logits`` ``[T, E]`` are ``x @ W_router + b`` (bias included by the caller when the
model has one). Routing orders, as ``specs.model.MoE.routing`` names them:

- ``softmax_topk_renorm`` (Mixtral): softmax over all E, keep the top k, renormalise to 1;
- ``topk_softmax`` (gpt-oss): top k of the raw logits, softmax over those k only;
- ``softmax_topk`` (Qwen2-MoE without ``norm_topk_prob``): softmax over all E, top k, no renorm;
- ``sigmoid_topk`` (Llama 4): top k of the raw logits, a sigmoid of each (Llama 4 scales the
  expert's input by it: ``moe_dispatch(..., scale_input=True)``).

The first two are the same function of the logits; the third sums to less than 1.
Group-limited selection (experts in ``G`` equal groups; a token may only pick experts of its
best ``g`` groups) comes in DeepSeek-V3's form, ``sigmoid_group_route``, and DeepSeek-V2's,
``softmax_group_route``; both also return the groups each token was allowed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from llmarch_cli.kernels.activations import softmax
from llmarch_cli.specs.model import TOKEN_ROUTINGS


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Largest k per row, descending; ties go to the lower expert id -> (ids [T, k], values [T, k])."""
    ids = np.argsort(-scores, axis=-1, kind="stable")[:, :k]  # [T, k]
    return ids, np.take_along_axis(scores, ids, axis=-1)


def route(router_logits: np.ndarray, top_k_experts: int, routing: str) -> tuple[np.ndarray, np.ndarray]:
    """Pick experts per token by one of ``TOKEN_ROUTINGS`` -> (expert_ids [T, k] int64,
    weights [T, k] float32)."""
    logits = np.asarray(router_logits, dtype=np.float32)  # [T, E], routing in fp32
    if not 0 < top_k_experts <= logits.shape[-1]:
        raise ValueError(f"top_k ({top_k_experts}) must lie in 1..{logits.shape[-1]}")
    if routing not in TOKEN_ROUTINGS:
        raise ValueError(f"routing must be one of {', '.join(TOKEN_ROUTINGS)}, got {routing!r} "
                         "(group-limited routing: sigmoid_group_route, softmax_group_route)")
    if routing == "topk_softmax":
        ids, top_logits = top_k(logits, top_k_experts)  # [T, k]
        return ids, softmax(top_logits, axis=-1)
    if routing == "sigmoid_topk":
        ids, top_logits = top_k(logits, top_k_experts)  # [T, k]
        return ids, (1 / (1 + np.exp(-top_logits))).astype(np.float32)
    ids, probs = top_k(softmax(logits, axis=-1), top_k_experts)  # [T, k]
    if routing == "softmax_topk_renorm":
        probs = probs / probs.sum(axis=-1, keepdims=True)
    return ids, probs


def best_groups(choice: np.ndarray, num_groups: int, topk_groups: int,
                per_group: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Group-limited selection: experts form ``num_groups`` equal groups; a group's score is the
    sum of its ``per_group`` best choice scores (None: its single best, the max) -> (groups
    [T, g] best first, allowed [T, E] bool: the experts of those groups)."""
    T, E = choice.shape
    grouped = np.sort(choice.reshape(T, num_groups, E // num_groups), axis=-1)  # [T, G, E/G]
    group_scores = grouped[..., -1] if per_group is None else grouped[..., -per_group:].sum(-1)
    groups, _ = top_k(group_scores, topk_groups)  # [T, g]
    allowed = np.zeros((T, num_groups), dtype=bool)
    np.put_along_axis(allowed, groups, True, axis=-1)
    return groups, np.repeat(allowed, E // num_groups, axis=-1)  # [T, g], [T, E]


def sigmoid_group_route(router_logits: np.ndarray, top_k_experts: int, num_groups: int,
                        topk_groups: int, correction_bias: np.ndarray | None = None,
                        normalize: bool = True, scaling: float = 1.0
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DeepSeek-V3's routing (``noaux_tc``) -> (expert_ids [T, k], weights [T, k], groups [T, g]).

    Scores are sigmoid(logits) [T, E]; selection uses scores + ``correction_bias`` [E] (the
    auxiliary-loss-free balancing term), the weights use the scores without it. A group's score
    is the sum of its two best biased scores; only the ``topk_groups`` best groups may
    contribute the top k. Weights are renormalised to sum to 1 when ``normalize``
    (``norm_topk_prob``), then multiplied by ``scaling`` (``routed_scaling_factor``).
    """
    scores = 1 / (1 + np.exp(-np.asarray(router_logits, dtype=np.float32)))  # [T, E]
    choice = scores if correction_bias is None else scores + correction_bias  # [T, E]
    groups, allowed = best_groups(choice, num_groups, topk_groups, per_group=2)
    ids, _ = top_k(np.where(allowed, choice, -np.inf), top_k_experts)  # [T, k]
    weights = np.take_along_axis(scores, ids, axis=-1)  # [T, k]
    if normalize:
        weights = weights / (weights.sum(-1, keepdims=True) + np.float32(1e-20))
    return ids, (weights * np.float32(scaling)).astype(np.float32), groups


def softmax_group_route(router_logits: np.ndarray, top_k_experts: int, num_groups: int,
                        topk_groups: int, scaling: float = 1.0
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DeepSeek-V2's ``group_limited_greedy`` -> (expert_ids [T, k], weights [T, k], groups [T, g]).

    Scores are softmax(logits) over all E; a group's score is its best expert's score; experts
    outside the ``topk_groups`` best groups score 0; the top k scores, not renormalised, times
    ``scaling`` are the weights.
    """
    scores = softmax(np.asarray(router_logits, dtype=np.float32), axis=-1)  # [T, E]
    groups, allowed = best_groups(scores, num_groups, topk_groups, per_group=None)
    ids, weights = top_k(np.where(allowed, scores, np.float32(0)), top_k_experts)  # [T, k]
    return ids, (weights * np.float32(scaling)).astype(np.float32), groups


def moe_dispatch(
    x: np.ndarray,
    expert_ids: np.ndarray,
    weights: np.ndarray,
    expert: Callable[[int, np.ndarray], np.ndarray],
    num_experts: int,
    *,
    scale_input: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """sum_k weights[t, k] * expert(ids[t, k], x[t]) -> (out [T, H], load [E] int64); with
    ``scale_input`` (Llama 4) sum_k expert(ids[t, k], weights[t, k] * x[t]) instead.

    Each expert runs once on the tokens routed to it: expert(e, x_e [n_e, H]) -> [n_e, H].
    The (token, slot) assignments are sorted by expert once; a token picks an expert at most
    once, so each expert's tokens are distinct and its output adds in place without
    ``np.add.at``. load[e] counts the assignments of expert e; it sums to T * k.
    """
    k = expert_ids.shape[-1]
    flat = expert_ids.ravel()  # [T*k], assignment a = t*k + slot
    order = np.argsort(flat, kind="stable")  # [T*k] assignments grouped by expert
    load = np.bincount(flat, minlength=num_experts).astype(np.int64)  # [E]
    ends = np.cumsum(load)  # [E]
    mix = weights.ravel().astype(x.dtype, copy=False)  # [T*k]
    out = np.zeros_like(x)  # [T, H]
    for e in np.flatnonzero(load):
        chosen = order[ends[e] - load[e]:ends[e]]  # [n_e] assignments of expert e
        tokens = chosen // k  # [n_e], distinct
        if scale_input:
            out[tokens] += expert(int(e), x[tokens] * mix[chosen][:, None])  # [n_e, H]
        else:
            out[tokens] += expert(int(e), x[tokens]) * mix[chosen][:, None]  # [n_e, H]
    return out, load


def load_balancing_loss(router_logits: np.ndarray, expert_ids: np.ndarray) -> float:
    """Switch Transformer auxiliary loss E * sum_e f_e * P_e; 1.0 when perfectly balanced.

    f_e: fraction of (token, slot) assignments going to expert e; P_e: mean router
    probability of e over tokens (softmax over all E). router_logits [T, E], expert_ids [T, k].
    """
    E = router_logits.shape[-1]
    f = np.bincount(expert_ids.ravel(), minlength=E) / expert_ids.size  # [E], sums to 1
    p = softmax(np.asarray(router_logits, np.float32), axis=-1).mean(axis=0)  # [E], sums to 1
    return float(E * np.sum(f * p))
