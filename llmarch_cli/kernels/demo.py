"""Seeded small inputs run through one kernel each, for ``llmarch kernel NAME``.

Each ``*_demo`` function returns a ``KernelResult``: the kernel's typed figures
(``kernels.results``: JSON-ready numbers, the main table's rows among them), a title, and
``views`` (what to draw: heatmaps and bar charts as plain lists, for ``render.charts``).
Nothing here prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from llmarch_cli.kernels.activations import ACTIVATIONS, erf, gelu, gelu_tanh, silu
from llmarch_cli.kernels.attention import attention, windowed_attention
from llmarch_cli.kernels.ffn import clamped_swiglu
from llmarch_cli.kernels.lora import lora_apply, lora_delta, lora_merge
from llmarch_cli.kernels.masks import additive_mask, causal_mask, sliding_window_mask
from llmarch_cli.kernels.mla import mla_absorbed, mla_cache_values_per_token, mla_naive
from llmarch_cli.kernels.moe import load_balancing_loss, moe_dispatch, route
from llmarch_cli.kernels.norms import layer_norm, rms_norm
from llmarch_cli.kernels.positions import (
    alibi_bias,
    alibi_slopes,
    apply_rope,
    rope_cos_sin,
    rope_inv_freq,
)
from llmarch_cli.kernels.quant import NF4_CODE, dequantize, quant_error, quantize
from llmarch_cli.kernels.results import (
    KERNELS,
    ActivationFigures,
    AlibiFigures,
    AttentionFigures,
    Figures,
    KernelResult,
    LoraFigures,
    MlaFigures,
    MoeFigures,
    NormFigures,
    QuantFigures,
    RopeFigures,
)
from llmarch_cli.specs.model import ROUTINGS, TOKEN_ROUTINGS, Rope

F32 = np.float32


def _demo(title: str, figures: Figures, views: list[dict[str, Any]] | None = None) -> KernelResult:
    return KernelResult(title=title, figures=figures, views=views or [])


def _r(a: Any, digits: int = 6) -> Any:
    """Numbers rounded for display and JSON: arrays -> nested lists, scalars -> float."""
    rounded = np.round(np.asarray(a, dtype=np.float64), digits)
    return rounded.tolist()


def heatmap(title: str, matrix: Any, *, rows: str, cols: str, signed: bool = False,
            hide: Any = None, peak: float | None = None) -> dict[str, Any]:
    """A heatmap view: ``matrix`` [R][C]; cells where ``hide`` is True are drawn blank;
    ``peak`` fixes the value drawn darkest (shared scale across heatmaps)."""
    view = {"kind": "heatmap", "title": title, "matrix": _r(matrix), "rows": rows, "cols": cols,
            "signed": signed, "peak": peak}
    if hide is not None:
        view["hide"] = np.asarray(hide, dtype=bool).tolist()
    return view


def bars(title: str, labels: list[str], values: Any) -> dict[str, Any]:
    return {"kind": "bars", "title": title, "labels": labels, "values": _r(values)}


def _entropy(probs: np.ndarray) -> np.ndarray:
    """Mean entropy of each head's rows in nats: probs [nh, T, S] -> [nh]."""
    p = np.clip(probs, 1e-30, None)
    return -(probs * np.log(p)).sum(axis=-1).mean(axis=-1)


