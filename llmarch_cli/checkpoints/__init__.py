"""Checkpoint headers (safetensors, GGUF): tensor names, dtypes and shapes without a full load."""
