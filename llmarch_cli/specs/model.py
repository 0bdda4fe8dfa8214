"""ArchSpec: what an architecture is, independent of any framework.

Every size is an exact integer count (features, heads, tokens). Every model is frozen and
rejects unknown fields, so a typo in a spec file is an error, not a silent default.

The parts map one to one onto what a transformer block is built from:
``Attention`` (heads, KV heads, head dim, biases, window pattern, sinks), ``Positions``
(sinusoidal, learned, RoPE with its scaling, ALiBi, T5 buckets), ``Norm`` (kind, eps,
placement), ``FFN`` (plain or gated, activation, width), ``MoE`` (experts replacing the FFN),
``Embeddings`` and ``Head``. ``Meta`` carries who made it, when, under which licence, and
where every number came from.
"""

from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, Strict, field_validator, model_validator

Architecture = Literal["decoder", "encoder", "encoder-decoder"]
NormKind = Literal["layernorm", "rmsnorm"]
Activation = Literal["relu", "gelu", "gelu_tanh", "quick_gelu", "silu"]
LayerType = Literal["full", "sliding", "chunked", "linear", "mamba"]
ATTENTION_LAYER_TYPES = ("full", "sliding", "chunked")  # layers that cache K and V per token
PositionKind = Literal["sinusoidal", "learned", "rope", "alibi", "relative_buckets", "none"]
RopeScalingKind = Literal["linear", "dynamic", "yarn", "llama3", "longrope"]
Routing = Literal[
    "softmax_topk_renorm",  # softmax over all experts, top-k, renormalised (Mixtral)
    "topk_softmax",  # top-k logits, softmax over those k (gpt-oss)
    "softmax_topk",  # softmax over all, top-k, not renormalised (Qwen2-MoE default)
    "sigmoid_topk",  # top-k logits, sigmoid of each (Llama 4)
    "sigmoid_group_topk",  # sigmoid + correction bias, group-limited top-k (DeepSeek-V3 noaux_tc)
    "softmax_group_topk",  # softmax, group-limited top-k (DeepSeek-V2 group_limited_greedy)
]
ROUTINGS: tuple[str, ...] = get_args(Routing)
# The orders that pick from the router logits alone (the group-limited ones also need groups).
TOKEN_ROUTINGS: tuple[str, ...] = ROUTINGS[:4]
HeadKind = Literal["causal_lm", "masked_lm", "seq2seq_lm"]

# Sizes are strict integers: true, 4096.5 or "4096" are errors, not coerced.
Count = Annotated[int, Strict()]
PositiveInt = Field(gt=0)
# Upper bounds, far above any real model (beyond them a number is a typo, and exact counts
# would grow past what any analysis needs): analyses walk the layers one by one.
MAX_LAYERS = 100_000  # real models: a few hundred
MAX_WIDTH = 1 << 24  # hidden size, FFN width, head dim, heads (real: at most ~10^5)
MAX_EXPERTS = 1 << 16  # routed experts per layer (real: a few hundred)
MAX_VOCAB = 1 << 24  # 16,777,216 tokens (real: at most ~10^6)
MAX_CONTEXT = 1 << 40  # 1,099,511,627,776 tokens: context, windows, position tables (real: ~10^7)
Width = Field(gt=0, le=MAX_WIDTH)


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False, defer_build=True)


class MLA(_Part):
    """Multi-head latent attention (DeepSeek-V2 §2.1): K and V come from one cached latent.

    q: ``q_lora_rank`` (None = a plain projection) -> heads x (nope + rope); kv: H ->
    ``kv_lora_rank + qk_rope_head_dim`` (the cached part), then the latent -> heads x (nope + v).
    """

    q_lora_rank: Count | None = Field(None, gt=0, le=MAX_WIDTH)
    kv_lora_rank: Count = Width
    qk_nope_head_dim: Count = Width
    qk_rope_head_dim: Count = Width
    v_head_dim: Count = Width

    @property
    def latent_dim(self) -> int:
        """Values cached per token per layer: the KV latent plus the shared RoPE key."""
        return self.kv_lora_rank + self.qk_rope_head_dim


