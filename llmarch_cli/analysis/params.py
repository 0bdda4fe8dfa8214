"""Exact parameter counts of a spec, per component and in total (pure Python integers).

What is counted is the model transformers builds for the family, tied weights once:
decoder LMs as the causal-LM model with its head; encoder-decoders as the conditional-generation
model (T5ForConditionalGeneration, BartForConditionalGeneration; BART's ``final_logits_bias``
is a buffer, not a parameter); BERT as BertForMaskedLM (the MLM transform dense + LayerNorm and
the decoder's vocabulary bias, no pooler). Encoder-decoders share one token embedding; each
stack has its own learned position table, embedding norm, T5 relative-bias table (in its first
block only) and final norm; decoder blocks add cross-attention.

The count is the sum of ``specs.inventory`` grouped by stack, component and layer count.
MoE: the total counts every expert and the router; a token uses ``top_k`` experts per MoE
layer, so active = total - MoE layers x (experts - top_k) x one expert's parameters
(embeddings and head count as active).
"""

from __future__ import annotations

from llmarch_cli.analysis.params_results import ParamGroup, ParamsResult
from llmarch_cli.specs.inventory import inventory
from llmarch_cli.specs.model import ArchSpec

EMBEDDING_COMPONENTS = ("embeddings.token", "embeddings.position", "embeddings.token_type")


def _components(spec: ArchSpec, component: str, numel: int) -> tuple[tuple[str, int], ...]:
    """A fused ``*.qkv`` tensor as its q, k and v parts (split by width), else itself."""
    prefix, _, part = component.rpartition(".")
    if part != "qkv":
        return ((component, numel),)
    a = spec.attention
    q, kv = a.num_heads * a.head_dim, spec.kv_dim
    unit = numel // (q + 2 * kv)
    return ((f"{prefix}.q", unit * q), (f"{prefix}.k", unit * kv), (f"{prefix}.v", unit * kv))


def count_params(spec: ArchSpec) -> ParamsResult:
    """Exact total and active parameter counts of ``spec`` with a per-component breakdown."""
    per_layer: dict[tuple[str, str, int], int] = {}  # (stack, component, layers) -> per layer
    inactive = 0
    top_k = spec.moe.top_k if spec.moe is not None else 0
    for w in inventory(spec):
        layers = w.copies
        if not layers:
            continue
        for component, numel in _components(spec, w.component, w.numel):
            key = (w.stack, component, layers)
            per_layer[key] = per_layer.get(key, 0) + numel
        if w.experts:
            inactive += w.params // w.experts * (w.experts - top_k)
    groups = [ParamGroup(stack=stack, component=component, per_layer=n, layers=layers,
                         total=n * layers)
              for (stack, component, layers), n in per_layer.items()]
    total = sum(g.total for g in groups)
    embedding = sum(g.total for g in groups if g.component in EMBEDDING_COMPONENTS)
    lm_head = sum(g.total for g in groups if g.component == "head")
    return ParamsResult(
        model=spec.id,
        total_params=total,
        active_params=total - inactive,
        embedding_params=embedding,
        lm_head_params=lm_head,
        non_embedding_params=total - embedding - lm_head,
        breakdown=groups,
    )
