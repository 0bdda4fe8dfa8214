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

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """Module paths of one family. ``qkv`` is used when the spec fuses q, k and v."""

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
    peft_moe_targets: tuple[str, ...] = ()  # transformers-4 MoE names PEFT converts (Mixtral)

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

FAMILIES: dict[str, Family] = {
    "llama": Family("llama"),
    "mistral": Family("mistral"),
    "qwen2": Family("qwen"),
    "mixtral": Family("mixtral", router="mlp.gate", peft_moe_targets=("gate", "w1", "w3", "w2")),
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
}

FAMILY_OF_MODEL_TYPE: dict[str, str] = {t: f.name for t, f in FAMILIES.items()}
LLAMA = FAMILIES["llama"]


def family(model_type: str | None) -> Family:
    """The family of a ``model_type``; Llama's names for None or an unknown type."""
    return FAMILIES.get(model_type or "", LLAMA)
