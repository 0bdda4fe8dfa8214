"""Per Hugging Face ``model_type``: the llmarch family name and where each module lives.

The one table of module paths, read by ``specs.inventory`` (every tensor's transformers name,
from which LoRA targets and checkpoint names follow). Paths are as transformers 5.x (or, for
Qwen 1, the checkpoint's own ``modeling_qwen.py``) names them: ``probe`` below the base-model
prefix; positions, embedding and final norms below a stack's root (the prefix, plus
``encoder.``/``decoder.`` in encoder-decoders); everything else below one layer
(``{root}{layers}.{i}.``). T5's layer paths are relative to the sub-layer (``layer.{n}.``:
self-attention 0, cross-attention 1, FFN last) when ``sublayers`` is set. The head lives at
the top, outside the prefix. A spec with no known ``model_type`` gets Llama's names.
"""

from __future__ import annotations

from typing import NamedTuple


class Family(NamedTuple):
    """Module paths of one family. ``qkv`` is used when the spec fuses q, k and v.

    A NamedTuple rather than a dataclass: one is defined in ~0.1 ms instead of ~2 ms, which
    every command's start-up pays (docs/performance.md).
    """

    name: str  # the family used by presets and registry.FAMILY_REPRESENTATIVES
    prefixes: tuple[str, ...] = ("model.",)  # base-model prefixes a checkpoint may carry
    probe: str = "embed_tokens.weight"  # the token embedding; reveals which prefix a checkpoint carries
    token_type: str = "embeddings.token_type_embeddings.weight"
    position: str = "embed_positions.weight"  # a learned position table, below the stack root
    embed_norm: str = "layernorm_embedding"
    final_norm: str = "norm"
    layers: str = "layers"  # the layer list below the stack root
    sublayers: bool = False  # T5: layer paths below ``layer.{n}.``
    attn_norm: str = "input_layernorm"
    ffn_norm: str = "post_attention_layernorm"
    attn_post_norm: str = "post_attention_layernorm"  # after attention (Gemma 2/3, OLMo 2)
    ffn_post_norm: str = "post_feedforward_layernorm"  # after the FFN (Gemma 2/3, OLMo 2)
    parallel_norms: tuple[str, str] | None = None  # two norms of a parallel block (Falcon 40B)
    q_norm: str = "self_attn.q_norm"
    k_norm: str = "self_attn.k_norm"
    mla: str = "self_attn"  # parent of DeepSeek's q_a_proj ... kv_b_proj
    linear_attn: str = "linear_attn"  # Qwen3-Next's gated DeltaNet
    mamba: str = "mamba"  # Jamba's mixer (Mamba 1: "mixer")
    shared_gate: str = "mlp.shared_expert_gate"
    cross_norm: str = "encoder_attn_layer_norm"
    sinks: str = "self_attn.sinks"
    relative_bias: str = "SelfAttention.relative_attention_bias"  # T5, in layer 0 only
    q: str = "self_attn.q_proj"
    k: str = "self_attn.k_proj"
    v: str = "self_attn.v_proj"
    o: str = "self_attn.o_proj"
    qkv: str = "self_attn.qkv_proj"  # an llmarch label when a family without one is fused
    cross: str = "encoder_attn"  # parent module of the cross-attention q/k/v/o
    gate: str = "mlp.gate_proj"
    up: str = "mlp.up_proj"
    gated_up: str | None = None  # the up path when the FFN is gated, if it differs (T5 v1.1)
    down: str = "mlp.down_proj"
    router: str = "mlp.router"
    experts: str = "mlp.experts"  # holds the 3-D gate_up_proj and down_proj parameters
    experts_in_out: bool = False  # experts stored [E, in, out] (gpt-oss), else [E, out, in]
    shared_experts: str = "mlp.shared_expert"  # Qwen2-MoE's name
    conv1d: bool = False  # GPT-2: layer matrices are Conv1D, stored [in, out]
    head: str = "lm_head"
    head_bias: str = "lm_head.bias"  # a tied head's own bias (BERT) or an untied head's
    head_transform: str = "cls.predictions.transform"  # BERT's MLM dense + LayerNorm
    # transformers-4 MoE module names PEFT converts onto transformers 5's parameters (name, part):
    # part "router" (the router weight), "gate_up" (both halves needed), "down".
    peft_moe: tuple[tuple[str, str], ...] = ()
    router_linear: bool = False  # the router is an nn.Linear (Llama 4): all-linear reaches it

    @property
    def peft_moe_targets(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.peft_moe)

    def attention(self, cross: bool = False) -> tuple[str, str, str, str]:
        """Paths of q, k, v, o; ``cross`` swaps the parent module for the cross-attention one."""
        paths = (self.q, self.k, self.v, self.o)
        if not cross:
            return paths
        q, k, v, o = (f"{self.cross}.{p.split('.', 1)[1]}" for p in paths)
        return q, k, v, o

    def up_path(self, gated: bool) -> str:
        return self.gated_up if gated and self.gated_up else self.up


