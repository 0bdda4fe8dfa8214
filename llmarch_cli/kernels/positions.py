"""Position information: sinusoidal tables, RoPE with its scalings, ALiBi, T5 relative buckets.

RoPE follows transformers' arithmetic in float32: ``rope_inv_freq`` gives the inverse
frequencies ``[d/2]`` of the ``d`` rotated dims and the attention factor that multiplies cos
and sin; ``rope_cos_sin`` forms the angles ``p * inv_freq``; ``apply_rope`` rotates pairs of a
``[..., T, hd]`` array (half: ``(x_i, x_{i+d/2})`` as Llama/NeoX; interleaved:
``(x_2i, x_2i+1)`` as GPT-J) and passes dims ``d..hd`` through. A learned position table
needs no kernel: it is ``table[positions + offset]``. Llama 4's layers without RoPE scale
their queries by a temperature that grows with the position (``attention_temperature``).
"""

from __future__ import annotations

import math

import numpy as np

from llmarch_cli.specs.model import Rope, RopeScaling

F32 = np.float32


def sinusoidal_table(num_positions: int, dim: int, base: float = 10000.0) -> np.ndarray:
    """Vaswani et al. 3.5: PE[p, 2i] = sin(p / base^(2i/dim)), PE[p, 2i+1] = cos(...) -> [P, dim]."""
    pos = np.arange(num_positions, dtype=F32)[:, None]  # [P, 1]
    inv = F32(base) ** -(np.arange(0, dim, 2, dtype=F32) / F32(dim))  # [ceil(dim/2)]
    angles = pos * inv  # [P, ceil(dim/2)]
    table = np.empty((num_positions, dim), dtype=F32)  # [P, dim]
    table[:, 0::2] = np.sin(angles)
    table[:, 1::2] = np.cos(angles[:, : dim // 2])
    return table


def _default_inv_freq(theta: float, d: int) -> np.ndarray:
    """theta^(-2i/d) for i = 0 .. ceil(d/2)-1, in float32 -> [ceil(d/2)]."""
    exponent = np.arange(0, d, 2, dtype=F32) / F32(d)  # [d/2]
    return F32(1.0) / (F32(theta) ** exponent)


def _dynamic_theta(theta: float, d: int, factor: float, max_positions: int, seq_len: int) -> float:
    """NTK-aware base for ``seq_len`` tokens; unchanged up to ``max_positions``."""
    length = max(seq_len, max_positions)
    return theta * ((factor * length / max_positions) - (factor - 1)) ** (d / (d - 2))


def _llama3_inv_freq(inv: np.ndarray, s: RopeScaling, original: int) -> np.ndarray:
    """Llama 3.1: long wavelengths divided by factor, short kept, a linear blend between."""
    low, high = s.low_freq_factor, s.high_freq_factor
    if low is None or high is None:
        raise ValueError("llama3 rope scaling needs low_freq_factor and high_freq_factor")
    wavelen = F32(2 * math.pi) / inv  # [d/2]
    scaled = np.where(wavelen > original / low, inv / F32(s.factor), inv)  # [d/2]
    # high == low (Llama 4 Scout) leaves no medium band: the division by 0 is never selected
    with np.errstate(divide="ignore", invalid="ignore"):
        smooth = (F32(original) / wavelen - F32(low)) / F32(high - low)  # [d/2]
        blended = (1 - smooth) * scaled / F32(s.factor) + smooth * scaled  # [d/2]
    medium = ~(wavelen < original / high) & ~(wavelen > original / low)  # [d/2] bool
    return np.where(medium, blended, scaled).astype(F32)


def _mscale(factor: float, mscale: float = 1.0) -> float:
    return 1.0 if factor <= 1 else 0.1 * mscale * math.log(factor) + 1.0


def _yarn(theta: float, d: int, s: RopeScaling, factor: float, original: int) -> tuple[np.ndarray, float]:
    """YaRN: interpolate low frequencies, keep high ones, ramp between; attention factor."""
    if s.attention_factor is not None:
        attention_factor = s.attention_factor
    elif s.mscale and s.mscale_all_dim:
        attention_factor = _mscale(factor, s.mscale) / _mscale(factor, s.mscale_all_dim)
    else:
        attention_factor = _mscale(factor)

    def correction_dim(rotations: float) -> float:  # dim index that turns `rotations` times
        return d * math.log(original / (rotations * 2 * math.pi)) / (2 * math.log(theta))

    lo, hi = correction_dim(s.beta_fast or 32), correction_dim(s.beta_slow or 1)
    if s.truncate is None or s.truncate:
        lo, hi = math.floor(lo), math.ceil(hi)
    lo, hi = max(lo, 0), min(hi, d - 1)
    if lo == hi:
        hi += 0.001
    ramp = np.clip((np.arange(d // 2, dtype=F32) - F32(lo)) / F32(hi - lo), 0, 1)  # [d/2]
    keep = F32(1) - ramp  # [d/2] 1 = extrapolate (unchanged), 0 = interpolate (/factor)
    pos_freqs = F32(theta) ** (np.arange(0, d, 2, dtype=F32) / F32(d))  # [d/2]
    inv = F32(1) / (F32(factor) * pos_freqs) * (1 - keep) + F32(1) / pos_freqs * keep
    return inv.astype(F32), float(attention_factor)


def _longrope(theta: float, d: int, s: RopeScaling, factor: float, original: int, seq_len: int | None):
    if s.short_factor is None or s.long_factor is None:
        raise ValueError("longrope scaling needs short_factor and long_factor")
    if s.attention_factor is not None:
        attention_factor = s.attention_factor
    else:
        attention_factor = 1.0 if factor <= 1 else math.sqrt(1 + math.log(factor) / math.log(original))
    long = seq_len is not None and seq_len > original
    ext = np.asarray(s.long_factor if long else s.short_factor, dtype=F32)  # [d/2]
    exponent = np.arange(0, d, 2, dtype=F32) / F32(d)  # [d/2]
    return (F32(1) / (ext * F32(theta) ** exponent)).astype(F32), float(attention_factor)


def rope_inv_freq(
    rope: Rope, max_positions: int, seq_len: int | None = None
) -> tuple[np.ndarray, float]:
    """Inverse frequencies [ceil(rotary_dim/2)] float32 and the attention factor of cos/sin.

    max_positions: the model's ``max_position_embeddings``. seq_len: tokens seen so far
    (dynamic NTK grows its base past max_positions; longrope switches to its long factors
    past the original length).
    """
    theta, d, s = rope.theta, rope.rotary_dim, rope.scaling
    if s is None:
        return _default_inv_freq(theta, d), 1.0
    original = s.original_max_positions or max_positions
    if s.kind == "linear":
        return _default_inv_freq(theta, d) / F32(s.factor), 1.0
    if s.kind == "dynamic":
        length = seq_len if seq_len is not None else max_positions
        return _default_inv_freq(_dynamic_theta(theta, d, s.factor, max_positions, length), d), 1.0
    if s.kind == "llama3":
        return _llama3_inv_freq(_default_inv_freq(theta, d), s, original), 1.0
    if s.kind == "yarn":
        return _yarn(theta, d, s, s.factor, original)
    if s.kind == "longrope":
        return _longrope(theta, d, s, s.factor, original, seq_len)
    raise ValueError(f"unknown rope scaling {s.kind!r}")


def rope_cos_sin(
    positions: np.ndarray, inv_freq: np.ndarray, attention_factor: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """Angles p * inv_i in float32 -> (cos, sin), each [T, d/2], times the attention factor."""
    angles = np.asarray(positions, dtype=F32)[:, None] * inv_freq[None, :]  # [T, d/2]
    af = F32(attention_factor)
    return np.cos(angles) * af, np.sin(angles) * af


def apply_rope(
    x: np.ndarray, cos: np.ndarray, sin: np.ndarray, rotary_dim: int, pairing: str = "half"
) -> np.ndarray:
    """Rotate the first ``rotary_dim`` dims of x [..., T, hd] by cos/sin [T, d/2]; rest unchanged.

    Each pair (a, b) becomes (a cos - b sin, b cos + a sin). ``rotary_dim`` rounds up to
    2 * cos.shape[-1] when odd, as transformers rotates ceil(d/2) pairs.
    """
    half = cos.shape[-1]
    r = 2 * half
    if rotary_dim not in (r, r - 1) or r > x.shape[-1]:
        raise ValueError(f"cos/sin cover {r} dims, rotary_dim is {rotary_dim}, head_dim {x.shape[-1]}")
    rot, rest = x[..., :r], x[..., r:]  # [..., T, r], [..., T, hd-r]
    if pairing == "half":
        a, b = rot[..., :half], rot[..., half:]  # [..., T, d/2] each
    elif pairing == "interleaved":
        a, b = rot[..., 0::2], rot[..., 1::2]  # [..., T, d/2] each
    else:
        raise ValueError(f"pairing must be 'half' or 'interleaved', got {pairing!r}")
    cos, sin = cos.astype(x.dtype, copy=False), sin.astype(x.dtype, copy=False)
    a2 = a * cos - b * sin  # [..., T, d/2]
    b2 = b * cos + a * sin  # [..., T, d/2]
    out = np.empty_like(x)  # [..., T, hd]
    if pairing == "half":
        out[..., :half], out[..., half:r] = a2, b2
    else:
        out[..., 0:r:2], out[..., 1:r:2] = a2, b2
    out[..., r:] = rest
    return out


def attention_temperature(positions: np.ndarray, floor_scale: int, attn_scale: float) -> np.ndarray:
    """Llama 4's query scale on layers without RoPE: 1 + attn_scale * ln(1 + floor((p + 1) /
    floor_scale)) for positions p [T] -> [T] float32; 1 for the first floor_scale - 1 tokens."""
    steps = np.floor((np.asarray(positions, dtype=F32) + F32(1)) / F32(floor_scale))  # [T]
    return (np.log1p(steps) * F32(attn_scale) + F32(1)).astype(F32)


def alibi_slopes(num_heads: int) -> np.ndarray:
    """ALiBi head slopes [nh] float32: 2^(-8h/p) for h = 1..p (p the largest power of two <= nh),
    then for the remaining heads the odd powers 2^(-4(2k-1)/p), k = 1..nh-p."""
    if num_heads <= 0:
        raise ValueError(f"num_heads must be positive, got {num_heads}")
    p = 2 ** math.floor(math.log2(num_heads))
    base = F32(2.0 ** (-8.0 / p))
    slopes = base ** np.arange(1, p + 1, dtype=F32)  # [p]
    if num_heads > p:
        extra_base = F32(2.0 ** (-4.0 / p))
        odd = np.arange(1, 2 * (num_heads - p), 2, dtype=F32)  # [nh-p]: 1, 3, 5, ...
        slopes = np.concatenate([slopes, extra_base**odd])
    return slopes.astype(F32)


def alibi_bias(slopes: np.ndarray, q_len: int, k_len: int | None = None) -> np.ndarray:
    """m_h * (j - i) -> [nh, q_len, k_len], zero on the diagonal, negative for past keys.

    Queries are the last q_len of k_len positions. BLOOM adds m_h * j instead; per row the two
    differ by a constant, so the softmax is the same.
    """
    k_len = q_len if k_len is None else k_len
    return alibi_bias_at(slopes, np.arange(k_len - q_len, k_len), np.arange(k_len))


def alibi_bias_at(slopes: np.ndarray, q_pos: np.ndarray, k_pos: np.ndarray) -> np.ndarray:
    """m_h * (k - q) for queries at ``q_pos`` [T] and keys at ``k_pos`` [S] (in any order, as
    a rolling cache holds them) -> [nh, T, S]."""
    i = np.asarray(q_pos, dtype=F32)[:, None]  # [T, 1]
    j = np.asarray(k_pos, dtype=F32)[None, :]  # [1, S]
    return np.asarray(slopes, dtype=F32)[:, None, None] * (j - i)[None]  # [nh, T, S]


def t5_relative_bucket(
    relative_position: np.ndarray, bidirectional: bool, num_buckets: int, max_distance: int
) -> np.ndarray:
    """T5's bucket of each offset r = key - query -> int64 array of r's shape.

    Half the buckets (per direction when bidirectional) are exact offsets; the rest grow
    logarithmically up to max_distance, beyond which everything shares the last bucket.
    """
    r = np.asarray(relative_position, dtype=np.int64)
    bucket = np.zeros_like(r)
    if bidirectional:
        num_buckets //= 2
        bucket += (r > 0).astype(np.int64) * num_buckets  # keys after the query
        n = np.abs(r)
    else:
        n = -np.minimum(r, 0)  # distance into the past; future keys share bucket 0
    exact = num_buckets // 2
    far = np.maximum(n, exact).astype(F32)  # the log branch only serves n >= exact
    log_ratio = np.log(far / F32(exact)) / F32(math.log(max_distance / exact))
    large = exact + (log_ratio * F32(num_buckets - exact)).astype(np.int64)
    large = np.minimum(large, num_buckets - 1)
    return bucket + np.where(n < exact, n, large)


def t5_relative_bias(
    table: np.ndarray, q_len: int, k_len: int, bidirectional: bool, max_distance: int
) -> np.ndarray:
    """Bias [nh, q_len, k_len] from a learned table [num_buckets, nh] (queries at the end)."""
    return t5_relative_bias_at(table, np.arange(k_len - q_len, k_len), np.arange(k_len),
                               bidirectional, max_distance)


def t5_relative_bias_at(
    table: np.ndarray, q_pos: np.ndarray, k_pos: np.ndarray, bidirectional: bool, max_distance: int
) -> np.ndarray:
    """Bias [nh, T, S] for queries at ``q_pos`` [T] and keys at ``k_pos`` [S]."""
    i = np.asarray(q_pos)[:, None]  # [T, 1]
    j = np.asarray(k_pos)[None, :]  # [1, S]
    buckets = t5_relative_bucket(j - i, bidirectional, table.shape[0], max_distance)  # [T, S]
    return table[buckets].transpose(2, 0, 1)  # [nh, T, S]
