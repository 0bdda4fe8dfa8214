"""THE list of a spec's tensors: every weight with its stack, layers, shape, role and HF name.

Parameter counts sum it, LoRA targets and weight quantisation filter it, the forward pass
allocates from it and checkpoints are mapped through its ``hf`` names. Adding a family means
adding its module paths to ``specs.families``; the entries below are built from them.

What is listed is what transformers 5 builds for the family (the causal-LM model, T5 and BART
for conditional generation, BERT for masked LM; Qwen 1: its own ``modeling_qwen.py``), one entry
per tensor kind, tied weights once:

* a tied head is absent (its matrix is ``embed.weight``, then marked ``matmul``: it multiplies
  the hidden states into logits); a tied head's own bias (BERT) is ``lm_head.bias``;
* buffers are absent (BART's ``final_logits_bias``, rotary tables, masks);
* fused q, k, v are one tensor ``attn.qkv.*`` (component ``attention.qkv``, split by width into
  q, k and v by ``analysis.params``); GPT-2's Conv1D matrices are stored ``[in, out]``,
  ``nn.Linear`` ``[out, in]``;
* a matmul weight states its ``in_out`` features and whether it is stored ``[in, out]``;
* routed experts are transformers 5's 3-D parameters: ``experts.gate_up`` (gate and up of every
  expert; ``[E, 2I, H]``, gpt-oss ``[E, H, 2I]``) and ``experts.down``, biases ``*_bias``;
* T5's relative-bias table sits in layer 0 of each stack (``layers == (0,)``).

Canonical names are unique within a stack (``attn.q.weight``, ``cross.o.bias``,
``ffn.gate.weight``, ``norm.weight`` for the final norm, ``lm_head.weight``...); ``hf`` carries
``{i}`` where the layer index goes. ``linear``, ``shorts`` and ``in_out`` are set on a module's
weight only, so a module counts once.
"""

from __future__ import annotations

from functools import cache
from math import prod
from typing import NamedTuple

from llmarch_cli.specs.families import family
from llmarch_cli.specs.model import ArchSpec


class Weight(NamedTuple):
    """One tensor kind, repeated over ``layers`` (None: once per model or stack). A NamedTuple,
    like ``specs.families.Family``, for start-up."""

    stack: str  # "model" (decoder-only / encoder-only, and shared embeddings/head), "encoder", "decoder"
    layers: tuple[int, ...] | None
    name: str  # canonical llmarch name, unique within the stack
    shape: tuple[int, ...]  # as transformers stores it (nn.Linear: [out, in]); experts lead with E
    role: str  # embedding | position | norm | attention | cross_attention | ffn | experts |
    #            shared_experts | router | head | other
    component: str  # the params breakdown key
    hf: str  # transformers' state_dict name, "{i}" for the layer index
    matmul: bool  # multiplies activations (FLOPs per token = 2 x matmul weights used)
    experts: int = 0  # routed experts stacked on the leading axis (0 = not routed)
    shorts: tuple[str, ...] = ()  # LoRA short names it serves (q, k, v, o, gate, up, down)
    linear: bool = False  # an nn.Linear (or GPT-2 Conv1D) module's weight: PEFT all-linear reaches it
    in_out: tuple[int, int] | None = None  # (in, out) features of one matrix of a matmul weight
    stored_in_out: bool = False  # stored [.., in, out] (GPT-2 Conv1D, gpt-oss experts), not [.., out, in]

    @property
    def numel(self) -> int:
        """Elements of one copy."""
        return prod(self.shape)

    @property
    def copies(self) -> int:
        """Layers holding it (1 when held once per model or stack)."""
        return 1 if self.layers is None else len(self.layers)

    @property
    def params(self) -> int:
        """Elements over every layer holding it."""
        return self.numel * self.copies


SHORT_NAMES: tuple[str, ...] = ("q", "k", "v", "o", "gate", "up", "down")


