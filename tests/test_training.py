"""Training memory: the ZeRO accounting, the QLoRA paper's 65B claim, LoRA counts (LoRA paper)."""

from __future__ import annotations

import pytest

from llmarch_cli.analysis.lora import lora_params, valid_targets
from llmarch_cli.analysis.memory import Parallel
from llmarch_cli.analysis.params import count_params
from llmarch_cli.analysis.training import layer_activation_bytes, training_memory
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.loader import load_preset


def test_full_fine_tuning_costs_16_bytes_per_parameter_before_activations() -> None:
    # ZeRO (Rajbhandari et al. 2020) §3: fp16 weights 2 + grads 2 + fp32 master/momentum/variance 12.
    spec = load_preset("llama-2-7b")
    r = training_memory(spec)
    states = r.weights_bytes + r.gradient_bytes + r.optimizer_bytes
    assert states == 16 * count_params(spec).total_params


def test_qlora_65b_r64_all_linear_fits_one_48gb_gpu() -> None:
    # QLoRA abstract: a 65B model fine-tunes on "a single 48GB GPU" (r=64 on all linear layers,
    # gradient checkpointing, sequence length 512, batch 1 per the paper's Guanaco setup).
    r = training_memory(load_preset("llama-65b"), mode="qlora", rank=64, checkpointing="full",
                        context=512)
    assert r.total_bytes < 48e9


def test_qlora_paper_full_16bit_finetuning_of_65b_exceeds_780gb() -> None:
    # QLoRA §1: finetuning 65B in 16 bits needs "more than 780 GB of GPU memory".
    r = training_memory(load_preset("llama-65b"), checkpointing="full", context=512)
    ratio = r.total_bytes / 780e9
    assert ratio > 1


def test_lora_paper_gpt3_trainable_counts() -> None:
    # LoRA paper Table 4: GPT-3 175B with LoRA on Wq and Wv: 4.7M (r=1) and 37.7M (r=8) parameters.
    spec = load_preset("gpt3-175b").model_copy(update={"model_type": None})  # separate q/k/v
    assert round(lora_params(spec, 1, ["q", "v"]) / 1e6, 1) == 4.7
    assert round(lora_params(spec, 8, ["q", "v"]) / 1e6, 1) == 37.7