class LinearAttention(_Part):
    """Gated DeltaNet layers (Qwen3-Next): a causal conv over q/k/v, then a recurrent state."""

    num_key_heads: Count = Width
    num_value_heads: Count = Width
    key_head_dim: Count = Width
    value_head_dim: Count = Width
    conv_kernel: Count = Width

    @property
    def conv_channels(self) -> int:
        return 2 * self.num_key_heads * self.key_head_dim + self.num_value_heads * self.value_head_dim

    def state_values(self, extra_conv_step: int = 0) -> int:
        """Values held per sequence: the conv window (kernel - 1 steps, + ``extra_conv_step``
        as transformers keeps ``kernel``) + one key x value state per value head."""
        recurrent = self.num_value_heads * self.key_head_dim * self.value_head_dim
        return self.conv_channels * (self.conv_kernel - 1 + extra_conv_step) + recurrent


class Mamba(_Part):
    """Selective state-space layers (Mamba 1; Jamba): in_proj to 2 x inner, conv, x/dt proj."""

    d_state: Count = Width
    d_conv: Count = Width
    inner_size: Count = Field(gt=0, le=MAX_WIDTH, description="SSM channels (expand x hidden in the releases)")
    dt_rank: Count = Width
    conv_bias: bool = True
    proj_bias: bool = False
    inner_norms: bool = Field(False, description="RMSNorms on dt, B and C (Jamba)")
    with_ffn: bool = Field(
        True, description="the layer also has the FFN sub-layer (Jamba); Mamba 1 blocks are the mixer alone"
    )

    def state_values(self, extra_conv_step: int = 0) -> int:
        """Values held per sequence: the conv window (d_conv - 1 steps, + ``extra_conv_step``
        as transformers keeps d_conv) + the SSM state inner x d_state."""
        return self.inner_size * (self.d_conv - 1 + extra_conv_step + self.d_state)


class TemperatureTuning(_Part):
    """Llama 4's attention temperature on layers without RoPE: the query at position ``p`` is
    multiplied by ``1 + attn_scale * ln(1 + floor((p + 1) / floor_scale))``, so scores sharpen
    as the context grows past ``floor_scale`` tokens (arXiv 2501.19399)."""

    floor_scale: Count = Field(gt=0, le=MAX_CONTEXT, description="tokens per step of the scale")
    attn_scale: float = Field(ge=0, description="growth of the query scale per log step")


