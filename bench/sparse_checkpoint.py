"""A sharded safetensors checkpoint describing ~100 GB whose shards hold headers only.

Each shard is a valid safetensors file: its header, then a data buffer of the right length made
by extending the file (sparse on every common filesystem: no data blocks are written). The
model is a Llama-3-70B-shaped decoder cut to 56 layers (50.0 B parameters in BF16 = 100 GB) with
its config.json, so inspect also builds the spec and the memory figures.

Usage: python bench/sparse_checkpoint.py FOLDER
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

CONFIG = {"model_type": "llama", "hidden_size": 8192, "intermediate_size": 28672,
          "num_hidden_layers": 56, "num_attention_heads": 64, "num_key_value_heads": 8,
          "vocab_size": 128256, "max_position_embeddings": 8192, "rms_norm_eps": 1e-5,
          "rope_theta": 500000.0, "tie_word_embeddings": False}
LAYERS_PER_SHARD = 3


def _layer(i: int) -> dict[str, tuple[int, ...]]:
    h, f = CONFIG["hidden_size"], CONFIG["intermediate_size"]
    kv = h // CONFIG["num_attention_heads"] * CONFIG["num_key_value_heads"]
    p = f"model.layers.{i}."
    return {p + "self_attn.q_proj.weight": (h, h), p + "self_attn.k_proj.weight": (kv, h),
            p + "self_attn.v_proj.weight": (kv, h), p + "self_attn.o_proj.weight": (h, h),
            p + "mlp.gate_proj.weight": (f, h), p + "mlp.up_proj.weight": (f, h),
            p + "mlp.down_proj.weight": (h, f), p + "input_layernorm.weight": (h,),
            p + "post_attention_layernorm.weight": (h,)}


def _shard(path: Path, shapes: dict[str, tuple[int, ...]]) -> int:
    """Write a headers-only BF16 shard; return its data bytes."""
    header, offset = {}, 0
    for name, shape in shapes.items():
        size = 2
        for d in shape:
            size *= d
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    with path.open("wb") as fh:
        fh.write(struct.pack("<Q", len(raw)) + raw)
        fh.truncate(8 + len(raw) + offset)  # the data buffer: a hole, no blocks written
    return offset


def build(folder: Path) -> int:
    """Write the checkpoint into ``folder``; return the tensor bytes it describes."""
    folder.mkdir(parents=True, exist_ok=True)
    h, v, n = CONFIG["hidden_size"], CONFIG["vocab_size"], CONFIG["num_hidden_layers"]
    groups = [{"model.embed_tokens.weight": (v, h)}]
    groups += [{k: s for i in range(start, min(start + LAYERS_PER_SHARD, n)) for k, s in _layer(i).items()}
               for start in range(0, n, LAYERS_PER_SHARD)]
    groups.append({"model.norm.weight": (h,), "lm_head.weight": (v, h)})
    total, weight_map = 0, {}
    for k, shapes in enumerate(groups, start=1):
        name = f"model-{k:05d}-of-{len(groups):05d}.safetensors"
        total += _shard(folder / name, shapes)
        weight_map |= dict.fromkeys(shapes, name)
    (folder / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}))
    (folder / "config.json").write_text(json.dumps(CONFIG))
    return total


if __name__ == "__main__":
    print(build(Path(sys.argv[1])))
