"""Stored activations per layer: the derivation against the tensors torch's autograd saves.

A tiny transformers model runs a training-mode forward in bf16 on CPU. Every tensor autograd
saves while the first decoder layer runs is caught with ``torch.autograd.graph.saved_tensors_hooks``
and counted once per storage (views share one); parameters are left out. The derivation
(``layer_activation_bytes``) counts the h-, d- and I-wide tensors and the s x s scores; it leaves
out what is per token or shared by every layer, which is what the measurement has on top:
RMSNorm's fp32 rstd (4 B per token per norm), LayerNorm's mean and rstd, SDPA's fp32 logsumexp
(4 B per head and token) and RoPE's cos/sin (s x head_dim each). Here that is under 2% of the
layer, hence the tolerance: measured / derived in [1, 1.02].

GPT-2 uses the fused tanh GELU (``gelu_pytorch_tanh``, the same function as its ``gelu_new``,
which transformers computes op by op and so keeps three more 4h-wide tensors) and its default
dropout (0.1): the Korthikanti et al. 2022 setting. Torch's CPU dropout multiplies by a mask in
the activation dtype (2 B) where CUDA's fused kernel keeps a 1 B mask; the test adds that byte.
"""

from __future__ import annotations

import pytest

from llmarch_cli.analysis.memory import ACT_BYTES
from llmarch_cli.analysis.training import MASK_BYTES, layer_activation_bytes
from llmarch_cli.specs.hf import spec_from_hf_config

pytestmark = pytest.mark.parity
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

BATCH, SEQ = 2, 96
LLAMA = {"model_type": "llama", "hidden_size": 256, "num_attention_heads": 8, "num_key_value_heads": 2,
         "head_dim": 32, "intermediate_size": 688, "num_hidden_layers": 2, "vocab_size": 1000,
         "max_position_embeddings": 512, "rms_norm_eps": 1e-5, "tie_word_embeddings": False}
GPT2 = {"model_type": "gpt2", "n_embd": 256, "n_head": 8, "n_layer": 2, "vocab_size": 1000,
        "n_positions": 512, "activation_function": "gelu_pytorch_tanh", "bos_token_id": 0,
        "eos_token_id": 0}


def saved_bytes(config: dict, attention: str) -> int:
    """Bytes of the distinct non-parameter storages autograd saves in the first layer's forward."""
    torch.manual_seed(0)
    cfg = transformers.AutoConfig.for_model(**config, attn_implementation=attention)
    model = transformers.AutoModelForCausalLM.from_config(cfg).to(torch.bfloat16).train()
    layer = model.model.layers[0] if config["model_type"] == "llama" else model.transformer.h[0]
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved: dict[int, int] = {}
    inside = [False]

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if inside[0] and storage.data_ptr() not in params:
            saved[storage.data_ptr()] = storage.nbytes()
        return t

    layer.register_forward_pre_hook(lambda *_: inside.__setitem__(0, True))
    layer.register_forward_hook(lambda *_: inside.__setitem__(0, False))
    ids = torch.randint(0, config["vocab_size"], (BATCH, SEQ))
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(ids)
    return sum(saved.values())


@pytest.mark.parametrize("attention", ["eager", "sdpa"])
def test_llama_gqa_layer_saves_what_the_derivation_counts(attention: str) -> None:
    # GQA 8:2, SwiGLU at 2.69h, RMSNorm, no dropout. Eager repeats K/V to 8 heads and keeps the
    # fp32 softmax plus its bf16 copy; SDPA keeps K/V at 2 heads and no s x s tensor.
    spec = spec_from_hf_config(LLAMA, "tiny-llama")
    derived = layer_activation_bytes(spec, SEQ, BATCH, eager=attention == "eager")
    ratio = saved_bytes(LLAMA, attention) / derived
    assert 1 <= ratio <= 1.02


def test_gpt2_layer_with_dropout_saves_korthikanti_34sbh_plus_5as2b() -> None:
    spec = spec_from_hf_config(GPT2, "tiny-gpt2")
    s, b, h, a = SEQ, BATCH, 256, 8
    derived = layer_activation_bytes(spec, s, b, eager=True, dropout=True)
    assert derived == 34 * s * b * h + 5 * a * s * s * b
    cpu_masks = (ACT_BYTES - MASK_BYTES) * (a * s * s * b + 2 * s * b * h)
    ratio = saved_bytes(GPT2, "eager") / (derived + cpu_masks)
    assert 1 <= ratio <= 1.02