class Attention(_Part):
    """Self-attention of one layer. ``num_kv_heads`` < ``num_heads`` is GQA, 1 is MQA."""

    num_heads: Count = Width
    num_kv_heads: Count = Width
    head_dim: Count = Width
    q_bias: bool = False
    k_bias: bool = False
    v_bias: bool = False
    o_bias: bool = False
    fused_qkv: bool = Field(False, description="q, k, v stored as one matrix (GPT-2 c_attn, NeoX, BLOOM)")
    scale: float | None = Field(None, description="score scale; None = head_dim ** -0.5 (T5 uses 1.0)")
    sliding_window: Count | None = Field(None, gt=0, le=MAX_CONTEXT, description="keys per query, itself included")
    layer_types: tuple[LayerType, ...] | None = Field(
        None, description="per-layer full/sliding pattern; None = every layer sliding if a window is set"
    )
    sinks: bool = Field(False, description="one learned sink logit per head (gpt-oss)")
    qk_norm: Literal["head", "heads", "projection", "l2"] | None = Field(
        None, description="norm on q and k: head = one [head_dim] weight shared by the heads "
        "(Qwen3, Gemma 3), heads = one per head (Command R+), projection = over the whole q/k "
        "projection (OLMo 2), l2 = weightless L2 norm (Llama 4)"
    )
    softcap: float | None = Field(None, gt=0, description="score soft-cap c: c·tanh(s/c) (Gemma 2)")
    output_gate: bool = Field(
        False, description="q_proj also yields a sigmoid gate on the attention output (Qwen3-Next)"
    )
    chunk_size: Count | None = Field(
        None, gt=0, description="chunked layers attend within blocks of this many tokens (Llama 4)"
    )
    nope_layers: tuple[int, ...] = Field((), description="layers without RoPE (Llama 4)")
    temperature_tuning: TemperatureTuning | None = Field(
        None, description="query temperature on the layers without RoPE (Llama 4)"
    )
    mla: MLA | None = Field(None, description="multi-head latent attention (DeepSeek-V2/V3)")

    @model_validator(mode="after")
    def _heads_group(self) -> "Attention":
        if self.num_heads % self.num_kv_heads:
            raise ValueError(
                f"num_kv_heads ({self.num_kv_heads}) must divide num_heads ({self.num_heads})"
            )
        types = self.layer_types or ()
        if "sliding" in types and self.sliding_window is None:
            raise ValueError("layer_types has sliding layers but sliding_window is not set")
        if "chunked" in types and self.chunk_size is None:
            raise ValueError("layer_types has chunked layers but chunk_size is not set")
        if self.mla is not None:
            m = self.mla
            if self.head_dim != m.qk_nope_head_dim + m.qk_rope_head_dim:
                raise ValueError(
                    f"MLA head_dim ({self.head_dim}) must equal qk_nope_head_dim + "
                    f"qk_rope_head_dim ({m.qk_nope_head_dim} + {m.qk_rope_head_dim})"
                )
            if self.num_kv_heads != self.num_heads:
                raise ValueError("MLA decompresses K and V for every head: num_kv_heads = num_heads")
        return self

    @property
    def kind(self) -> Literal["MHA", "GQA", "MQA", "MLA"]:
        if self.mla is not None:
            return "MLA"
        if self.num_kv_heads == self.num_heads:
            return "MHA"
        return "MQA" if self.num_kv_heads == 1 else "GQA"

    def layer_type(self, layer: int) -> LayerType:
        """The kind of ``layer``: full, sliding, chunked, linear or mamba."""
        if self.layer_types is not None:
            return self.layer_types[layer]
        return "full" if self.sliding_window is None else "sliding"

    def layer_window(self, layer: int) -> int | None:
        """Keys a query in ``layer`` may see, or None for full attention."""
        if self.sliding_window is None:
            return None
        return self.sliding_window if self.layer_type(layer) == "sliding" else None


class RopeScaling(_Part):
    """RoPE frequency scaling as transformers applies it (``rope_type``)."""

    kind: RopeScalingKind
    factor: float = Field(gt=0)
    original_max_positions: Count | None = Field(None, gt=0, le=MAX_CONTEXT)
    low_freq_factor: float | None = None
    high_freq_factor: float | None = None
    beta_fast: float | None = None
    beta_slow: float | None = None
    truncate: bool | None = None
    attention_factor: float | None = None
    mscale: float | None = None
    mscale_all_dim: float | None = None
    short_factor: tuple[float, ...] | None = None
    long_factor: tuple[float, ...] | None = None


class Rope(_Part):
    theta: float = Field(gt=0)
    rotary_dim: Count = Field(gt=0, le=MAX_WIDTH, description="dimensions rotated per head (partial rotary < head_dim)")
    pairing: Literal["half", "interleaved"] = Field(
        "half", description="half: (x_i, x_{i+d/2}) as in Llama/NeoX; interleaved: (x_2i, x_2i+1) as in GPT-J"
    )
    scaling: RopeScaling | None = None


class RelativeBuckets(_Part):
    """T5 relative position buckets: one bias table per stack, in its first layer."""

    num_buckets: Count = Field(gt=0, le=MAX_CONTEXT)
    max_distance: Count = Field(gt=0, le=MAX_CONTEXT)


class Positions(_Part):
    kind: PositionKind
    max_positions: Count | None = Field(None, gt=0, le=MAX_CONTEXT, description="rows of a learned table")
    offset: Count = Field(0, ge=0, le=MAX_CONTEXT, description="extra learned rows before position 0 (BART: 2)")
    rope: Rope | None = None
    local_rope: Rope | None = Field(None, description="RoPE of sliding layers when it differs (Gemma 3)")
    relative: RelativeBuckets | None = None

    @model_validator(mode="after")
    def _parts_match_kind(self) -> "Positions":
        if (self.kind == "rope") != (self.rope is not None):
            raise ValueError("positions.rope must be set exactly when positions.kind is 'rope'")
        if (self.kind == "relative_buckets") != (self.relative is not None):
            raise ValueError("positions.relative must be set exactly when kind is 'relative_buckets'")
        if self.kind == "learned" and self.max_positions is None:
            raise ValueError("learned positions need positions.max_positions")
        if self.local_rope is not None and self.rope is None:
            raise ValueError("positions.local_rope needs positions.rope")
        return self


