"""Real checkpoint files for the inspect tests: safetensors written by the safetensors package,
GGUF written by the gguf package's own writer (quantised tensors through its quants module or
as correctly sized raw blocks).

Names follow transformers' LlamaForCausalLM state_dict and llama.cpp's GGUF names; the counts
the tests expect are the element counts of the arrays written here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# A tiny Llama: GQA (4 query heads, 2 KV heads), untied head.
LLAMA = {"model_type": "llama", "hidden_size": 64, "intermediate_size": 128,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
         "vocab_size": 96, "max_position_embeddings": 256, "rms_norm_eps": 1e-5,
         "tie_word_embeddings": False}


def record_reads(monkeypatch) -> list[int]:
    """The byte counts of every LocalFile.read from now on (what a parser fetched)."""
    from llmarch_cli.checkpoints.source import LocalFile

    sizes: list[int] = []
    original = LocalFile.read
    monkeypatch.setattr(LocalFile, "read", lambda self, o, n: sizes.append(n) or original(self, o, n))
    return sizes


def llama_shapes(cfg: dict = LLAMA) -> dict[str, tuple[int, ...]]:
    """transformers' LlamaForCausalLM state_dict: name -> shape ([out, in] for Linear)."""
    h, f, v = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    kv = h // cfg["num_attention_heads"] * cfg["num_key_value_heads"]
    shapes = {"model.embed_tokens.weight": (v, h), "model.norm.weight": (h,)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        shapes |= {p + "self_attn.q_proj.weight": (h, h), p + "self_attn.k_proj.weight": (kv, h),
                   p + "self_attn.v_proj.weight": (kv, h), p + "self_attn.o_proj.weight": (h, h),
                   p + "mlp.gate_proj.weight": (f, h), p + "mlp.up_proj.weight": (f, h),
                   p + "mlp.down_proj.weight": (h, f), p + "input_layernorm.weight": (h,),
                   p + "post_attention_layernorm.weight": (h,)}
    if not cfg["tie_word_embeddings"]:
        shapes["lm_head.weight"] = (v, h)
    return shapes


def write_safetensors(folder: Path, shapes: dict[str, tuple[int, ...]], config: dict | None,
                      dtype=np.float16, shards: int = 1) -> Path:
    """A Hugging Face folder: config.json and model.safetensors, or ``shards`` shards + index."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    arrays = {name: np.zeros(shape, dtype) for name, shape in shapes.items()}
    if shards == 1:
        save_file(arrays, str(folder / "model.safetensors"))
        return folder
    names = sorted(arrays)
    weight_map = {}
    for k in range(shards):
        shard = f"model-{k + 1:05d}-of-{shards:05d}.safetensors"
        part = names[k::shards]
        save_file({n: arrays[n] for n in part}, str(folder / shard))
        weight_map |= dict.fromkeys(part, shard)
    index = {"metadata": {"total_size": sum(a.nbytes for a in arrays.values())},
             "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    return folder


# A tiny Llama in GGUF: rows of 256 so that K-quant super-blocks fit.
GGUF_LLAMA = {"hidden": 256, "ffn": 512, "vocab": 320, "layers": 2, "heads": 4, "kv_heads": 2}


def gguf_llama_shapes(tied: bool = False, arch: str = "llama") -> dict[str, tuple[tuple[int, ...], str]]:
    """llama.cpp tensor name -> (numpy shape [rows, row length], ggml type); ``arch="qwen2"``
    adds Qwen2's q, k and v biases."""
    g = GGUF_LLAMA
    h, f, v = g["hidden"], g["ffn"], g["vocab"]
    kv = h // g["heads"] * g["kv_heads"]
    out = {"token_embd.weight": ((v, h), "F16"), "output_norm.weight": ((h,), "F32")}
    if not tied:
        out["output.weight"] = ((v, h), "Q8_0")
    for i in range(g["layers"]):
        b = f"blk.{i}."
        out |= {b + "attn_q.weight": ((h, h), "Q8_0"), b + "attn_k.weight": ((kv, h), "Q8_0"),
                b + "attn_v.weight": ((kv, h), "Q8_0"), b + "attn_output.weight": ((h, h), "Q8_0"),
                b + "ffn_gate.weight": ((f, h), "Q4_K"), b + "ffn_up.weight": ((f, h), "Q4_K"),
                b + "ffn_down.weight": ((h, f), "Q6_K"), b + "attn_norm.weight": ((h,), "F32"),
                b + "ffn_norm.weight": ((h,), "F32")}
        if arch == "qwen2":
            out |= {b + "attn_q.bias": ((h,), "F32"), b + "attn_k.bias": ((kv,), "F32"),
                    b + "attn_v.bias": ((kv,), "F32")}
    return out


def write_gguf(path: Path, tied: bool = False, split_max_tensors: int = 0,
               file_type: str = "MOSTLY_Q4_K_M", arch: str = "llama") -> list[Path]:
    """A llama (or qwen2) GGUF with F32, F16, Q8_0 (quantised by gguf.quants), Q4_K and Q6_K (raw blocks
    of the right size) tensors; split into files of ``split_max_tensors`` tensors when > 0."""
    import gguf
    from gguf.quants import quant_shape_to_byte_shape, quantize

    g, types = GGUF_LLAMA, gguf.GGMLQuantizationType
    writer = gguf.GGUFWriter(path, arch, split_max_tensors=split_max_tensors)
    writer.add_name("tiny-llama")
    writer.add_block_count(g["layers"])
    writer.add_context_length(2048)
    writer.add_embedding_length(g["hidden"])
    writer.add_feed_forward_length(g["ffn"])
    writer.add_head_count(g["heads"])
    writer.add_head_count_kv(g["kv_heads"])
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(gguf.LlamaFileType[file_type])
    writer.add_token_list([f"tok{i}" for i in range(g["vocab"])])
    rng = np.random.default_rng(0)
    for name, (shape, kind) in gguf_llama_shapes(tied, arch).items():
        if kind == "F32":
            writer.add_tensor(name, np.ones(shape, np.float32))
        elif kind == "F16":
            writer.add_tensor(name, rng.standard_normal(shape).astype(np.float16))
        elif kind == "Q8_0":
            data = rng.standard_normal(shape).astype(np.float32)
            writer.add_tensor(name, quantize(data, types.Q8_0), raw_dtype=types.Q8_0)
        else:
            qtype = types[kind]
            raw = np.zeros(quant_shape_to_byte_shape(shape, qtype), np.uint8)
            writer.add_tensor(name, raw, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if split_max_tensors:
        return sorted(path.parent.glob(f"{path.stem}-*-of-*.gguf"))
    return [path]
