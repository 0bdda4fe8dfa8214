"""Per Hugging Face ``model_type``: the llmarch family name and where each module lives.

One table serves two readers: ``analysis.linears`` (module names that LoRA ``--targets`` and
PEFT match) and ``forward.hf_weights`` (tensor names in a checkpoint, ``{prefix}{layer
path}{module}.weight``). Module paths are relative to one layer as transformers 5.x (or, for
Qwen 1, the checkpoint's own ``modeling_qwen.py``) names them; T5's are relative to the
sub-layer (``layer.{i}.``), whose index differs between its stacks. A spec with no known
``model_type`` gets Llama's names.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """Module paths of one family. ``qkv`` is used when the spec fuses q, k and v."""

    name: str  # the family used by presets and registry.FAMILY_REPRESENTATIVES
    prefixes: tuple[str, ...] = ("model.",)  # base-model prefixes a checkpoint may carry
    probe: str = "embed_tokens.weight"  # the tensor that reveals which prefix it carries
    layers: str = "layers"  # the layer list below the prefix
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
    "gpt_oss": Family("gpt-oss"),
    "qwen": Family("qwen", prefixes=("transformer.",), probe="wte.weight", layers="h",
                   qkv="attn.c_attn", o="attn.c_proj", gate="mlp.w2", up="mlp.w1", down="mlp.c_proj"),
    "gpt2": Family("gpt", prefixes=("transformer.", ""), probe="wte.weight", layers="h",
                   qkv="attn.c_attn", o="attn.c_proj", up="mlp.c_fc", down="mlp.c_proj"),
    "gptj": Family("gpt-j", prefixes=("transformer.",), probe="wte.weight", layers="h",
                   q="attn.q_proj", k="attn.k_proj", v="attn.v_proj", o="attn.out_proj",
                   up="mlp.fc_in", down="mlp.fc_out"),
    "gpt_neox": Family("gpt-neox", prefixes=("gpt_neox.",), probe="embed_in.weight",
                       qkv="attention.query_key_value", o="attention.dense", **_NEOX_MLP),
    "bloom": Family("bloom", prefixes=("transformer.", ""), probe="word_embeddings.weight", layers="h",
                    qkv="self_attention.query_key_value", o="self_attention.dense", **_NEOX_MLP),
    "t5": Family("t5", prefixes=("",), probe="shared.weight", layers="block", **_T5_ATTENTION,
                 cross="EncDecAttention", gate="DenseReluDense.wi_0", up="DenseReluDense.wi",
                 gated_up="DenseReluDense.wi_1", down="DenseReluDense.wo"),
    "bert": Family("bert", prefixes=("bert.", ""), probe="embeddings.word_embeddings.weight",
                   layers="encoder.layer", q="attention.self.query", k="attention.self.key",
                   v="attention.self.value", o="attention.output.dense", up="intermediate.dense",
                   down="output.dense"),
    "bart": Family("bart", prefixes=("model.", ""), probe="shared.weight",
                   o="self_attn.out_proj", up="fc1", down="fc2"),
    "qwen3": Family("qwen"),
    "qwen3_moe": Family("qwen", router="mlp.gate"),
    "qwen2_moe": Family("qwen", router="mlp.gate"),
    "qwen3_next": Family("qwen", router="mlp.gate"),
    "deepseek_v2": Family("deepseek", router="mlp.gate"),
    "deepseek_v3": Family("deepseek", router="mlp.gate"),
    "kimi_k2": Family("deepseek", router="mlp.gate"),
    "gemma": Family("gemma"),
    "gemma2": Family("gemma"),
    "gemma3_text": Family("gemma"),
    "gemma3": Family("gemma", prefixes=("model.language_model.",)),
    "llama4_text": Family("llama4", gate="feed_forward.gate_proj", up="feed_forward.up_proj",
                          down="feed_forward.down_proj", router="feed_forward.router",
                          experts="feed_forward.experts"),
    "llama4": Family("llama4", prefixes=("model.language_model.",), gate="feed_forward.gate_proj",
                     up="feed_forward.up_proj", down="feed_forward.down_proj",
                     router="feed_forward.router", experts="feed_forward.experts"),
    "mistral3": Family("mistral", prefixes=("model.language_model.",)),
    "phi": Family("phi", o="self_attn.dense", up="mlp.fc1", down="mlp.fc2"),
    "phi3": Family("phi", gate="mlp.gate_up_proj", up="mlp.gate_up_proj"),
    "falcon": Family("falcon", prefixes=("transformer.",), probe="word_embeddings.weight", layers="h",
                     qkv="self_attention.query_key_value", o="self_attention.dense", **_NEOX_MLP),
    "olmo2": Family("olmo"),
    "granite": Family("granite"),
    "cohere": Family("cohere"),
    "cohere2": Family("cohere"),
    "glm4_moe": Family("glm", router="mlp.gate"),
    "starcoder2": Family("starcoder", up="mlp.c_fc", down="mlp.c_proj"),
    "jamba": Family("jamba", gate="feed_forward.gate_proj", up="feed_forward.up_proj",
                    down="feed_forward.down_proj", router="feed_forward.router",
                    experts="feed_forward.experts"),
    "mamba": Family("mamba", prefixes=("backbone.",), probe="embeddings.weight"),
}

FAMILY_OF_MODEL_TYPE: dict[str, str] = {t: f.name for t, f in FAMILIES.items()}
LLAMA = FAMILIES["llama"]


def family(model_type: str | None) -> Family:
    """The family of a ``model_type``; Llama's names for None or an unknown type."""
    return FAMILIES.get(model_type or "", LLAMA)