class Norm(_Part):
    kind: NormKind
    eps: float = Field(gt=0, allow_inf_nan=False)
    bias: bool = Field(True, description="LayerNorm with a bias; RMSNorm never has one")
    placement: Literal["pre", "post", "sandwich", "sublayer_post"] = Field(
        "pre", description="pre: norm -> sub-layer -> add; post: add -> norm (BERT); sandwich: "
        "norms before and after each sub-layer (Gemma 2/3); sublayer_post: sub-layer -> norm -> add "
        "(OLMo 2)"
    )
    unit_offset: bool = Field(False, description="RMSNorm scales by (1 + w) (Gemma)")
    final_norm: bool = True
    embedding_norm: bool = Field(False, description="a norm right after the embeddings (BLOOM, BERT, BART)")

    @property
    def per_layer(self) -> int:
        """Norms a sequential block holds (self-attention + FFN)."""
        return 4 if self.placement == "sandwich" else 2

    @model_validator(mode="after")
    def _rms_has_no_bias(self) -> "Norm":
        if self.kind == "rmsnorm" and self.bias:
            raise ValueError("rmsnorm has no bias: set norm.bias = false")
        return self


class FFN(_Part):
    """Position-wise MLP. plain: W2·act(W1 x); gated: W2(act(Wg x) ⊙ Wu x) (SwiGLU, GeGLU)."""

    kind: Literal["plain", "gated"]
    activation: Activation
    intermediate_size: Count = Width
    bias: bool = False
    fused_gate_up: bool = Field(False, description="gate and up stored as one matrix (Phi-3)")
    glu_limit: float | None = Field(None, gt=0, description="clamp of gpt-oss's SwiGLU (7.0)")
    glu_alpha: float | None = Field(None, gt=0, description="sigmoid slope of gpt-oss's SwiGLU (1.702)")

    @property
    def label(self) -> str:
        if self.kind == "plain":
            return self.activation.upper().replace("_", "-")
        name = {"silu": "SwiGLU", "gelu": "GeGLU", "gelu_tanh": "GeGLU", "relu": "ReGLU"}
        if self.glu_limit is not None:
            return "SwiGLU (clamped)"
        return name.get(self.activation, f"{self.activation}-GLU")


class MoE(_Part):
    """Experts replace the FFN: each expert is an FFN of ``ffn.intermediate_size``."""

    num_experts: Count = Field(gt=0, le=MAX_EXPERTS)
    top_k: Count = PositiveInt
    routing: Routing = "softmax_topk_renorm"
    router_bias: bool = False
    num_shared_experts: Count = Field(0, ge=0, le=MAX_EXPERTS)
    shared_intermediate_size: Count | None = Field(
        None, gt=0, le=MAX_WIDTH, description="width of one shared expert"
    )
    shared_gate: bool = Field(False, description="sigmoid gate [1, H] on the shared expert (Qwen2-MoE)")
    dense_layers: tuple[int, ...] = Field((), description="layers with a dense FFN instead of experts")
    dense_intermediate_size: Count | None = Field(
        None, gt=0, le=MAX_WIDTH, description="FFN width of the dense layers; None = ffn.intermediate_size"
    )
    correction_bias: bool = Field(
        False, description="per-expert score correction bias for selection (DeepSeek-V3 noaux_tc)"
    )
    num_groups: Count = Field(1, gt=0, le=MAX_EXPERTS, description="expert groups for group-limited top-k")
    topk_groups: Count = Field(1, gt=0, le=MAX_EXPERTS, description="groups a token may pick experts from")
    routed_scaling: float = Field(1.0, gt=0, description="routed output multiplier (DeepSeek 2.5)")

    @model_validator(mode="after")
    def _top_k_fits(self) -> "MoE":
        if self.top_k > self.num_experts:
            raise ValueError(f"moe.top_k ({self.top_k}) exceeds moe.num_experts ({self.num_experts})")
        if self.num_shared_experts and self.shared_intermediate_size is None:
            raise ValueError("shared experts need a width: set moe.shared_intermediate_size")
        if self.num_experts % self.num_groups or self.topk_groups > self.num_groups:
            raise ValueError(
                f"moe.num_groups ({self.num_groups}) must divide the experts and be at least "
                f"moe.topk_groups ({self.topk_groups})"
            )
        return self


