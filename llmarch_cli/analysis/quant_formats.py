"""Weight storage formats with their real bits per weight, scales and block metadata counted.

Two kinds of format:

* ``scope="linear"`` (bitsandbytes/AWQ/GPTQ/FP8 style): only the weight matrices of attention,
  FFN and experts are quantised; embeddings, the output head, norms, biases, routers and sinks
  stay in bf16 (transformers' bitsandbytes integration skips the output head and non-Linear
  modules). Assumption stated in every --explain.
* ``scope="all"`` (GGUF): llama.cpp quantises the whole file, embeddings and output included, with
  per-tensor type mixes; we charge its measured whole-file bits per weight to every parameter.
  Source of the k-quant mixes: llama.cpp ``examples/quantize/README.md``, "Llama 2 7B" table
  (Q2_K 3.35, Q3_K_M 3.91, Q4_K_M 4.84, Q5_K_M 5.68, Q6_K 6.56 bpw). Pure block formats follow
  from their block layout in ggml (``ggml-common.h``): Q8_0 = 32 int8 + one fp16 scale = 34
  bytes per 32 weights (8.5 bpw); Q4_0 = 32 nibbles + fp16 scale = 18 bytes (4.5 bpw); Q6_K =
  210 bytes per 256 weights (6.5625 bpw).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from llmarch_cli.errors import LlmarchError


@dataclass(frozen=True)
class QuantFormat:
    """Bits per quantised weight (exact), extra bytes per output row / per matrix, and sources."""

    name: str
    bits: Fraction
    scope: Literal["none", "linear", "all"]
    formula: str
    source: str
    row_bytes: int = 0
    matrix_bytes: int = 0

    @property
    def bits_per_weight(self) -> float:
        return float(self.bits)


F = Fraction
WEIGHT_FORMATS: dict[str, QuantFormat] = {
    "fp32": QuantFormat("fp32", F(32), "none", "4 bytes per parameter", "IEEE 754 binary32"),
    "bf16": QuantFormat("bf16", F(16), "none", "2 bytes per parameter", "bfloat16"),
    "fp16": QuantFormat("fp16", F(16), "none", "2 bytes per parameter", "IEEE 754 binary16"),
    "fp8": QuantFormat(
        "fp8", F(8), "linear", "8 bits + one fp32 scale per matrix (per-tensor E4M3)",
        "vLLM FP8 W8A8 docs: per-tensor weight scales", matrix_bytes=4,
    ),
    "int8": QuantFormat(
        "int8", F(8), "linear", "8 bits + one fp32 absmax scale per output row",
        "LLM.int8() (Dettmers et al. 2022), bitsandbytes Int8Params row-wise SCB", row_bytes=4,
    ),
    "int4": QuantFormat(
        "int4", F(4) + F(16 + 4, 128), "linear",
        "4 bits + per group of 128 weights one fp16 scale and one 4-bit zero point = 4.15625",
        "AWQ/GPTQ default q_group_size=128 with zero points (AutoAWQ, AutoGPTQ)",
    ),
    "nf4": QuantFormat(
        "nf4", F(4) + F(8, 64) + F(32, 64 * 256), "linear",
        "4 bits + double-quantised block constants 8/64 + 32/(64*256) = 4.127 bits",
        "QLoRA (Dettmers et al. 2023) §3 Double Quantization: 0.127 bits per parameter",
    ),
    "q8_0": QuantFormat("q8_0", F(34 * 8, 32), "all", "34 bytes per block of 32 = 8.5 bpw",
                        "ggml block_q8_0 (ggml-common.h)"),
    "q6_k": QuantFormat("q6_k", F(210 * 8, 256), "all", "210 bytes per super-block of 256 = 6.5625 bpw",
                        "ggml block_q6_K (ggml-common.h)"),
    "q5_k_m": QuantFormat("q5_k_m", F("5.68"), "all", "measured whole-file 5.68 bpw",
                          "llama.cpp examples/quantize/README.md, Llama 2 7B"),
    "q4_k_m": QuantFormat("q4_k_m", F("4.84"), "all", "measured whole-file 4.84 bpw",
                          "llama.cpp examples/quantize/README.md, Llama 2 7B"),
    "q4_0": QuantFormat("q4_0", F(18 * 8, 32), "all", "18 bytes per block of 32 = 4.5 bpw",
                        "ggml block_q4_0 (ggml-common.h)"),
    "q3_k_m": QuantFormat("q3_k_m", F("3.91"), "all", "measured whole-file 3.91 bpw",
                          "llama.cpp examples/quantize/README.md, Llama 2 7B"),
    "q2_k": QuantFormat("q2_k", F("3.35"), "all", "measured whole-file 3.35 bpw",
                        "llama.cpp examples/quantize/README.md, Llama 2 7B"),
}

BF16 = WEIGHT_FORMATS["bf16"]  # the default weight format: checkpoints ship in bf16
UNQUANTISED_BITS = 16  # bf16 for what a "linear"-scope format leaves alone


def weight_format(name: str) -> QuantFormat:
    """The format called ``name``, or an LlmarchError listing the valid ones."""
    key = name.strip().lower()
    if key not in WEIGHT_FORMATS:
        raise LlmarchError(f"unknown quantisation {name!r} (valid: {', '.join(WEIGHT_FORMATS)})")
    return WEIGHT_FORMATS[key]
