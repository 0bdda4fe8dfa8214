"""A checkpoint against a spec's weight inventory: missing, extra and misshaped tensors.

Expected names are transformers' state_dict names from ``specs.inventory`` (``{i}`` expanded
over the layers holding each tensor). A checkpoint may carry or drop the base-model prefix
(``transformer.`` in GPT-2 files), so the prefix variant of ``specs.families`` that matches the
most names is used. GGUF names come from the gguf package's own HF -> GGUF name map
(``gguf.get_tensor_name_map``) and GGUF shapes are compared reversed (ggml stores the innermost
dimension first). Buffers in the file are neither expected nor extra. Safetensors files in a
hub layout that transformers converts on load (per-expert MoE tensors, GPT-NeoX's ``embed_out``)
are compared after the same conversion (``checkpoints.hub_layout``), so names are reported as
the model holds them.
"""

from __future__ import annotations

from llmarch_cli.checkpoints.checkpoint import Checkpoint
from llmarch_cli.checkpoints.hub_layout import model_layout
from llmarch_cli.checkpoints.results import Against, Mismatch
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.families import family
from llmarch_cli.specs.model import ArchSpec


def expected_tensors(spec: ArchSpec) -> dict[str, tuple[int, ...]]:
    """transformers' state_dict name -> shape, every tensor of the spec (tied ones once)."""
    from llmarch_cli.specs.inventory import inventory

    out: dict[str, tuple[int, ...]] = {}
    for w in inventory(spec):
        for i in w.layers if w.layers is not None else (None,):
            out[w.hf if i is None else w.hf.replace("{i}", str(i))] = tuple(w.shape)
    return out


def _prefix_variants(spec: ArchSpec, names: dict[str, tuple[int, ...]]) -> list[dict]:
    """The expected names as is, and with each base-model prefix swapped for another."""
    prefixes = family(spec.model_type).prefixes
    variants = [names]
    for old in prefixes:
        for new in prefixes:
            if old != new:
                variants.append({(new + n[len(old):] if n.startswith(old) else n): s
                                 for n, s in names.items()})
    return variants


def _gguf_names(spec: ArchSpec, ckpt: Checkpoint, names: dict[str, tuple[int, ...]]) -> dict:
    """HF names -> GGUF names (llama.cpp's map for the file's architecture), shapes reversed."""
    import gguf

    arch = ckpt.metadata.get("general.architecture")
    arch_id = next((k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch), None)
    if arch_id is None:
        raise LlmarchError(f"the gguf package has no tensor names for architecture {arch!r}")
    tmap = gguf.get_tensor_name_map(arch_id, spec.num_layers)
    out = {}
    for name, shape in names.items():
        mapped = tmap.get_name(name, try_suffixes=(".weight", ".bias"))
        out[mapped or name] = tuple(reversed(shape))
    return out


def compare(ckpt: Checkpoint, spec: ArchSpec, model: str) -> Against:
    """Match (same names and shapes) or the missing, extra and misshaped tensors."""
    expected = expected_tensors(spec)
    stored = {t.name: t.shape for t in ckpt.tensors if not ckpt.is_buffer(t)}
    if ckpt.format == "gguf":
        best = _gguf_names(spec, ckpt, expected)
    else:
        stored = model_layout(spec.model_type, stored)
        best = max(_prefix_variants(spec, expected), key=lambda v: len(v.keys() & stored.keys()))
    missing = [Mismatch(name=n, expected_shape=list(s)) for n, s in best.items() if n not in stored]
    extra = [Mismatch(name=n, file_shape=list(s)) for n, s in stored.items() if n not in best]
    misshaped = [Mismatch(name=n, expected_shape=list(s), file_shape=list(stored[n]))
                 for n, s in best.items() if n in stored and tuple(stored[n]) != s]
    return Against(model=model, match=not (missing or extra or misshaped),
                   expected_tensors=len(best), missing=missing, extra=extra, misshaped=misshaped)