def test_zero3_shards_everything_over_data_parallel_gpus() -> None:
    spec = load_preset("llama-2-7b")
    one = training_memory(spec)
    eight = training_memory(spec, zero=3, par=Parallel(gpus=8))
    assert eight.optimizer_bytes == -(-one.optimizer_bytes // 8)
    assert eight.weights_bytes == -(-one.weights_bytes // 8)


def test_checkpointing_orders_activation_memory() -> None:
    spec = load_preset("llama-2-7b")
    acts = [training_memory(spec, checkpointing=c).activation_bytes for c in ("none", "selective", "full")]
    assert acts[0] > acts[1] > acts[2]


@pytest.mark.parametrize("preset", ["gpt2", "gpt2-xl", "gpt3-175b"])
@pytest.mark.parametrize("s,b", [(1024, 1), (2048, 4)])
def test_gpt_block_with_dropout_reduces_to_korthikanti_34sbh_plus_5as2b(preset: str, s: int, b: int) -> None:
    # Korthikanti et al. 2022 Eq. (1): a GPT layer (LayerNorm, 4h GELU MLP, MHA, dropout) stores
    # s*b*h*(34 + 5*a*s/h) bytes in 16-bit without recomputation.
    spec = load_preset(preset)
    h, a = spec.hidden_size, spec.attention.num_heads
    assert layer_activation_bytes(spec, s, b, eager=True, dropout=True) == 34 * s * b * h + 5 * a * s * s * b


def test_llama_layer_counts_rmsnorm_gqa_and_swiglu_tensors() -> None:
    # Llama-3-8B: h 4096, 32 query heads and 8 KV heads of 128, SwiGLU I 14336. Per token, bf16:
    # two RMSNorms (fp32 input copy 4h + normalised 2h) and their outputs (2h); Q and the attention
    # output 2*4096 each; K and V 2*1024 each fused, 2*4096 each eager (repeated); gate, up,
    # act(gate), product 2*14336 each. Eager adds the fp32 softmax and its bf16 copy: 6 B per score.
    spec = load_preset("llama-3-8b")
    s, b = 4096, 1
    norms = 2 * (4 + 2 + 2) * 4096
    ffn = 4 * 2 * 14336
    fused = norms + 2 * (2 * 4096 + 2 * 1024) + ffn
    eager = norms + 2 * (4 * 4096) + ffn
    assert layer_activation_bytes(spec, s, b, eager=False) == s * b * fused
    assert layer_activation_bytes(spec, s, b, eager=True) == s * b * eager + 6 * 32 * s * s * b


def test_selective_layer_of_llama_3_8b_is_not_the_gpt_34sbh() -> None:
    # SwiGLU at 3.5h and transformers' RMSNorm outweigh what GQA saves: 49 bytes per s*b*h (16 norms, 5 attention, 28 FFN).
    spec = load_preset("llama-3-8b")
    per_sbh = layer_activation_bytes(spec, 1024, 1, eager=False) / (1024 * 4096)
    assert per_sbh == 49


def test_rank_zero_and_unknown_targets_are_bad_input() -> None:
    spec = load_preset("llama-2-7b")
    with pytest.raises(LlmarchError):
        lora_params(spec, 0, ["q_proj"])
    with pytest.raises(LlmarchError, match="valid: q_proj"):
        lora_params(spec, 8, ["c_attn"])


def test_gpt2_targets_are_its_conv1d_names() -> None:
    assert valid_targets(load_preset("gpt2"))[:3] == ["c_attn", "c_proj", "c_fc"]


@pytest.mark.parametrize("mode,expected", [("full", "selective"), ("lora", "full"), ("qlora", "full")])
def test_default_checkpointing_follows_each_recipe(mode: str, expected: str) -> None:
    # QLoRA's qlora.py defaults gradient_checkpointing=True and PEFT's
    # prepare_model_for_kbit_training(use_gradient_checkpointing=True) enables it; full fine-tuning
    # with FlashAttention/SDPA stores no s x s scores (Korthikanti's selective figure).
    spec = load_preset("llama-3-8b")
    default = training_memory(spec, mode=mode, context=4096)
    explicit = training_memory(spec, mode=mode, context=4096, checkpointing=expected)
    assert default.activation_bytes == explicit.activation_bytes
    assert f"checkpointing={expected} (default for --train {mode})" in default.terms[3].assumption


def test_qlora_llama3_8b_at_4k_needs_gigabytes_not_a_hundred_of_activations() -> None:
    # Full checkpointing: 32 layers x 2*s*h B inputs, one layer recomputed (fused attention,
    # 49*s*h B for Llama-3-8B, see above) and fp32 logits 4*s*v: nothing quadratic in s.
    r = training_memory(load_preset("llama-3-8b"), mode="qlora", context=4096)
    assert r.activation_bytes == 32 * 2 * 4096 * 4096 + 49 * 4096 * 4096 + 4 * 4096 * 128256


def test_full_checkpointing_holds_one_recomputed_layer_on_top_of_the_inputs() -> None:
    # Korthikanti et al. 2022 §4.1: full recomputation stores each layer's input (2sbh) and,
    # during the backward pass, the recomputed layer's activations: for GPT-2 without dropout and
    # with fused attention, 32*s*h (Eq. (1)'s 34 less the two 1-byte residual dropout masks).
    spec = load_preset("gpt2")  # 12 layers, h 768, vocab 50257
    s, h, v = 1024, 768, 50257
    full = training_memory(spec, checkpointing="full", context=s)
    assert full.activation_bytes == 12 * 2 * s * h + 32 * s * h + 4 * s * v
    selective = training_memory(spec, checkpointing="selective", context=s).activation_bytes
    assert full.activation_bytes < selective
    assert "(the layer being recomputed)" in full.terms[3].formula