class _Builder:
    def __init__(self, spec: ArchSpec) -> None:
        self.spec, self.fam = spec, family(spec.model_type)
        self.out: list[Weight] = []

    def add(self, *args, **kwargs) -> None:
        weight = Weight(*args, **kwargs)
        if weight.layers is None or weight.layers:  # a tensor of no layer is not a tensor
            self.out.append(weight)

    def norm(self, stack: str, layers, name: str, component: str, hf: str) -> None:
        """A norm over the hidden size: weight, plus bias for LayerNorm with bias."""
        n, h = self.spec.norm, (self.spec.hidden_size,)
        self.add(stack, layers, f"{name}.weight", h, "norm", component, f"{hf}.weight", False)
        if n.kind == "layernorm" and n.bias:
            self.add(stack, layers, f"{name}.bias", h, "norm", component, f"{hf}.bias", False)

    def linear(self, stack: str, layers, name: str, component: str, hf: str, fan: tuple[int, int],
               bias: bool, role: str, shorts: tuple[str, ...] = (), conv1d: bool = False) -> None:
        """A Linear (or Conv1D) module ``hf`` mapping ``fan = (in, out)`` features."""
        fan_in, fan_out = fan
        shape = (fan_in, fan_out) if conv1d else (fan_out, fan_in)
        self.add(stack, layers, f"{name}.weight", shape, role, component, f"{hf}.weight", True,
                 shorts=shorts, linear=True, in_out=fan, stored_in_out=conv1d)
        if bias:
            self.add(stack, layers, f"{name}.bias", (fan_out,), role, component, f"{hf}.bias", False)

    def attention(self, stack: str, layers, block: str, cross: bool) -> None:
        """q, k, v, o of a self- or cross-attention; one fused qkv when the spec fuses them;
        MLA's low-rank projections; QK-norm weights; the output gate doubles q (Qwen3-Next)."""
        a, h, fam = self.spec.attention, self.spec.hidden_size, self.fam
        if not layers:
            return
        if a.mla is not None and not cross:
            self.mla(stack, layers, block)
            return
        q_out, kv_out = a.num_heads * a.head_dim, self.spec.kv_dim
        gate = q_out if a.output_gate and not cross else 0
        name, role = ("cross", "cross_attention") if cross else ("attn", "attention")
        q, k, v, o = fam.attention(cross)
        conv = fam.conv1d
        if a.fused_qkv:
            self.linear(stack, layers, f"{name}.qkv", f"{role}.qkv", block + fam.qkv,
                        (h, q_out + 2 * kv_out), a.q_bias or a.k_bias or a.v_bias, role,
                        ("q", "k", "v"), conv)
        else:
            for short, path, out, bias in (("q", q, q_out + gate, a.q_bias),
                                           ("k", k, kv_out, a.k_bias), ("v", v, kv_out, a.v_bias)):
                self.linear(stack, layers, f"{name}.{short}", f"{role}.{short}", block + path,
                            (h, out), bias, role, (short,), conv)
        self.linear(stack, layers, f"{name}.o", f"{role}.o", block + o, (q_out, h), a.o_bias, role,
                    ("o",), conv)
        if cross or a.qk_norm in (None, "l2"):  # Llama 4's L2 norm has no weights
            return
        per_head = {"head": ((a.head_dim,), (a.head_dim,)),
                    "heads": ((a.num_heads, a.head_dim), (a.num_kv_heads, a.head_dim)),
                    "projection": ((q_out,), (kv_out,))}[a.qk_norm]
        for part, path, shape in zip(("q", "k"), (fam.q_norm, fam.k_norm), per_head, strict=True):
            self.add(stack, layers, f"attn.{part}_norm.weight", shape, "norm", "attention.qk_norm",
                     f"{block}{path}.weight", False)

    def mla(self, stack: str, layers, block: str) -> None:
        """DeepSeek MLA: q (direct, or q_a -> norm -> q_b), kv_a to the latent + the RoPE key,
        the latent norm, kv_b to per-head K (nope) and V, o. attention_bias reaches q_a, kv_a
        and o; q_b, kv_b and a direct q_proj have none."""
        a, h, m = self.spec.attention, self.spec.hidden_size, self.spec.attention.mla
        base, bias, heads = f"{block}{self.fam.mla}.", a.o_bias, a.num_heads
        q_out = heads * a.head_dim
        if m.q_lora_rank is None:
            self.linear(stack, layers, "attn.q", "attention.q", base + "q_proj", (h, q_out), False,
                        "attention", ("q",))
        else:
            r = m.q_lora_rank
            self.linear(stack, layers, "attn.q_a", "attention.q", base + "q_a_proj", (h, r), bias,
                        "attention", ("q",))
            self.add(stack, layers, "attn.q_a_norm.weight", (r,), "norm", "attention.latent_norms",
                     base + "q_a_layernorm.weight", False)
            self.linear(stack, layers, "attn.q_b", "attention.q", base + "q_b_proj", (r, q_out),
                        False, "attention", ("q",))
        self.linear(stack, layers, "attn.kv_a", "attention.kv_a", base + "kv_a_proj_with_mqa",
                    (h, m.latent_dim), bias, "attention", ("k", "v"))
        self.add(stack, layers, "attn.kv_a_norm.weight", (m.kv_lora_rank,), "norm",
                 "attention.latent_norms", base + "kv_a_layernorm.weight", False)
        self.linear(stack, layers, "attn.kv_b", "attention.kv_b", base + "kv_b_proj",
                    (m.kv_lora_rank, heads * (m.qk_nope_head_dim + m.v_head_dim)), False,
                    "attention", ("k", "v"))
        self.linear(stack, layers, "attn.o", "attention.o", base + "o_proj",
                    (heads * m.v_head_dim, h), bias, "attention", ("o",))

    def linear_attention(self, stack: str, layers, block: str) -> None:
        """Qwen3-Next's gated DeltaNet: in_proj_qkvz, in_proj_ba, a depthwise conv over q, k, v
        (nn.Conv1d: not reached by PEFT all-linear), dt_bias and A_log per value head, a gated
        RMSNorm over one value head, out_proj."""
        la, h = self.spec.linear_attention, self.spec.hidden_size
        if not layers or la is None:
            return
        base = f"{block}{self.fam.linear_attn}."
        kd, vd = la.num_key_heads * la.key_head_dim, la.num_value_heads * la.value_head_dim
        c = "linear_attention"
        self.linear(stack, layers, "linear.qkvz", f"{c}.in_proj", base + "in_proj_qkvz",
                    (h, 2 * kd + 2 * vd), False, "attention")
        self.linear(stack, layers, "linear.ba", f"{c}.in_proj", base + "in_proj_ba",
                    (h, 2 * la.num_value_heads), False, "attention")
        self.add(stack, layers, "linear.conv.weight", (la.conv_channels, 1, la.conv_kernel),
                 "attention", f"{c}.conv", base + "conv1d.weight", False)
        for part in ("dt_bias", "A_log"):
            self.add(stack, layers, f"linear.{part}", (la.num_value_heads,), "attention",
                     f"{c}.other", base + part, False)
        self.add(stack, layers, "linear.norm.weight", (la.value_head_dim,), "norm", f"{c}.other",
                 base + "norm.weight", False)
        self.linear(stack, layers, "linear.out", f"{c}.out_proj", base + "out_proj", (vd, h), False,
                    "attention")

    def mamba(self, stack: str, layers, block: str) -> None:
        """A selective SSM mixer: in_proj to x and z, depthwise conv, x_proj to (dt, B, C),
        dt_proj, A_log [inner, d_state], D [inner], out_proj; Jamba adds norms on dt, B, C."""
        m, h = self.spec.mamba, self.spec.hidden_size
        if not layers or m is None:
            return
        base, inner = f"{block}{self.fam.mamba}.", m.inner_size
        self.linear(stack, layers, "mamba.in", "mamba.in_proj", base + "in_proj", (h, 2 * inner),
                    m.proj_bias, "attention")
        self.add(stack, layers, "mamba.conv.weight", (inner, 1, m.d_conv), "attention", "mamba.conv",
                 base + "conv1d.weight", False)
        if m.conv_bias:
            self.add(stack, layers, "mamba.conv.bias", (inner,), "attention", "mamba.conv",
                     base + "conv1d.bias", False)
        self.linear(stack, layers, "mamba.x", "mamba.x_proj", base + "x_proj",
                    (inner, m.dt_rank + 2 * m.d_state), False, "attention")
        self.linear(stack, layers, "mamba.dt", "mamba.dt_proj", base + "dt_proj", (m.dt_rank, inner),
                    True, "attention")
        self.add(stack, layers, "mamba.A_log", (inner, m.d_state), "attention", "mamba.state",
                 base + "A_log", False)
        self.add(stack, layers, "mamba.D", (inner,), "attention", "mamba.state", base + "D", False)
        if m.inner_norms:
            for part, width in (("dt", m.dt_rank), ("b", m.d_state), ("c", m.d_state)):
                self.add(stack, layers, f"mamba.{part}_norm.weight", (width,), "norm", "mamba.state",
                         f"{base}{part}_layernorm.weight", False)
        self.linear(stack, layers, "mamba.out", "mamba.out_proj", base + "out_proj", (inner, h),
                    m.proj_bias, "attention")

    def ffn(self, stack: str, layers, block: str, name: str, role: str, component: str,
            paths: tuple[str, str, str], width: int) -> None:
        """gate (if gated), up and down of an FFN of inner ``width``; ``paths``: (gate, up, down)."""
        h, f = self.spec.hidden_size, self.spec.ffn
        if not layers:
            return
        gate, up, down = paths
        parts = [("up", up, (h, width), ("up",)), ("down", down, (width, h), ("down",))]
        if f.kind == "gated" and f.fused_gate_up:  # Phi-3: one gate_up_proj [2I, H]
            parts[0] = ("gate_up", up, (h, 2 * width), ("gate", "up"))
        elif f.kind == "gated":
            parts.insert(0, ("gate", gate, (h, width), ("gate",)))
        for short, path, fan, shorts in parts:
            self.linear(stack, layers, f"{name}.{short}", f"{component}.{short}" if role == "ffn"
                        else component, block + path, fan, f.bias, role, shorts, self.fam.conv1d)

    def experts(self, stack: str, layers, block: str) -> None:
        """Routed experts as 3-D parameters, and the router."""
        spec, fam = self.spec, self.fam
        moe, h, width = spec.moe, spec.hidden_size, spec.ffn.intermediate_size
        e = moe.num_experts
        self.add(stack, layers, "router.weight", (e, h), "router", "moe.router",
                 f"{block}{fam.router}.weight", True, in_out=(h, e), linear=fam.router_linear)
        if moe.router_bias:
            self.add(stack, layers, "router.bias", (e,), "router", "moe.router",
                     f"{block}{fam.router}.bias", False)
        up = "gate_up" if spec.ffn.kind == "gated" else "up"
        up_width = 2 * width if spec.ffn.kind == "gated" else width
        for part, fan in ((up, (h, up_width)), ("down", (width, h))):
            shape = (e, *fan) if fam.experts_in_out else (e, *reversed(fan))
            hf = f"{block}{fam.experts}.{part}_proj"
            self.add(stack, layers, f"experts.{part}", shape, "experts", "moe.experts", hf, True,
                     experts=e, in_out=fan, stored_in_out=fam.experts_in_out)
            if spec.ffn.bias:
                self.add(stack, layers, f"experts.{part}_bias", (e, fan[1]), "experts", "moe.experts",
                         f"{hf}_bias", False, experts=e)

    def stack(self, stack: str, root: str, count: int) -> None:
        """One stack of blocks below ``root`` (the prefix, plus encoder./decoder.)."""
        spec, fam, a, pos = self.spec, self.fam, self.spec.attention, self.spec.positions
        decoder = stack == "decoder"
        layers = tuple(range(count))
        block = f"{root}{fam.layers}.{{i}}."
        ffn_sub = 2 if decoder else 1

        def sub(n: int) -> str:
            return f"{block}layer.{n}." if fam.sublayers else block

        if pos.kind == "learned":
            self.add(stack, None, "pos.weight", (pos.max_positions + pos.offset, spec.hidden_size),
                     "position", "embeddings.position", root + fam.position, False)
        kinds = spec.layer_kinds() if stack == "model" else ("full",) * count

        def where(keep) -> tuple[int, ...]:
            """The layers for which ``keep(i)`` holds (``layers`` itself when all do)."""
            chosen = tuple(i for i in layers if keep(i))
            return layers if chosen == layers else chosen

        attends = where(lambda i: kinds[i] in ("full", "sliding", "chunked"))
        self.attention(stack, attends, sub(0), cross=False)
        self.linear_attention(stack, where(lambda i: kinds[i] == "linear"), block)
        self.mamba(stack, where(lambda i: kinds[i] == "mamba"), block)
        if a.sinks:
            self.add(stack, attends, "attn.sinks", (a.num_heads,), "attention", "attention.sinks",
                     sub(0) + fam.sinks, False)
        if pos.relative is not None:
            self.add(stack, (0,), "attn.relative_bias.weight", (pos.relative.num_buckets, a.num_heads),
                     "position", "attention.relative_bias", f"{sub(0)}{fam.relative_bias}.weight", False)
        if decoder:
            self.attention(stack, layers, sub(1), cross=True)
        moe = spec.moe
        bare = spec.mamba is not None and not spec.mamba.with_ffn  # Mamba 1: the mixer alone
        ffn_layers = where(lambda i: not (bare and kinds[i] == "mamba"))
        sparse = () if moe is None else where(lambda i: i in ffn_layers and i not in moe.dense_layers)
        dense = where(lambda i: i in ffn_layers and i not in sparse)
        paths = (fam.gate, fam.up_path(spec.ffn.kind == "gated"), fam.down)
        width = spec.ffn.intermediate_size
        if moe is not None and moe.dense_intermediate_size is not None:
            width = moe.dense_intermediate_size
        self.ffn(stack, dense, sub(ffn_sub), "ffn", "ffn", "ffn", paths, width)
        if sparse:
            self.experts(stack, sparse, sub(ffn_sub))
            if moe.num_shared_experts and moe.shared_intermediate_size:
                shared = tuple(f"{fam.shared_experts}.{p}_proj" for p in ("gate", "up", "down"))
                self.ffn(stack, sparse, sub(ffn_sub), "shared", "shared_experts",
                         "moe.shared_experts", shared,
                         moe.num_shared_experts * moe.shared_intermediate_size)
            if moe.shared_gate:
                self.linear(stack, sparse, "shared.gate_score", "moe.shared_experts",
                            sub(ffn_sub) + fam.shared_gate, (spec.hidden_size, 1), False,
                            "shared_experts")
        self.block_norms(stack, layers, ffn_layers, decoder, sub, ffn_sub)
        if spec.norm.embedding_norm:
            self.norm(stack, None, "embed_norm", "norms.embedding", root + fam.embed_norm)
        if spec.norm.final_norm:
            self.norm(stack, None, "norm", "norms.final", root + fam.final_norm)

    def block_norms(self, stack: str, layers, ffn_layers, decoder: bool, sub, ffn_sub: int) -> None:
        """The norms inside each block, by placement: pre (one before each sub-layer; one shared
        by a parallel block with ``parallel_norms`` 1), sandwich (before and after each), or
        sublayer_post (after each, inside the residual: OLMo 2)."""
        spec, fam = self.spec, self.fam
        placement = spec.norm.placement
        if spec.residual == "parallel" and spec.parallel_norms == 2 and fam.parallel_norms:
            attn_norm, ffn_norm = fam.parallel_norms
        else:
            attn_norm, ffn_norm = fam.attn_norm, fam.ffn_norm
        if placement != "sublayer_post":
            self.norm(stack, layers, "attn_norm", "norms", sub(0) + attn_norm)
        if placement in ("sandwich", "sublayer_post"):
            self.norm(stack, layers, "attn_post_norm", "norms", sub(0) + fam.attn_post_norm)
        if decoder:
            self.norm(stack, layers, "cross_norm", "norms", sub(1) + fam.cross_norm)
        if placement == "sublayer_post":
            self.norm(stack, ffn_layers, "ffn_post_norm", "norms", sub(ffn_sub) + fam.ffn_post_norm)
            return
        if decoder or not (spec.residual == "parallel" and spec.parallel_norms == 1):
            self.norm(stack, ffn_layers, "ffn_norm", "norms", sub(ffn_sub) + ffn_norm)
        if placement == "sandwich":
            self.norm(stack, ffn_layers, "ffn_post_norm", "norms", sub(ffn_sub) + fam.ffn_post_norm)

    def build(self) -> tuple[Weight, ...]:
        spec, fam, h = self.spec, self.fam, self.spec.hidden_size
        vocab, head, prefix = spec.embeddings.vocab_size, spec.head, fam.prefixes[0]
        self.add("model", None, "embed.weight", (vocab, h), "embedding", "embeddings.token",
                 prefix + fam.probe, head.tied, in_out=(h, vocab) if head.tied else None)
        if spec.embeddings.token_types:
            self.add("model", None, "token_type.weight", (spec.embeddings.token_types, h), "embedding",
                     "embeddings.token_type", prefix + fam.token_type, False)
        if spec.architecture == "encoder-decoder":
            self.stack("encoder", f"{prefix}encoder.", spec.num_layers)
            self.stack("decoder", f"{prefix}decoder.", spec.num_decoder_layers or 0)
        else:
            self.stack("model", prefix, spec.num_layers)
        if head.transform:  # BERT's MLM transform: dense H->H with bias, then a LayerNorm
            t = fam.head_transform
            self.linear("model", None, "head.transform", "head.transform", f"{t}.dense", (h, h), True,
                        "other")
            self.norm("model", None, "head.transform_norm", "head.transform", f"{t}.LayerNorm")
        if not head.tied:
            self.add("model", None, "lm_head.weight", (vocab, h), "head", "head",
                     f"{fam.head}.weight", True, linear=True, in_out=(h, vocab))
        if head.bias:
            self.add("model", None, "lm_head.bias", (vocab,), "head",
                     "head.bias" if head.tied else "head", fam.head_bias, False)
        return tuple(self.out)


@cache
def inventory(spec: ArchSpec) -> tuple[Weight, ...]:
    """Every tensor of ``spec`` in params-breakdown order (see the module docstring)."""
    return _Builder(spec).build()