_NEOX_MLP = {"up": "mlp.dense_h_to_4h", "down": "mlp.dense_4h_to_h"}
_T5_ATTENTION = {p: f"SelfAttention.{p}" for p in "qkvo"}
# PEFT's "qwen2_moe" conversion pattern, which transformers assigns to deepseek_v2/v3, glm4_moe,
# qwen3_moe and qwen3_next (not to qwen2_moe itself).
_QWEN2_MOE_PEFT = (("gate", "router"), ("gate_proj", "gate_up"), ("up_proj", "gate_up"),
                   ("down_proj", "down"))
_FEED_FORWARD = {"gate": "feed_forward.gate_proj", "up": "feed_forward.up_proj",
                 "down": "feed_forward.down_proj", "router": "feed_forward.router",
                 "experts": "feed_forward.experts"}

FAMILIES: dict[str, Family] = {
    "llama": Family("llama"),
    "mistral": Family("mistral"),
    "qwen2": Family("qwen"),
    "mixtral": Family("mixtral", router="mlp.gate", peft_moe=(("gate", "router"), ("w1", "gate_up"),
                                                              ("w3", "gate_up"), ("w2", "down"))),
    "gpt_oss": Family("gpt-oss", experts_in_out=True),
    "qwen": Family("qwen", prefixes=("transformer.",), probe="wte.weight", final_norm="ln_f",
                   layers="h", attn_norm="ln_1", ffn_norm="ln_2",
                   qkv="attn.c_attn", o="attn.c_proj", gate="mlp.w2", up="mlp.w1", down="mlp.c_proj"),
    "gpt2": Family("gpt", prefixes=("transformer.", ""), probe="wte.weight", position="wpe.weight",
                   final_norm="ln_f", layers="h", attn_norm="ln_1", ffn_norm="ln_2",
                   qkv="attn.c_attn", o="attn.c_proj", up="mlp.c_fc", down="mlp.c_proj", conv1d=True),
    "gptj": Family("gpt-j", prefixes=("transformer.",), probe="wte.weight", final_norm="ln_f",
                   layers="h", attn_norm="ln_1",
                   q="attn.q_proj", k="attn.k_proj", v="attn.v_proj", o="attn.out_proj",
                   up="mlp.fc_in", down="mlp.fc_out"),
    "gpt_neox": Family("gpt-neox", prefixes=("gpt_neox.",), probe="embed_in.weight",
                       final_norm="final_layer_norm", qkv="attention.query_key_value",
                       o="attention.dense", **_NEOX_MLP),
    "bloom": Family("bloom", prefixes=("transformer.", ""), probe="word_embeddings.weight",
                    embed_norm="word_embeddings_layernorm", final_norm="ln_f", layers="h",
                    qkv="self_attention.query_key_value", o="self_attention.dense", **_NEOX_MLP),
    "t5": Family("t5", prefixes=("",), probe="shared.weight", final_norm="final_layer_norm",
                 layers="block", sublayers=True, attn_norm="layer_norm", ffn_norm="layer_norm",
                 cross_norm="layer_norm", **_T5_ATTENTION, cross="EncDecAttention",
                 gate="DenseReluDense.wi_0", up="DenseReluDense.wi", gated_up="DenseReluDense.wi_1",
                 down="DenseReluDense.wo"),
    "bert": Family("bert", prefixes=("bert.", ""), probe="embeddings.word_embeddings.weight",
                   position="embeddings.position_embeddings.weight", embed_norm="embeddings.LayerNorm",
                   layers="encoder.layer", attn_norm="attention.output.LayerNorm",
                   ffn_norm="output.LayerNorm", q="attention.self.query", k="attention.self.key",
                   v="attention.self.value", o="attention.output.dense", up="intermediate.dense",
                   down="output.dense", head="cls.predictions.decoder", head_bias="cls.predictions.bias"),
    "bart": Family("bart", prefixes=("model.", ""), probe="shared.weight",
                   attn_norm="self_attn_layer_norm", ffn_norm="final_layer_norm",
                   o="self_attn.out_proj", up="fc1", down="fc2"),
    # issue 8 (the multimodal wrappers hold the language model below model.language_model.)
    "qwen3": Family("qwen"),
    "qwen2_moe": Family("qwen", router="mlp.gate"),  # PEFT converts no qwen2_moe names
    **{t: Family("qwen", router="mlp.gate", peft_moe=_QWEN2_MOE_PEFT) for t in ("qwen3_moe", "qwen3_next")},
    **{t: Family("deepseek", router="mlp.gate", shared_experts="mlp.shared_experts",
                 peft_moe=_QWEN2_MOE_PEFT) for t in ("deepseek_v2", "deepseek_v3", "kimi_k2")},
    "gemma": Family("gemma"),
    **{t: Family("gemma", prefixes=p, ffn_norm="pre_feedforward_layernorm")
       for t, p in (("gemma2", ("model.",)), ("gemma3_text", ("model.",)),
                    ("gemma3", ("model.language_model.",)))},
    **{t: Family("llama4", prefixes=(p,), head=head, **_FEED_FORWARD, experts_in_out=True,
                 shared_experts="feed_forward.shared_expert", router_linear=True)
       for t, p, head in (("llama4_text", "model.", "lm_head"),
                          ("llama4", "language_model.model.", "language_model.lm_head"))},
    "mistral3": Family("mistral", prefixes=("model.language_model.",)),
    "phi": Family("phi", final_norm="final_layernorm", o="self_attn.dense", up="mlp.fc1",
                  down="mlp.fc2"),
    "phi3": Family("phi", gate="mlp.gate_up_proj", up="mlp.gate_up_proj"),
    "falcon": Family("falcon", prefixes=("transformer.",), probe="word_embeddings.weight",
                     final_norm="ln_f", layers="h", parallel_norms=("ln_attn", "ln_mlp"),
                     qkv="self_attention.query_key_value", o="self_attention.dense", **_NEOX_MLP),
    "olmo2": Family("olmo"),
    "granite": Family("granite"),
    "cohere": Family("cohere"),
    "cohere2": Family("cohere"),
    "glm4_moe": Family("glm", router="mlp.gate", shared_experts="mlp.shared_experts",
                       peft_moe=_QWEN2_MOE_PEFT),
    "starcoder2": Family("starcoder", up="mlp.c_fc", down="mlp.c_proj"),
    "jamba": Family("jamba", final_norm="final_layernorm", ffn_norm="pre_ff_layernorm", **_FEED_FORWARD),
    "mamba": Family("mamba", prefixes=("backbone.",), probe="embeddings.weight", final_norm="norm_f",
                    attn_norm="norm", mamba="mixer"),
}

FAMILY_OF_MODEL_TYPE: dict[str, str] = {t: f.name for t, f in FAMILIES.items()}
LLAMA = FAMILIES["llama"]


def family(model_type: str | None) -> Family:
    """The family of a ``model_type``; Llama's names for None or an unknown type."""
    return FAMILIES.get(model_type or "", LLAMA)