class Embeddings(_Part):
    vocab_size: Count = Field(gt=0, le=MAX_VOCAB)
    token_types: Count = Field(0, ge=0, le=MAX_VOCAB, description="BERT segment embeddings")
    scale: float | None = Field(
        None, description="multiply embeddings by this (BART, Gemma: sqrt(d); Granite embedding_multiplier)"
    )


class Head(_Part):
    """The output head counted: causal LM, masked LM (BERT), or seq2seq LM."""

    kind: HeadKind = "causal_lm"
    tied: bool = Field(False, description="shares the token embedding matrix")
    bias: bool = Field(False, description="a bias over the vocabulary that is a parameter")
    transform: bool = Field(False, description="BERT's dense + LayerNorm before the decoder")
    output_scale: float | None = Field(
        None, description="multiply the logits (T5 v1.0 d^-0.5, Cohere logit_scale, Granite "
        "1 / logits_scaling)"
    )
    softcap: float | None = Field(None, gt=0, description="final logit soft-cap c·tanh(x/c) (Gemma 2)")


class Meta(_Part):
    name: str
    family: str
    developer: str = ""
    released: str = Field("", description="YYYY-MM or YYYY-MM-DD")
    licence: str = ""
    open_licence: bool = Field(False, description="OSI open source (Apache-2.0, MIT)")
    languages: tuple[str, ...] = ()
    hf_id: str | None = None
    aliases: tuple[str, ...] = ()
    source: str = Field("", description="where the numbers come from")
    notes: str = ""


