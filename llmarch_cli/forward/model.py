"""A transformer assembled from an ArchSpec, its weights (``forward.layout``) and kernels.

``Model(spec, weights).run(tokens)`` returns a ``Trace``: the logits ``[T, V]`` plus what the
``forward`` command shows — the residual stream's statistics after every layer, the attention
entropy of every head, the tokens each expert received, and the time spent per stage.

Decoders run causally (sliding-window layers see ``W`` keys including their own); encoders see
every token; an encoder-decoder encodes ``tokens`` and its decoder reads the same ``tokens``
(teacher forcing) with cross-attention to the encoder output. Activations are float32, rounded
to fp16/bf16 precision after each op when asked, or float64 (``forward.precision``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from llmarch_cli.errors import LlmarchError
from llmarch_cli.forward.cache import DecodeCache
from llmarch_cli.forward.layout import is_moe_layer, model_shapes, stacks
from llmarch_cli.forward.precision import float_type, rounder
from llmarch_cli.kernels import counting
from llmarch_cli.kernels.activations import ACTIVATIONS, sigmoid, silu
from llmarch_cli.kernels.attention import (
    attention,
    attention_scores,
    soft_cap,
    soft_cap_effect,
    windowed_attention,
)
from llmarch_cli.kernels.attention_variants import chunked_attention
from llmarch_cli.kernels.ffn import clamped_swiglu, gated_ffn, linear, plain_ffn
from llmarch_cli.kernels.masks import additive_mask, band_mask, chunk_mask
from llmarch_cli.kernels.mla import mla_absorbed
from llmarch_cli.kernels.moe import (
    moe_dispatch,
    route,
    sigmoid_group_route,
    softmax_group_route,
)
from llmarch_cli.kernels.norms import (
    layer_norm,
    qk_norm_l2,
    qk_norm_per_head,
    qk_norm_projection,
    rms_norm,
)
from llmarch_cli.kernels.positions import (
    alibi_bias_at,
    alibi_slopes,
    apply_rope,
    attention_temperature,
    rope_cos_sin,
    rope_inv_freq,
    sinusoidal_table,
    t5_relative_bias_at,
)
from llmarch_cli.kernels.recurrent import gated_delta_rule
from llmarch_cli.specs.model import ArchSpec

# Beyond this many tokens a sliding-window layer runs the blocked O(T x W) kernel, and a chunked
# layer attends chunk by chunk, O(T x chunk); neither keeps attention weights (no entropy is
# reported for that layer).
BLOCKED_WINDOW_FROM = 2048


@dataclass(frozen=True)
class Quirks:
    """Family behaviour an ArchSpec does not describe (read from a Hugging Face config)."""

    inverse_layer_scale: bool = False  # GPT-2 scale_attn_by_inverse_layer_idx: scale / (l + 1)
    residual_from_normed: bool = False  # BLOOM apply_residual_connection_post_layernorm
    logits_bias: bool = False  # BART final_logits_bias: a buffer added to the logits [V]
    correction_bias: bool = False  # DeepSeek-V3 e_score_correction_bias: a router buffer [E]
    grouped_qkv: bool = False  # Falcon new_decoder_architecture: fused rows per KV group

LOGITS_BIAS = "model.lm_head.bias"


def expected_shapes(spec: ArchSpec, quirks: Quirks = Quirks()) -> dict[str, tuple[int, ...]]:
    """``layout.model_shapes(spec)`` plus the tensors a quirk adds (BART's logits bias)."""
    shapes = model_shapes(spec)
    if quirks.logits_bias:
        shapes[LOGITS_BIAS] = (spec.embeddings.vocab_size,)
    if quirks.correction_bias:
        for key in correction_bias_keys(spec):
            shapes[key] = (spec.moe.num_experts,)
    return shapes


def correction_bias_keys(spec: ArchSpec) -> list[str]:
    """Forward keys of DeepSeek-V3's per-layer router correction biases (MoE layers only)."""
    *_, layers = stacks(spec)[-1]
    return [f"model.{i}.router.correction_bias" for i in range(layers) if is_moe_layer(spec, i)]


@dataclass(frozen=True)
class CapEffect:
    """What a soft cap did to the values before it (``kernels.attention.soft_cap_effect``)."""

    cap: float
    max_abs: float  # largest |value| before the cap
    clipped: int  # values the cap shrank by more than SOFTCAP_CLIPPED
    values: int  # values considered (attention: the query-key pairs the mask allows)


@dataclass(frozen=True)
class Routing:
    """A MoE layer's choices: tokens per expert, experts per token (best first) and, for
    group-limited routing, the groups each token was allowed (best first)."""

    load: list[int]  # [E]
    experts: list[list[int]]  # [T][k]
    groups: list[list[int]] | None  # [T][g]


@dataclass
class LayerTrace:
    """One layer: residual-stream statistics after it, attention entropy, routing, time."""

    stack: str
    layer: int
    window: int | None
    mean: float
    std: float
    max_abs: float
    entropy: list[float] | None  # per head, nats, averaged over queries
    routing: Routing | None  # MoE layers
    attention_seconds: float
    ffn_seconds: float
    kind: str = "full"  # the layer's type: full, sliding, chunked, linear
    softcap: CapEffect | None = None  # Gemma 2: the cap on this layer's attention scores


@dataclass
class Trace:
    """The result of one forward pass."""

    logits: np.ndarray  # [T, V] float32 (float64 for fp64)
    layers: list[LayerTrace] = field(default_factory=list)
    stages: dict[str, float] = field(default_factory=dict)  # seconds per stage
    attention: dict[tuple[str, int], np.ndarray] = field(default_factory=dict)  # [nh, T, S]
    logit_softcap: CapEffect | None = None  # Gemma 2: the cap on the final logits


FUSED = (("attn.", ("q", "k", "v"), "qkv"), ("ffn.", ("gate", "up"), "gate_up"),
         ("shared.", ("gate", "up"), "gate_up"))  # (block, parts, the fused matrix's name)


def fused_groups(names: Iterable[str]) -> list[tuple[list[str], str]]:
    """The matrices ``fuse_projections`` joins, from weight names: ([part names], joined name)
    per group, e.g. (["model.3.attn.q", "model.3.attn.k", "model.3.attn.v"], "model.3.attn.qkv")."""
    names = set(names)
    groups = []
    for block, parts, fused in FUSED:
        first = f"{block}{parts[0]}.weight"
        for prefix in sorted(k.removesuffix(first) + block for k in names if k.endswith(first)):
            members = [f"{prefix}{part}" for part in parts]  # e.g. model.3.attn.q
            if all(f"{n}.weight" in names for n in members):  # MLA: a q matrix alone
                groups.append((members, f"{prefix}{fused}"))
    return groups


def fuse_projections(w: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``w`` with each self-attention's q, k, v matrices [H, *] joined column-wise into one
    ``qkv`` [H, q | k | v] and each gated FFN's gate and up into ``gate_up`` [H, gate | up]
    (biases alike, zeros for a part without one): the layout fused checkpoints (GPT-2, Phi-3)
    already have. A decoding step then streams one matrix where it streamed three, about 7%
    less time per token at d=512. Cross-attention (q and k/v see different inputs) and MLA
    (no k, v matrices) stay apart. The joined copies are new arrays: while a model is built
    they coexist with the caller's separate ones (``replica.check_fits`` counts both)."""
    w = dict(w)
    for names, fused in fused_groups(w):
        weights = [w.pop(f"{n}.weight") for n in names]  # [H, out_i] each
        w[f"{fused}.weight"] = np.concatenate(weights, axis=1)  # [H, sum out_i]
        if any(f"{n}.bias" in w for n in names):
            w[f"{fused}.bias"] = np.concatenate([
                w.pop(f"{n}.bias", np.zeros(m.shape[1], m.dtype))
                for n, m in zip(names, weights, strict=True)])
    return w


def _entropy(probs: np.ndarray) -> list[float]:
    """Mean over queries of -sum p ln p, per head: probs [nh, T, S] -> [nh]."""
    plogp = np.maximum(probs, np.finfo(probs.dtype).tiny)  # [nh, T, S], p = 0 adds 0 below
    np.log(plogp, out=plogp)
    plogp *= probs
    return [float(v) for v in -plogp.sum(-1).mean(-1)]


def check_tokens(spec: ArchSpec, tokens: list[int]) -> np.ndarray:
    """Token ids as an int array, or an LlmarchError for empty or out-of-range input."""
    if not tokens:
        raise LlmarchError("no tokens given")
    vocab = spec.embeddings.vocab_size
    bad = [t for t in tokens if not 0 <= t < vocab]
    if bad:
        raise LlmarchError(f"token id {bad[0]} is outside the vocabulary (0..{vocab - 1})")
    rows = spec.positions.max_positions
    if spec.positions.kind == "learned" and len(tokens) > rows:
        raise LlmarchError(f"{len(tokens)} tokens exceed the {rows} learned positions")
    return np.asarray(tokens, dtype=np.int64)


class Model:
    """A runnable model; weights must match ``layout.model_shapes(spec)`` exactly."""

    def __init__(self, spec: ArchSpec, weights: dict[str, np.ndarray], *, dtype: str = "fp32",
                 quirks: Quirks = Quirks()) -> None:
        expected = expected_shapes(spec, quirks)
        missing = [n for n in expected if n not in weights]
        if missing:
            raise LlmarchError(f"{spec.id}: weights missing {', '.join(missing[:5])}")
        for name, shape in expected.items():
            if tuple(weights[name].shape) != shape:
                raise LlmarchError(
                    f"{spec.id}: weight {name} has shape {list(weights[name].shape)}, "
                    f"the spec implies {list(shape)}"
                )
        self.spec, self.quirks, self.dtype = spec, quirks, dtype
        self.r, self.float = rounder(dtype), float_type(dtype)
        # C order: a transposed [out, in] checkpoint view makes one-token matmuls ~20x slower
        self.w = fuse_projections({
            n: np.ascontiguousarray(self.r(np.asarray(weights[n], dtype=self.float)))
            for n in expected})
        self.act = ACTIVATIONS[spec.ffn.activation]  # BERT's head transform

    # -- building blocks -------------------------------------------------------------------

    def _linear(self, x: np.ndarray, name: str) -> np.ndarray:
        """x [T, in] @ W [in, out] + b -> [T, out]."""
        return self.r(linear(x, self.w[f"{name}.weight"], self.w.get(f"{name}.bias")))

    def _norm(self, x: np.ndarray, name: str) -> np.ndarray:
        eps = self.spec.norm.eps
        if self.spec.norm.kind == "rmsnorm":
            return self.r(rms_norm(x, self._rms_weight(f"{name}.weight"), eps))
        return self.r(layer_norm(x, self.w[f"{name}.weight"], self.w.get(f"{name}.bias"), eps))

    def _rms_weight(self, name: str) -> np.ndarray:
        """An RMSNorm weight as applied: w, or 1 + w for Gemma's (1 + w) norms."""
        w = self.w[name]
        return 1 + w if self.spec.norm.unit_offset else w

    def _qk_norm(self, x: np.ndarray, name: str, per_head: bool) -> np.ndarray:
        """QK-norm of q or k: per head on [n, T, hd] (Qwen3, Gemma 3) or over the projection
        on [T, n*hd] (OLMo 2), as ``per_head`` says."""
        norm = qk_norm_per_head if per_head else qk_norm_projection
        return self.r(norm(x, self._rms_weight(name), self.spec.norm.eps))

    def _heads(self, x: np.ndarray, n: int) -> np.ndarray:
        """[T, n*hd] -> [n, T, hd]."""
        return x.reshape(x.shape[0], n, -1).transpose(1, 0, 2)

    def _qkv(self, x: np.ndarray, p: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """q, k, v of self-attention prefix ``p`` in one product with its ``qkv`` matrix (fused
        at load, ``fuse_projections``), as column views. x [T, H] -> [T, q], [T, kv], [T, kv]."""
        qkv = self._linear(x, f"{p}qkv")  # [T, q + 2 kv]
        kv = self.spec.kv_dim
        q = qkv.shape[1] - 2 * kv  # nh*hd, twice that with an output gate
        return qkv[:, :q], qkv[:, q:q + kv], qkv[:, q + kv:]

    def _project(self, x: np.ndarray, p: str, part: str) -> np.ndarray:
        """Projection ``part`` (q, k or v) of cross-attention prefix ``p``: from its own matrix,
        or its column block of a fused ``qkv [H, q | k | v]``. x [T, H] -> [T, out]."""
        w = self.w
        if f"{p}qkv.weight" not in w:
            return self._linear(x, f"{p}{part}")
        a = self.spec.attention
        q, kv = a.num_heads * a.head_dim, self.spec.kv_dim
        start, width = {"q": (0, q), "k": (q, kv), "v": (q + kv, kv)}[part]
        bias = w.get(f"{p}qkv.bias")
        return self.r(linear(x, w[f"{p}qkv.weight"][:, start:start + width],
                             None if bias is None else bias[start:start + width]))

    def _linear_attention(self, p: str, x: np.ndarray, cache=None) -> np.ndarray:
        """Qwen3-Next's gated DeltaNet: projections, a causal depthwise conv (SiLU) over q, k, v,
        the gated delta rule (``kernels.recurrent``), a gated RMSNorm. x [T, H] -> [T, H];
        ``cache`` (``forward.cache.LinearState``) carries the conv window and the state."""
        la, n, w, T = self.spec.linear_attention, f"{p}linear.", self.w, x.shape[0]
        nk, nv, dk, dv = la.num_key_heads, la.num_value_heads, la.key_head_dim, la.value_head_dim
        g = nv // nk
        qkvz = self._linear(x, f"{n}qkvz").reshape(T, nk, 2 * dk + 2 * g * dv)  # per key head
        q, k = qkvz[..., :dk], qkvz[..., dk:2 * dk]
        v, z = qkvz[..., 2 * dk:2 * dk + g * dv], qkvz[..., 2 * dk + g * dv:]
        ba = self._linear(x, f"{n}ba").reshape(T, nk, 2 * g)
        b, a = ba[..., :g].reshape(T, nv), ba[..., g:].reshape(T, nv)
        mixed = np.concatenate([q.reshape(T, -1), k.reshape(T, -1), v.reshape(T, -1)], axis=1)
        kernel = w[f"{n}conv.weight"][:, 0, :]  # [C, K]
        K = kernel.shape[1]
        conv, state = cache.read() if cache is not None else (
            np.zeros((K - 1, mixed.shape[1]), self.float), None)
        padded = np.concatenate([conv, mixed])  # [K-1+T, C]: earlier inputs, then these
        conved = sum(padded[j:j + T] * kernel[:, j] for j in range(K))  # [T, C] causal conv
        conved = self.r(conved * sigmoid(conved))  # SiLU
        q, k = conved[:, :nk * dk].reshape(T, nk, dk), conved[:, nk * dk:2 * nk * dk].reshape(T, nk, dk)
        v = conved[:, 2 * nk * dk:].reshape(T, nv, dv)
        beta = sigmoid(b)  # [T, nv]
        decay = -np.exp(w[f"{n}A_log"]) * np.logaddexp(0, a + w[f"{n}dt_bias"])  # -A softplus
        out, state = gated_delta_rule(q, k, v, decay.astype(self.float), beta, state)
        if cache is not None:
            cache.write(padded[-(K - 1):], state)
        normed = rms_norm(self.r(out), w[f"{n}norm.weight"], self.spec.norm.eps)  # [T, nv, dv]
        gated = self.r(normed * silu(z.reshape(T, nv, dv)))  # gated RMSNorm, weight w (not 1 + w)
        return self._linear(gated.reshape(T, nv * dv), f"{n}out")

    def _latent_attention(self, p: str, x: np.ndarray, ctx: dict, cache=None):
        """DeepSeek's multi-head latent attention, absorbed form (``kernels.mla``): the cache
        keeps the normed latent [S, r] and the shared RoPE key [S, dr]. x [T, H] -> [T, H]."""
        a, n, w = self.spec.attention, f"{p}attn.", self.w
        m, T = a.mla, x.shape[0]
        eps = 1e-6  # transformers builds q_a_layernorm and kv_a_layernorm with their default eps
        if f"{n}q.weight" in w:
            q = self._linear(x, f"{n}q")
        else:
            q_a = self.r(rms_norm(self._linear(x, f"{n}q_a"), w[f"{n}q_a_norm.weight"], eps))
            q = self._linear(q_a, f"{n}q_b")
        q = self._heads(q, a.num_heads)  # [nh, T, dn+dr]
        dn, r = m.qk_nope_head_dim, m.kv_lora_rank
        compressed = self._linear(x, f"{n}kv_a")  # [T, r + dr]
        latent = self.r(rms_norm(compressed[:, :r], w[f"{n}kv_a_norm.weight"], eps))  # [T, r]
        rope, cos, sin = ctx["rope"]
        q_pe = self.r(apply_rope(q[..., dn:], cos, sin, rope.rotary_dim, rope.pairing))
        k_pe = self.r(apply_rope(compressed[:, r:], cos, sin, rope.rotary_dim, rope.pairing))
        key_pos = ctx["qpos"]
        if cache is not None:
            latent, k_pe, key_pos = cache.update(latent, k_pe, ctx["qpos"])  # [S, r], [S, dr]
        kv_b = w[f"{n}kv_b.weight"].reshape(r, a.num_heads, -1).transpose(1, 0, 2)  # [nh, r, dn+dv]
        scale = a.scale if a.scale is not None else a.head_dim**-0.5
        out = mla_absorbed(q[..., :dn], q_pe, latent, k_pe, kv_b[..., :dn], kv_b[..., dn:],
                           scale=scale, bias=self._bias(ctx, None, key_pos))  # [nh, T, dv]
        out = self.r(out).transpose(1, 0, 2).reshape(T, -1)  # [T, nh*dv]
        return self._linear(out, f"{n}o"), None

    def _attention(self, p: str, layer: int, x: np.ndarray, ctx: dict, cache=None,
                   memory: np.ndarray | None = None):
        """Self-attention of layer prefix ``p`` (or cross-attention to the encoder ``memory``):
        x [T, H] -> ([T, H], probs). ``cache`` (``forward.cache``) holds earlier tokens' K/V."""
        a = self.spec.attention
        cross = memory is not None
        if a.mla is not None and not cross:
            return self._latent_attention(p, x, ctx, cache)
        n = f"{p}cross." if cross else f"{p}attn."
        qk_norm = None if cross else a.qk_norm
        if cross:
            q = self._project(x, n, "q")  # [T, nh*hd]
        else:
            q, k, v = self._qkv(x, n)  # [T, nh*hd] (nh*2hd with an output gate), [T, nkv*hd] x2
        gate = None
        if a.output_gate and not cross:  # Qwen3-Next: per head [q | gate]
            per_head = q.reshape(x.shape[0], a.num_heads, 2 * a.head_dim)
            q = np.ascontiguousarray(per_head[..., :a.head_dim]).reshape(x.shape[0], -1)
            gate = per_head[..., a.head_dim:].reshape(x.shape[0], -1)  # [T, nh*hd]
        if qk_norm == "projection":
            q = self._qk_norm(q, f"{n}q_norm.weight", per_head=False)
        q = self._heads(q, a.num_heads)  # [nh, T, hd]
        if qk_norm == "head":
            q = self._qk_norm(q, f"{n}q_norm.weight", per_head=True)
        kv = cache.get() if cross and cache is not None else None
        if cross and kv is None:
            k, v = self._project(memory, n, "k"), self._project(memory, n, "v")  # [S, nkv*hd] x2
        if kv is None:
            if qk_norm == "projection":
                k = self._qk_norm(k, f"{n}k_norm.weight", per_head=False)
            k = self._heads(k, a.num_kv_heads)  # [nkv, S, hd]
            if qk_norm == "head":
                k = self._qk_norm(k, f"{n}k_norm.weight", per_head=True)
            v = self._heads(v, a.num_kv_heads)  # [nkv, S, hd]
        else:
            k, v = kv
        window = None if cross else ctx["windows"][layer]
        chunk = None if cross else ctx["chunks"][layer]
        nope = not cross and layer in a.nope_layers  # Llama 4's global layers: no RoPE
        if not cross and "rope" in ctx and not nope:
            local = window is not None and "local" in ctx  # Gemma 3's sliding layers
            rope, cos, sin = ctx["local"] if local else ctx["rope"]
            q = self.r(apply_rope(q, cos, sin, rope.rotary_dim, rope.pairing))
            k = self.r(apply_rope(k, cos, sin, rope.rotary_dim, rope.pairing))
            if qk_norm == "l2":  # Llama 4: weightless, after RoPE, on RoPE layers only
                eps = self.spec.norm.eps
                q, k = self.r(qk_norm_l2(q, eps)), self.r(qk_norm_l2(k, eps))
        if nope and a.temperature_tuning is not None:  # Llama 4: sharper scores further on
            t = a.temperature_tuning
            temperature = attention_temperature(ctx["qpos"], t.floor_scale, t.attn_scale)  # [T]
            q = self.r(q * temperature[:, None])
        key_pos = ctx["qpos"]
        if cross and kv is None and cache is not None:
            cache.set(k, v)
        elif not cross and cache is not None:
            k, v, key_pos = cache.update(k, v, ctx["qpos"])  # [nkv, S, hd] x2, [S]
        scale = a.scale if a.scale is not None else a.head_dim**-0.5
        if self.quirks.inverse_layer_scale:
            scale /= layer + 1
        sinks = self.w.get(f"{p}attn.sinks")
        T = x.shape[0]
        if window is not None and T >= BLOCKED_WINDOW_FROM and len(key_pos) == T:
            out = windowed_attention(q, k, v, window=window, scale=scale, sinks=sinks,
                                     softcap=a.softcap)
            probs = None
        elif chunk is not None and T >= BLOCKED_WINDOW_FROM and len(key_pos) == T:
            out = chunked_attention(q, k, v, chunk=chunk, scale=scale, sinks=sinks,
                                    softcap=a.softcap)  # positions from 0: chunks from the start
            probs = None
        else:
            bias = None if cross else self._bias(ctx, window, key_pos, chunk)
            if a.softcap is not None and "softcap" in ctx and not cross:  # traced: before capping
                allowed = None
                if ctx["causal"]:
                    allowed = (band_mask(ctx["qpos"], key_pos, window) if chunk is None
                               else chunk_mask(ctx["qpos"], key_pos, chunk))
                ctx["softcap"][layer] = CapEffect(a.softcap, *soft_cap_effect(
                    attention_scores(q, k, scale), a.softcap, allowed))
            out, probs = attention(q, k, v, scale=scale, bias=bias, sinks=sinks,
                                   softcap=a.softcap)
        out = self.r(out).transpose(1, 0, 2).reshape(T, -1)  # [T, nh*hd]
        if gate is not None:
            out = self.r(out * sigmoid(gate))
        return self._linear(out, f"{n}o"), probs

    def _dense_ffn(self, x: np.ndarray, p: str, name: str = "ffn") -> np.ndarray:
        """plain: down(act(up x)); gated: down(act(gate x) * up x). x [T, H] -> [T, H]."""
        w, f, p = self.w, self.spec.ffn, f"{p}{name}."
        if f.kind == "gated":  # gate_up [H, gate | up]: Phi-3's, or fused at load
            y = gated_ffn(x, w[f"{p}gate_up.weight"], w[f"{p}down.weight"], f.activation,
                          w.get(f"{p}gate_up.bias"), w.get(f"{p}down.bias"))
        else:
            y = plain_ffn(x, w[f"{p}up.weight"], w[f"{p}down.weight"], f.activation,
                          w.get(f"{p}up.bias"), w.get(f"{p}down.bias"))
        return self.r(y)

    def _expert(self, p: str, e: int, x: np.ndarray) -> np.ndarray:
        """Expert ``e`` on the tokens routed to it: x [n, H] -> [n, H]."""
        w, f = self.w, self.spec.ffn
        gate_up, down = w[f"{p}experts.gate_up"][e], w[f"{p}experts.down"][e]  # [H, 2I], [I, H]
        b_gate_up = b_down = None
        if f"{p}experts.gate_up_bias" in w:
            b_gate_up, b_down = w[f"{p}experts.gate_up_bias"][e], w[f"{p}experts.down_bias"][e]
        if f.glu_limit is None:
            return self.r(gated_ffn(x, gate_up, down, f.activation, b_gate_up, b_down))
        i = f.intermediate_size
        both = self.r(linear(x, gate_up, b_gate_up))  # [n, 2I]: gate | up
        hidden = clamped_swiglu(both[:, :i], both[:, i:], limit=f.glu_limit,
                                alpha=f.glu_alpha or 1.702)
        return self.r(linear(self.r(hidden), down, b_down))

    def _moe(self, x: np.ndarray, p: str) -> tuple[np.ndarray, Routing]:
        """Route each token to top-k experts and mix their outputs, plus the shared experts
        (DeepSeek, Llama 4; Qwen2-MoE's behind a sigmoid gate): [T, H] -> ([T, H], routing).
        Llama 4 (``sigmoid_topk``) scales each expert's input by its weight, not its output."""
        moe = self.spec.moe
        logits = self._linear(x, f"{p}router")  # [T, E]
        groups = None
        if moe.routing == "sigmoid_group_topk":  # DeepSeek-V3 (norm_topk_prob true)
            ids, weights, groups = sigmoid_group_route(
                logits, moe.top_k, moe.num_groups, moe.topk_groups,
                self.w.get(f"{p}router.correction_bias"), scaling=moe.routed_scaling)
        elif moe.routing == "softmax_group_topk":  # DeepSeek-V2 group_limited_greedy
            ids, weights, groups = softmax_group_route(logits, moe.top_k, moe.num_groups,
                                                       moe.topk_groups, moe.routed_scaling)
        else:
            ids, weights = route(logits, moe.top_k, moe.routing)  # [T, k] each
            if moe.routed_scaling != 1.0:  # DeepSeek-V2 greedy
                weights = weights * np.float32(moe.routed_scaling)
        out, load = moe_dispatch(x, ids, weights, lambda e, xe: self._expert(p, e, xe),
                                 moe.num_experts, scale_input=moe.routing == "sigmoid_topk")
        if moe.num_shared_experts:
            shared = self._dense_ffn(x, p, "shared")  # [T, H]
            if f"{p}shared.gate_score.weight" in self.w:
                shared = shared * sigmoid(self._linear(x, f"{p}shared.gate_score"))
            out = out + shared
        return self.r(out), Routing([int(c) for c in load], ids.tolist(),
                                    None if groups is None else groups.tolist())

    # -- stacks ----------------------------------------------------------------------------

    def _embed(self, stack: str, ids: np.ndarray, start: int = 0) -> np.ndarray:
        """Token ids [T] at positions start..start+T-1 -> hidden [T, H]."""
        spec, w = self.spec, self.w
        h = w["model.embed.weight"][ids]  # [T, H]
        if spec.embeddings.scale is not None:
            h = self.r(h * np.float32(spec.embeddings.scale))
        pos = spec.positions
        if pos.kind == "learned":
            h = self.r(h + w[f"{stack}.pos.weight"][np.arange(start, start + len(ids)) + pos.offset])
        elif pos.kind == "sinusoidal":
            h = self.r(h + sinusoidal_table(start + len(ids), spec.hidden_size)[start:])
        if "model.token_type.weight" in w:
            h = self.r(h + w["model.token_type.weight"][0])
        if spec.norm.embedding_norm:
            h = self._norm(h, f"{stack}.embed_norm")
        return h

    def _context(self, stack: str, causal: bool, layers: int, qpos: np.ndarray) -> dict:
        """What a stack's layers share for queries at positions ``qpos`` [T]: windows and chunks
        per layer, RoPE tables, and a memo of score biases per window or chunk (``_bias``)."""
        spec, a = self.spec, self.spec.attention
        ctx: dict = {"stack": stack, "causal": causal, "qpos": qpos, "biases": {},
                     "windows": [a.layer_window(i) if causal else None for i in range(layers)],
                     "chunks": [a.chunk_size if causal and a.layer_type(i) == "chunked" else None
                                for i in range(layers)]}
        pos = spec.positions
        if pos.kind == "rope":  # dynamic NTK and longrope depend on the length seen so far
            for key, rope in (("rope", pos.rope), ("local", pos.local_rope)):
                if rope is not None:  # local: the sliding layers' own RoPE (Gemma 3)
                    inv, factor = rope_inv_freq(rope, spec.max_context, int(qpos[-1]) + 1)
                    ctx[key] = (rope, *rope_cos_sin(qpos, inv, factor))
        return ctx

    def _bias(self, ctx: dict, window: int | None, key_pos: np.ndarray,
              chunk: int | None = None) -> np.ndarray | None:
        """Additive score bias [T, S] or [nh, T, S] for keys at ``key_pos`` [S]: the causal (and
        window, or chunk) mask plus ALiBi or T5 buckets; None when nothing is masked or added.
        Layers with the same window or chunk see the same keys, so it is built once per window
        or chunk and shared."""
        memo = window if chunk is None else ("chunk", chunk)
        if memo in ctx["biases"]:
            return ctx["biases"][memo]
        qpos, pos, bias = ctx["qpos"], self.spec.positions, None
        if ctx["causal"]:
            allowed = (band_mask(qpos, key_pos, window) if chunk is None
                       else chunk_mask(qpos, key_pos, chunk))  # [T, S]
            if not allowed.all():
                bias = additive_mask(allowed)
        position_bias = None
        if pos.kind == "alibi":
            position_bias = alibi_bias_at(alibi_slopes(self.spec.attention.num_heads), qpos, key_pos)
        elif pos.kind == "relative_buckets":
            table = self.w[f"{ctx['stack']}.0.attn.relative_bias.weight"]  # held by layer 0
            position_bias = t5_relative_bias_at(table, qpos, key_pos, not ctx["causal"],
                                                pos.relative.max_distance)
        if position_bias is not None:
            bias = position_bias if bias is None else position_bias + bias
        bias = None if bias is None else bias.astype(np.float32, copy=False)
        ctx["biases"][memo] = bias
        return bias

    def _stack(self, stack: str, label: str, layers: int, h: np.ndarray, trace: Trace | None,
               keep: set, memory: np.ndarray | None = None,
               cache: DecodeCache | None = None) -> np.ndarray:
        """Run a stack's layers on h [T, H]; with ``cache`` the tokens follow those it holds.
        ``trace`` (None: nothing recorded) collects per-layer statistics."""
        spec = self.spec
        start = cache.position if cache is not None else 0
        ctx = self._context(stack, label == "dec", layers, np.arange(start, start + h.shape[0]))
        if trace is not None:
            ctx["softcap"] = {}  # layer -> CapEffect, filled by _attention
        post = spec.norm.placement == "post"
        out_norms = spec.norm.placement if spec.norm.placement in ("sandwich", "sublayer_post") else None
        for layer in range(layers):
            p = f"{stack}.{layer}."
            t0 = time.perf_counter()
            a_in = h if post or out_norms == "sublayer_post" else self._norm(h, f"{p}attn_norm")
            layer_cache = None if cache is None else cache.layers[layer]
            if spec.attention.layer_type(layer) == "linear":
                attn, probs = self._linear_attention(p, a_in, layer_cache), None
            else:
                attn, probs = self._attention(p, layer, a_in, ctx, layer_cache)
            if out_norms:  # Gemma 2/3 and OLMo 2: the sub-layer's output is normed, then added
                h = self.r(h + self._norm(attn, f"{p}attn_post_norm"))
            elif post:
                h = self._norm(self.r(h + attn), f"{p}attn_norm")
            elif spec.residual == "sequential":
                h = self.r((a_in if self.quirks.residual_from_normed else h) + attn)
            if memory is not None:
                c_in = h if post else self._norm(h, f"{p}cross_norm")
                cross, _ = self._attention(p, layer, c_in, ctx,
                                           None if cache is None else cache.cross[layer], memory)
                h = self._norm(self.r(h + cross), f"{p}cross_norm") if post else self.r(h + cross)
            t1 = time.perf_counter()
            if spec.residual == "parallel":
                f_in = a_in if spec.parallel_norms == 1 else self._norm(h, f"{p}ffn_norm")
            else:
                f_in = h if post or out_norms == "sublayer_post" else self._norm(h, f"{p}ffn_norm")
            routing = None
            if is_moe_layer(spec, layer):
                ffn, routing = self._moe(f_in, p)
            else:
                ffn = self._dense_ffn(f_in, p)
            if out_norms:
                h = self.r(h + self._norm(ffn, f"{p}ffn_post_norm"))
            elif post:
                h = self._norm(self.r(h + ffn), f"{p}ffn_norm")
            elif spec.residual == "parallel":
                h = self.r(self.r(h + attn) + ffn)
            else:
                h = self.r((f_in if self.quirks.residual_from_normed else h) + ffn)
            t2 = time.perf_counter()
            if trace is None:
                continue
            if (label, layer) in keep and probs is not None:
                trace.attention[(label, layer)] = probs
            trace.layers.append(LayerTrace(
                label, layer, ctx["windows"][layer], float(h.mean()), float(h.std()),
                float(np.abs(h).max()), None if probs is None else _entropy(probs), routing,
                t1 - t0, t2 - t1, spec.attention.layer_type(layer) if label == "dec" else "full",
                ctx["softcap"].get(layer),
            ))
        if cache is not None:
            cache.position = start + h.shape[0]
        if spec.norm.final_norm:
            h = self._norm(h, f"{stack}.norm")
        return h

    def _head(self, h: np.ndarray, trace: Trace | None = None) -> np.ndarray:
        """Final hidden [T, H] -> logits [T, V]; ``trace`` records what a logit cap did."""
        spec, w = self.spec, self.w
        if counting.ACTIVE is not None:  # the output matmul below is not a `linear` call
            counting.add_matmul(h, w["model.embed.weight"].T if spec.head.tied else w["model.lm_head.weight"])
        if spec.head.transform:
            h = self._norm(self.r(self.act(self._linear(h, "model.head.transform"))),
                           "model.head.transform_norm")
        if spec.head.output_scale is not None:
            h = self.r(h * np.float32(spec.head.output_scale))
        # tied: embed [V, H] @ h^T rather than h @ embed.T, whose transposed view is slow
        logits = ((w["model.embed.weight"] @ h.T).T if spec.head.tied
                  else h @ w["model.lm_head.weight"])
        if LOGITS_BIAS in w:
            logits = logits + w[LOGITS_BIAS]
        if spec.head.softcap is not None:  # Gemma 2: cap * tanh(logits / cap)
            if trace is not None:
                trace.logit_softcap = CapEffect(spec.head.softcap,
                                                *soft_cap_effect(logits, spec.head.softcap))
            logits = soft_cap(np.array(logits, dtype=self.float), spec.head.softcap)
        return self.r(logits).astype(self.float, copy=False)

    def run(self, tokens: list[int], keep_attention: set[tuple[str, int]] = frozenset(), *,
            decoder_tokens: list[int] | None = None, cache: DecodeCache | None = None) -> Trace:
        """Forward pass over ``tokens``; keeps the attention weights of the listed layers.

        An encoder-decoder encodes ``tokens`` and decodes ``decoder_tokens`` (default: the same
        tokens). With an empty ``cache`` (``forward.cache.new_cache``) this is the prefill of
        step-by-step decoding: the caches keep what ``step`` continues from.
        """
        ids = check_tokens(self.spec, tokens)
        trace = Trace(logits=np.empty(0, self.float))
        h = memory = None
        for stack, label, layers in stacks(self.spec):
            t0 = time.perf_counter()
            dec_ids = stack == "decoder" and decoder_tokens is not None
            h = self._embed(stack, check_tokens(self.spec, decoder_tokens) if dec_ids else ids)
            trace.stages[f"{label}.embed"] = time.perf_counter() - t0
            h = self._stack(stack, label, layers, h, trace, keep_attention, memory,
                            cache if label == "dec" else None)
            if stack == "encoder":
                memory = h
            trace.stages[f"{label}.layers"] = sum(
                lt.attention_seconds + lt.ffn_seconds for lt in trace.layers if lt.stack == label
            )
        if cache is not None:
            cache.memory = memory
        t0 = time.perf_counter()
        trace.logits = self._head(h, trace)
        trace.stages["head"] = time.perf_counter() - t0
        return trace

    def step(self, tokens: list[int], cache: DecodeCache) -> np.ndarray:
        """Decoder tokens that follow those ``cache`` holds (after a ``run`` with it) -> their
        logits [T, V]; the caches grow by these tokens. No statistics are kept."""
        stack, label, layers = stacks(self.spec)[-1]
        h = self._embed(stack, np.asarray(tokens, dtype=np.int64), cache.position)
        h = self._stack(stack, label, layers, h, None, frozenset(), cache.memory, cache)
        return self._head(h)