def attention_demo(length: int, heads: int, kv_heads: int, window: int, sink_logit: float,
                   head_dim: int = 8, seed: int = 0) -> KernelResult:
    """Causal, sliding-window and sink attention on the same seeded q, k, v; GQA groups."""
    rng = np.random.default_rng(seed)
    q = rng.standard_normal((heads, length, head_dim), dtype=F32)  # [nh, T, hd]
    k = rng.standard_normal((kv_heads, length, head_dim), dtype=F32)  # [nkv, T, hd]
    v = rng.standard_normal((kv_heads, length, head_dim), dtype=F32)  # [nkv, T, hd]
    scale = head_dim**-0.5
    causal, band = causal_mask(length), sliding_window_mask(length, window)  # [T, T] bool
    sinks = np.full(heads, sink_logit, dtype=F32)  # [nh]
    _, p_causal = attention(q, k, v, scale=scale, mask=causal)  # [nh, T, T]
    out_window, p_window = attention(q, k, v, scale=scale, mask=band)
    _, p_sinks = attention(q, k, v, scale=scale, mask=causal, sinks=sinks)
    block = max(1, length // 3)
    blocked = windowed_attention(q, k, v, window=window, scale=scale, block=block)
    g = heads // kv_heads
    groups = [{"kv_head": j, "query_heads": list(range(j * g, j * g + g))} for j in range(kv_heads)]
    sink_mass = 1 - p_sinks.sum(axis=-1).mean(axis=-1)  # [nh] weight the sink absorbed
    ent = {name: _entropy(p) for name, p in (("causal", p_causal), ("window", p_window),
                                            ("sinks", p_sinks))}
    rows = [
        {"head": h, "kv_head": h // g, "entropy_causal_nats": round(float(ent["causal"][h]), 4),
         "entropy_window_nats": round(float(ent["window"][h]), 4),
         "entropy_sinks_nats": round(float(ent["sinks"][h]), 4),
         "sink_mass": round(float(sink_mass[h]), 4)}
        for h in range(heads)
    ]
    data = AttentionFigures(**{
        "kernel": "attention", "length": length, "heads": heads, "kv_heads": kv_heads,
        "head_dim": head_dim, "window": window, "sink_logit": sink_logit, "seed": seed,
        "kind": "MHA" if g == 1 else ("MQA" if kv_heads == 1 else "GQA"), "groups": groups,
        "masks": {"causal": causal.astype(int).tolist(), "window": band.astype(int).tolist()},
        "weights": {"causal": _r(p_causal), "window": _r(p_window), "sinks": _r(p_sinks)},
        "row_sums": {"causal": _r(p_causal.sum(-1)), "window": _r(p_window.sum(-1)),
                     "sinks": _r(p_sinks.sum(-1))},
        "masked_weights_zero": bool(np.all(p_causal[:, ~causal] == 0) and np.all(p_window[:, ~band] == 0)),
        "windowed_block": block,
        "windowed_max_abs_diff": float(np.abs(blocked - out_window).max()),
        "heads_table": rows,
    })
    views = [
        heatmap("causal mask (query x key)", causal, rows="query", cols="key"),
        heatmap(f"sliding-window mask, W={window} keys including itself", band, rows="query", cols="key"),
        heatmap("head 0 weights, causal", p_causal[0], rows="query", cols="key", hide=~causal),
        heatmap(f"head 0 weights, window {window}", p_window[0], rows="query", cols="key", hide=~band),
        heatmap(f"head 0 weights with a sink logit of {sink_logit:g} (rows sum to "
                f"{p_sinks[0].sum(-1).mean():.3f} on average)", p_sinks[0], rows="query", cols="key",
                hide=~causal),
    ]
    title = (f"attention: T={length}, {heads} query heads, {kv_heads} KV heads ({data.kind}, "
             f"groups of {g}); windowed in blocks of {block} equals masked full attention "
             f"to {data.windowed_max_abs_diff:.1e}")
    return _demo(title, data, views)


def rope_demo(length: int, head_dim: int, theta: float, seed: int = 0) -> KernelResult:
    """Angles per rotated pair, and q.k after RoPE as a function of the two positions."""
    rope = Rope(theta=theta, rotary_dim=head_dim)
    inv, factor = rope_inv_freq(rope, max_positions=length)  # [d/2]
    positions = np.arange(length)
    cos, sin = rope_cos_sin(positions, inv, factor)  # [T, d/2] each
    angles = positions[:, None].astype(F32) * inv[None, :]  # [T, d/2] radians
    rng = np.random.default_rng(seed)
    q = np.broadcast_to(rng.standard_normal(head_dim, dtype=F32), (length, head_dim))  # same q everywhere
    k = np.broadcast_to(rng.standard_normal(head_dim, dtype=F32), (length, head_dim))
    scores = apply_rope(q, cos, sin, head_dim) @ apply_rope(k, cos, sin, head_dim).T  # [T(m), T(n)]
    offsets = {}
    for d in range(-(length - 1), length):
        diag = np.diagonal(scores, offset=d)  # q at m, k at m + d
        offsets[d] = (float(diag.mean()), float(diag.max() - diag.min()))
    deviation = max(spread for _, spread in offsets.values())
    rows = [
        {"pair": i, "dims": f"{i},{i + head_dim // 2}", "inv_freq": float(f"{inv[i]:.6g}"),
         "wavelength_tokens": float(f"{2 * math.pi / inv[i]:.6g}"),
         "angle_at_last_rad": float(f"{angles[-1, i]:.6g}")}
        for i in range(head_dim // 2)
    ]
    data = RopeFigures(
        kernel="rope", length=length, head_dim=head_dim, theta=theta, seed=seed, pairing="half",
        inv_freq=_r(inv, 9), angles_rad=_r(angles), scores=_r(scores),
        score_by_offset=[{"offset": d, "score": round(m, 6)} for d, (m, _) in offsets.items()],
        relative_max_deviation=deviation, pairs=rows,
    )
    views = [
        heatmap("cos(angle): position x rotated pair (fast pairs first)", np.cos(angles),
                rows="position", cols="pair", signed=True),
        heatmap("q.k after RoPE: query position x key position (constant along diagonals)",
                scores, rows="query pos", cols="key pos", signed=True),
    ]
    title = (f"rope: theta={theta:g}, head_dim={head_dim}; q.k depends only on the offset: "
             f"largest spread along a diagonal {deviation:.1e}")
    return _demo(title, data, views)


def alibi_demo(heads: int, length: int) -> KernelResult:
    """Slopes per head (with the non power-of-two rule) and the bias m * (j - i)."""
    slopes = alibi_slopes(heads)  # [nh]
    bias = alibi_bias(slopes, length)  # [nh, T, T]
    p = 2 ** math.floor(math.log2(heads))
    rows = [
        {"head": h, "slope": float(slopes[h]), "log2_slope": round(math.log2(float(slopes[h])), 4),
         "series": f"2^(-8/{p})^{h + 1}" if h < p else f"2^(-4/{p})^{2 * (h - p) + 1}"}
        for h in range(heads)
    ]
    future = ~causal_mask(length)
    peak = float(np.abs(np.where(future, 0, bias)).max()) or None  # one scale for both heads
    data = AlibiFigures(kernel="alibi", heads=heads, length=length, power_of_two=p, slopes=_r(slopes, 9),
                        bias=_r(np.where(future, 0, bias)), heads_table=rows)
    views = [
        bars("slope per head", [f"head {h}" for h in range(heads)], slopes),
        heatmap(f"bias of head 0 (slope {slopes[0]:g}): m * (key - query)", bias[0],
                rows="query", cols="key", signed=True, hide=future, peak=peak),
        heatmap(f"bias of head {heads - 1} (slope {slopes[-1]:g}), same scale", bias[-1],
                rows="query", cols="key", signed=True, hide=future, peak=peak),
    ]
    rule = ("a power of two: slopes 2^(-8h/n)" if p == heads else
            f"not a power of two: {p} slopes for {p} heads, then {heads - p} odd powers of 2^(-4/{p})")
    return _demo(f"alibi: {heads} heads, {rule}", data, views)


def norm_demo(dim: int, eps: float, seed: int = 0) -> KernelResult:
    """LayerNorm and RMSNorm of one vector with a non-zero mean, unit weights."""
    x = (np.random.default_rng(seed).standard_normal(dim, dtype=F32) * 2 + 3).astype(F32)  # [H]
    ones = np.ones(dim, F32)
    ln, rms = layer_norm(x, ones, np.zeros(dim, F32), eps), rms_norm(x, ones, eps)  # [H] each

    def stats(a: np.ndarray) -> dict[str, float]:
        return {"mean": round(float(a.mean()), 6), "std": round(float(a.std()), 6),
                "rms": round(float(np.sqrt((a * a).mean())), 6)}

    rows = [{"i": i, "x": round(float(x[i]), 6), "layer_norm": round(float(ln[i]), 6),
             "rms_norm": round(float(rms[i]), 6)} for i in range(dim)]
    table = {"x": stats(x), "layer_norm": stats(ln), "rms_norm": stats(rms)}
    data = NormFigures(kernel="norm", dim=dim, eps=eps, seed=seed, stats=table, values=rows)
    views = [{"kind": "table", "title": "statistics",
              "rows": [{"vector": k, **v} for k, v in table.items()]}]
    title = ("norm: LayerNorm centres and scales (mean 0, std 1); RMSNorm only scales "
             "(rms 1, the mean survives)")
    return _demo(title, data, views)


def activation_demo(points: int, low: float = -4.0, high: float = 4.0) -> KernelResult:
    """The activations and gated units side by side on a grid; erf and tanh-GELU errors."""
    x = np.linspace(low, high, points, dtype=F32)  # [n]
    table = {name: fn(x) for name, fn in ACTIVATIONS.items()}
    table["swiglu"] = silu(x) * x  # gate = up = x
    table["geglu"] = gelu(x) * x
    table["clamped_swiglu"] = clamped_swiglu(x, x, limit=7.0, alpha=1.702)
    rows = [{"x": round(float(x[i]), 4), **{k: round(float(v[i]), 6) + 0.0 for k, v in table.items()}}
            for i in range(points)]  # + 0.0 turns -0.0 into 0.0
    grid = np.linspace(-6, 6, 1201)  # float64 grid for the error checks
    erf_err = float(np.abs(erf(grid) - np.array([math.erf(t) for t in grid])).max())
    tanh_gap = float(np.abs(gelu(grid.astype(F32)) - gelu_tanh(grid.astype(F32))).max())
    data = ActivationFigures(kernel="activation", points=points, values=rows, erf_max_abs_error=erf_err,
                             gelu_tanh_max_abs_gap=tanh_gap)
    title = (f"activation: gated columns use gate = up = x; exact GELU uses erf (max error vs "
             f"math.erf {erf_err:.1e}); tanh GELU differs from it by up to {tanh_gap:.1e}")
    return _demo(title, data)


def moe_demo(tokens: int, experts: int, top_k: int, routing: str, seed: int = 0,
             hidden: int = 8) -> KernelResult:
    """Router choices per token, expert load, and how the three routing orders compare."""
    rng = np.random.default_rng(seed)
    logits = (rng.standard_normal((tokens, experts), dtype=F32) * 1.5).astype(F32)  # [T, E]
    ids, weights = route(logits, top_k, routing)  # [T, k] each
    x = rng.standard_normal((tokens, hidden), dtype=F32)  # [T, H]
    w_experts = rng.standard_normal((experts, hidden, hidden), dtype=F32) * F32(hidden**-0.5)

    def expert(e: int, xe: np.ndarray) -> np.ndarray:
        return xe @ w_experts[e]  # [n_e, H]

    _, load = moe_dispatch(x, ids, weights, expert, experts)  # load [E]
    by_order = {name: route(logits, top_k, name)
                for name in ("softmax_topk_renorm", "topk_softmax", "softmax_topk")}
    same = float(np.abs(by_order["softmax_topk_renorm"][1] - by_order["topk_softmax"][1]).max())
    rows = [{"token": t, "experts": ids[t].tolist(), "weights": _r(weights[t], 4),
             "weight_sum": round(float(weights[t].sum()), 6)} for t in range(tokens)]
    mean_load = tokens * top_k / experts
    data = MoeFigures(
        kernel="moe", tokens=tokens, experts=experts, top_k=top_k, routing=routing, seed=seed,
        router_logits=_r(logits), routes=rows, expert_load=load.tolist(),
        max_over_mean_load=round(float(load.max() / mean_load), 6),
        load_balancing_loss=round(load_balancing_loss(logits, ids), 6),
        renorm_vs_topk_softmax_max_abs_diff=same,
        softmax_topk_mean_weight_sum=round(float(by_order["softmax_topk"][1].sum(-1).mean()), 6),
    )
    views = [bars(f"load per expert (tokens x top-k = {tokens * top_k}; balanced = {mean_load:g})",
                  [f"expert {e}" for e in range(experts)], load)]
    title = (f"moe: {tokens} tokens, {experts} experts, top-{top_k}, {routing}; Mixtral's and "
             f"gpt-oss's orders agree to {same:.1e}; without renormalising the weights sum to "
             f"{data.softmax_topk_mean_weight_sum:.3f} on average")
    return _demo(title, data, views)


def lora_demo(d_in: int, d_out: int, rank: int, alpha: float, tokens: int = 4, seed: int = 0) -> KernelResult:
    """Unmerged x W + s (x A) B against x (W + s A B): equal to float32 rounding."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((d_in, d_out), dtype=F32) * F32(d_in**-0.5)  # [in, out]
    a = rng.standard_normal((d_in, rank), dtype=F32) * F32(d_in**-0.5)  # [in, r]
    b = rng.standard_normal((rank, d_out), dtype=F32) * F32(0.1)  # [r, out], as if trained
    x = rng.standard_normal((tokens, d_in), dtype=F32)  # [T, in]
    unmerged = lora_apply(x, w, a, b, alpha)  # [T, out]
    merged = x @ lora_merge(w, a, b, alpha)  # [T, out]
    diff = float(np.abs(unmerged - merged).max())
    delta_rank = int(np.linalg.matrix_rank(lora_delta(a, b, alpha)))
    full, adapter = d_in * d_out, rank * (d_in + d_out)
    data = LoraFigures(kernel="lora", in_features=d_in, out_features=d_out, rank=rank, alpha=alpha,
                       scale=alpha / rank, seed=seed, merged_max_abs_diff=diff,
                       output_max_abs=float(np.abs(merged).max()), delta_rank=delta_rank,
                       full_params=full, lora_params=adapter, lora_fraction=round(adapter / full, 6))
    title = f"lora: merged equals unmerged, max abs diff {diff:.1e}; update of rank {delta_rank}"
    return _demo(title, data)


def quant_demo(rows_: int, cols: int, group_size: int, seed: int = 0) -> KernelResult:
    """int8, int4, NF4 and NF4 with double quantisation of one normal weight matrix."""
    w = np.random.default_rng(seed).standard_normal((rows_, cols), dtype=F32) * F32(0.02)
    rows = []
    for fmt, dq in (("int8", False), ("int4", False), ("nf4", False), ("nf4", True)):
        q = quantize(w, fmt, group_size, double_quant=dq)
        err = quant_error(w, dequantize(q))
        rows.append({"format": fmt + ("+dq" if dq else ""), "bits_per_param": q.bits_per_param,
                     **{k: float(f"{v:.6g}") for k, v in err.items()}})
    data = QuantFigures(kernel="quant", shape=[rows_, cols], group_size=group_size, seed=seed,
                        nf4_code=_r(NF4_CODE, 7), formats=rows)
    views = [bars("relative RMS error", [r["format"] for r in rows],
                  [r["relative_rms_error"] for r in rows])]
    title = (f"quant: a {rows_}x{cols} N(0, 0.02^2) weight, groups of {group_size}; NF4 beats int4 "
             "on normal weights, double quantisation cuts the scale cost from 32 to 8.125 bits")
    return _demo(title, data, views)


# DeepSeek-V3's config.json: 128 heads, kv_lora_rank 512, qk_nope 128, qk_rope 64, v_head 128.
DEEPSEEK_V3_MLA = {"heads": 128, "kv_rank": 512, "nope_dim": 128, "rope_dim": 64, "v_dim": 128}


def mla_demo(length: int, heads: int, kv_rank: int = 32, nope_dim: int = 16, rope_dim: int = 8,
             v_dim: int = 12, seed: int = 0) -> KernelResult:
    """Latent attention naive (decompress K, V per head) vs absorbed (attend in latent space)."""
    rng = np.random.default_rng(seed)
    q_nope = rng.standard_normal((heads, length, nope_dim), dtype=F32)  # [nh, T, dn]
    q_pe = rng.standard_normal((heads, length, rope_dim), dtype=F32)  # [nh, T, dr]
    c_kv = rng.standard_normal((length, kv_rank), dtype=F32)  # [T, r]
    k_pe = rng.standard_normal((length, rope_dim), dtype=F32)  # [T, dr]
    w_uk = rng.standard_normal((heads, kv_rank, nope_dim), dtype=F32) * F32(kv_rank**-0.5)
    w_uv = rng.standard_normal((heads, kv_rank, v_dim), dtype=F32) * F32(kv_rank**-0.5)
    scale, mask = (nope_dim + rope_dim) ** -0.5, additive_mask(causal_mask(length))
    naive = mla_naive(q_nope, q_pe, c_kv, k_pe, w_uk, w_uv, scale=scale, bias=mask)  # [nh, T, dv]
    absorbed = mla_absorbed(q_nope, q_pe, c_kv, k_pe, w_uk, w_uv, scale=scale, bias=mask)
    diff = float(np.abs(naive - absorbed).max())
    values = mla_cache_values_per_token(heads, kv_rank, nope_dim, rope_dim, v_dim)
    real = mla_cache_values_per_token(*DEEPSEEK_V3_MLA.values())
    rows = [
        {"form": "naive", "computes": f"K = [c_kv w_uk | k_pe], V = c_kv w_uv per head; "
                                      f"softmax(q K^T) V -> [{heads}, T, {v_dim}]",
         "cache": "K and V of every head",
         "cache_shapes": f"K [{heads}, T, {nope_dim + rope_dim}], V [{heads}, T, {v_dim}]",
         "values_per_token": values["naive"], "deepseek_v3_values_per_token": real["naive"]},
        {"form": "absorbed", "computes": f"q_nope w_uk^T -> [{heads}, T, {kv_rank}]; "
                                         "softmax(q_lat c_kv^T + q_pe k_pe^T) c_kv w_uv",
         "cache": "latent + shared RoPE key",
         "cache_shapes": f"c_kv [T, {kv_rank}], k_pe [T, {rope_dim}]",
         "values_per_token": values["absorbed"], "deepseek_v3_values_per_token": real["absorbed"]},
    ]
    shapes = {"q_nope": [heads, length, nope_dim], "q_pe": [heads, length, rope_dim],
              "c_kv": [length, kv_rank], "k_pe": [length, rope_dim],
              "w_uk": [heads, kv_rank, nope_dim], "w_uv": [heads, kv_rank, v_dim],
              "q_latent_absorbed": [heads, length, kv_rank],
              "k_naive": [heads, length, nope_dim + rope_dim], "v_naive": [heads, length, v_dim],
              "out": [heads, length, v_dim]}
    data = MlaFigures(kernel="mla", length=length, heads=heads, kv_rank=kv_rank, nope_dim=nope_dim,
                      rope_dim=rope_dim, v_dim=v_dim, seed=seed, shapes=shapes, max_abs_diff=diff,
                      forms=rows, deepseek_v3=DEEPSEEK_V3_MLA)
    views = [heatmap("naive output, head 0 [T, dv]", naive[0], rows="token", cols="value dim",
                     signed=True),
             heatmap("absorbed output, head 0 [T, dv]", absorbed[0], rows="token",
                     cols="value dim", signed=True)]
    title = (f"mla: naive and absorbed give the same output (max abs diff {diff:.1e}); the "
             f"absorbed cache keeps {values['absorbed']} values per token and layer instead of "
             f"{values['naive']} (DeepSeek-V3: {real['absorbed']} vs {real['naive']}, "
             f"{real['naive'] / real['absorbed']:.0f}x)")
    return _demo(title, data, views)


FLOAT32_MAX = 3.4028234663852886e38
MAX_LEN = 256  # attention, rope and alibi print T x T matrices
DIMS = {"norm": 8, "lora": 64, "quant": 256}  # default --dim per kernel


@dataclass(frozen=True)
class DemoOptions:
    """``llmarch kernel``'s options; None takes the kernel's default (``run_demo``)."""

    name: str
    length: int | None = None
    heads: int | None = None
    kv_heads: int = 2
    window: int = 3
    sinks: float = 0.0
    head_dim: int = 16
    theta: float = 10000.0
    dim: int | None = None
    experts: int = 8
    top_k: int = 2
    routing: str = "softmax_topk_renorm"
    rank: int = 8
    alpha: float = 16.0
    group_size: int = 64
    seed: int = 0

    def checked(self) -> DemoOptions:
        """These options with the kernel's defaults filled in; LlmarchError (exit 2) on the
        first constraint between options that does not hold."""
        from llmarch_cli.errors import LlmarchError

        name = self.name
        if name not in KERNELS:
            raise LlmarchError(f"unknown kernel {name!r}", f"choose one of {', '.join(KERNELS)}")
        for flag, value in (("--sinks", self.sinks), ("--theta", self.theta), ("--alpha", self.alpha)):
            if not abs(value) <= FLOAT32_MAX:  # nan and inf fail too: the demos compute in float32
                raise LlmarchError(f"{flag} must be a finite float32 number, got {value:g}")
        o = replace(self, length=self.length or (9 if name == "activation" else 8),
                    heads=self.heads or (8 if name == "alibi" else 4),
                    dim=self.dim or DIMS.get(name, 1))
        if name in ("attention", "rope", "alibi", "mla") and o.length > MAX_LEN:
            raise LlmarchError(f"--len {o.length} is too large for {name} (at most {MAX_LEN})")
        if name == "attention" and o.heads % o.kv_heads:
            raise LlmarchError(f"--kv-heads {o.kv_heads} must divide --heads {o.heads}",
                               "each KV head serves an equal group of query heads")
        if name == "rope" and o.head_dim % 2:
            raise LlmarchError(f"--head-dim must be even for RoPE pairs, got {o.head_dim}")
        if name == "moe" and o.top_k > o.experts:
            raise LlmarchError(f"--top-k {o.top_k} exceeds --experts {o.experts}")
        if name == "moe" and o.routing not in TOKEN_ROUTINGS:
            hint = ("group-limited routing needs expert groups: see it per token in "
                    "llmarch forward deepseek-v3 --tokens 1,2,3" if o.routing in ROUTINGS
                    else f"choose one of {', '.join(TOKEN_ROUTINGS)}")
            raise LlmarchError(f"--routing {o.routing!r} is not one the moe demo runs", hint)
        if name == "lora" and o.rank > o.dim:
            raise LlmarchError(f"--rank {o.rank} exceeds --dim {o.dim}")
        return o


def run_demo(options: DemoOptions) -> KernelResult:
    """The demonstration ``options.name`` names, with its defaults and checks applied."""
    o = options.checked()
    demos = {
        "attention": lambda: attention_demo(o.length, o.heads, o.kv_heads, o.window, o.sinks, seed=o.seed),
        "rope": lambda: rope_demo(o.length, o.head_dim, o.theta, seed=o.seed),
        "alibi": lambda: alibi_demo(o.heads, o.length),
        "norm": lambda: norm_demo(o.dim, 1e-5, seed=o.seed),
        "activation": lambda: activation_demo(o.length),
        "moe": lambda: moe_demo(o.length, o.experts, o.top_k, o.routing, seed=o.seed),
        "lora": lambda: lora_demo(o.dim, o.dim, o.rank, o.alpha, seed=o.seed),
        "quant": lambda: quant_demo(o.dim, o.dim, o.group_size, seed=o.seed),
        "mla": lambda: mla_demo(o.length, o.heads, seed=o.seed),
    }
    return demos[o.name]()