class ArchSpec(_Part):
    """One architecture. Encoder-decoders describe both stacks with the same parts."""

    id: str = Field(min_length=1)
    architecture: Architecture
    model_type: str | None = Field(None, description="the Hugging Face model_type it came from")
    hidden_size: Count = Width
    num_layers: Count = Field(gt=0, le=MAX_LAYERS)
    num_decoder_layers: Count | None = Field(None, gt=0, le=MAX_LAYERS, description="encoder-decoder only")
    attention: Attention
    positions: Positions
    norm: Norm
    ffn: FFN
    moe: MoE | None = None
    linear_attention: LinearAttention | None = Field(None, description="the 'linear' layers")
    mamba: Mamba | None = Field(None, description="the 'mamba' layers")
    residual: Literal["sequential", "parallel"] = "sequential"
    parallel_norms: Literal[1, 2] = Field(2, description="parallel blocks: one shared norm (GPT-J) or two (NeoX)")
    residual_scale: float | None = Field(None, description="sub-layer outputs scaled before the add (Granite)")
    embeddings: Embeddings
    head: Head = Head.model_construct()  # = Head(), without building its validator at import
    max_context: Count = Field(gt=0, le=MAX_CONTEXT)
    meta: Meta

    @field_validator("id")
    @classmethod
    def _id_is_plain(cls, value: str) -> str:
        if any(ch.isspace() for ch in value):
            raise ValueError("id must not contain whitespace")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "ArchSpec":
        layers = self.num_layers
        types = self.attention.layer_types
        if types is not None and len(types) != layers:
            raise ValueError(f"attention.layer_types has {len(types)} entries for {layers} layers")
        if self.architecture == "encoder-decoder":
            if self.num_decoder_layers is None:
                raise ValueError("an encoder-decoder needs num_decoder_layers")
        elif self.num_decoder_layers is not None:
            raise ValueError("num_decoder_layers is only for encoder-decoder architectures")
        if self.moe is not None and any(not 0 <= i < layers for i in self.moe.dense_layers):
            raise ValueError(f"moe.dense_layers must lie in 0..{layers - 1}")
        if any(not 0 <= i < layers for i in self.attention.nope_layers):
            raise ValueError(f"attention.nope_layers must lie in 0..{layers - 1}")
        kinds = set(types or ())
        if "linear" in kinds and self.linear_attention is None:
            raise ValueError("layer_types has linear layers but linear_attention is not set")
        if "mamba" in kinds and self.mamba is None:
            raise ValueError("layer_types has mamba layers but mamba is not set")
        if kinds & {"linear", "mamba"} and self.architecture != "decoder":
            raise ValueError("linear-attention and mamba layers are for decoder-only models")
        mla = self.attention.mla
        if mla is not None and self.positions.rope is not None:
            if self.positions.rope.rotary_dim != mla.qk_rope_head_dim:
                raise ValueError(
                    f"MLA rotates qk_rope_head_dim ({mla.qk_rope_head_dim}) dims, but "
                    f"rope.rotary_dim is {self.positions.rope.rotary_dim}"
                )
        for rope in (self.positions.rope, self.positions.local_rope):
            if rope is not None and 2 * -(-rope.rotary_dim // 2) > self.attention.head_dim:
                # transformers rotates ceil(d/2) pairs: an odd d fits only beside unrotated dims
                raise ValueError(f"rope.rotary_dim ({rope.rotary_dim}) is odd and fills the head: RoPE "
                                 f"rotates pairs, {rope.rotary_dim + 1} dims in a head of "
                                 f"{self.attention.head_dim}")
            if rope is not None and rope.rotary_dim > self.attention.head_dim:
                raise ValueError(
                    f"rope.rotary_dim ({rope.rotary_dim}) exceeds head_dim ({self.attention.head_dim})"
                )
        return self

    def layer_kinds(self) -> tuple[LayerType, ...]:
        """The kind of every (decoder) layer."""
        n = self.num_layers
        return tuple(self.attention.layer_type(i) for i in range(n))

    @property
    def kv_dim(self) -> int:
        """Width of one layer's K (or V) projection: kv heads x head dim."""
        return self.attention.num_kv_heads * self.attention.head_dim

    @property
    def features(self) -> tuple[str, ...]:
        """Short tags used by ``list --feature``: gqa, mqa, mha, moe, swa, rope, alibi, ..."""
        a = self.attention
        kinds = set(self.layer_kinds())
        attends = bool(kinds & set(ATTENTION_LAYER_TYPES))
        tags = [a.kind.lower()] if attends else []
        tags += [self.positions.kind.replace("_", "-"), self.norm.kind]
        if self.ffn.kind == "gated":
            tags.append("gated-ffn")
            tags.append(self.ffn.label.split()[0].lower())
        if self.moe is not None:
            tags.append("moe")
        if a.sliding_window is not None:
            tags.append("swa")
        if a.sinks:
            tags.append("sinks")
        if a.mla is not None:
            tags.append("mla")
        if a.qk_norm is not None:
            tags.append("qk-norm")
        if "sliding" in kinds and kinds & {"full", "chunked"}:
            tags.append("local-global")
        if "chunked" in kinds:
            tags.append("chunked")
        if kinds & {"linear", "mamba"}:
            tags.append("hybrid" if kinds & set(ATTENTION_LAYER_TYPES) else "ssm")
        if self.moe is not None and self.moe.num_shared_experts:
            tags.append("shared-experts")
        if a.softcap is not None or self.head.softcap is not None:
            tags.append("softcap")
        if self.residual == "parallel":
            tags.append("parallel")
        if self.head.tied:
            tags.append("tied")
        if any((a.q_bias, a.k_bias, a.v_bias)):
            tags.append("qkv-bias")
        return tuple(dict.fromkeys(tags))


def head_dim_for(hidden_size: int, num_heads: int) -> int:
    """hidden_size / num_heads, or a ValueError naming both when it does not divide."""
    if num_heads <= 0 or hidden_size % num_heads:
        raise ValueError(
            f"num_heads ({num_heads}) does not divide hidden_size ({hidden_size}) and no head_dim is given"
        )
    return hidden_size // num_heads
