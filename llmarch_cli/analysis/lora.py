"""LoRA adapters: which modules a ``--targets`` list selects and how many parameters they train.

A LoRA adapter on a linear layer ``[in -> out]`` adds ``A [r, in]`` and ``B [out, r]``:
``r x (in + out)`` trainable parameters per module (Hu et al. 2021, §4.1), whatever the base
dtype; biases stay frozen (PEFT ``bias="none"``). Target matching follows PEFT's
``check_target_module_exists``: a name selects every module whose path equals it or ends with
``"." + name``. ``all-linear`` follows PEFT's ``_maybe_include_all_linear_layers``: every
``nn.Linear``/``Conv1D`` except the output embeddings, so GPT-2's Conv1D layers are included,
and MoE experts (3-D parameters in transformers 5, not Linear modules) and routers are not.
Short names q,k,v,o,gate,up,down select modules by role; on fused QKV models (GPT-2, NeoX,
BLOOM, Qwen 1) q, k and v all select the fused matrix.

Mixtral is special: PEFT (``utils/transformers_weight_conversion.py``) maps the transformers-4
names ``gate`` (router), ``w1``+``w3`` (fused into ``experts.gate_up_proj``) and ``w2``
(``experts.down_proj``) onto parameter wrappers, and ``all-linear`` includes them. A wrapped
parameter ``[E, out, in]`` at rank r trains ``r x E x (in + out)``; gate_up_proj gets rank 2r.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmarch_cli.analysis.linears import SHORT_NAMES, Linear, linears
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.families import family
from llmarch_cli.specs.model import ArchSpec

ALL_LINEAR = "all-linear"


def _matches(lin: Linear, target: str) -> bool:
    if target in SHORT_NAMES:
        return target in lin.shorts and lin.role in ("attention", "cross_attention", "ffn")
    return lin.path == target or lin.path.endswith("." + target) or lin.name == target


def valid_targets(spec: ArchSpec) -> list[str]:
    """The module names ``--targets`` accepts for this spec (LoRA-able Linear modules)."""
    mods = [lin for lin in linears(spec) if lin.is_linear]
    shorts = [s for s in SHORT_NAMES if any(_matches(lin, s) for lin in mods)]
    moe = family(spec.model_type).peft_moe_targets
    return list(dict.fromkeys([*(lin.name for lin in mods), *shorts, *moe, ALL_LINEAR]))


def _split(targets: Sequence[str]) -> list[str]:
    return [t.strip() for item in targets for t in item.split(",") if t.strip()]


def select_targets(spec: ArchSpec, targets: Sequence[str]) -> list[Linear]:
    """The Linear modules ``targets`` selects; LlmarchError when a name selects nothing."""
    mods = [lin for lin in linears(spec) if lin.is_linear]
    names = _split(targets)
    if not names:
        raise LlmarchError(f"--targets is empty (valid: {', '.join(valid_targets(spec))})")
    if ALL_LINEAR in (n.lower() for n in names):
        return [lin for lin in mods if lin.role != "head"]
    moe = family(spec.model_type).peft_moe_targets
    chosen: list[Linear] = []
    for name in names:
        hits = [lin for lin in mods if _matches(lin, name)]
        if not hits and name not in moe:
            raise LlmarchError(
                f"--targets {name!r} names no module of {spec.id} (valid: {', '.join(valid_targets(spec))})"
            )
        chosen += [lin for lin in hits if lin not in chosen]
    return chosen


def _peft_moe_params(spec: ArchSpec, rank: int, targets: Sequence[str]) -> int:
    """Mixtral's router and expert parameters as PEFT wraps them (see the module docstring)."""
    moe_names = family(spec.model_type).peft_moe_targets
    if not moe_names or spec.moe is None:
        return 0
    names = set(_split(targets))
    picked = set(moe_names) if ALL_LINEAR in {n.lower() for n in names} else names & set(moe_names)
    if len(picked & {"w1", "w3"}) == 1:
        raise LlmarchError("--targets w1 and w3 go together: PEFT fuses them into experts.gate_up_proj")
    h, i, e = spec.hidden_size, spec.ffn.intermediate_size, spec.moe.num_experts
    layers = spec.num_layers - len(spec.moe.dense_layers)
    per_layer = 0
    if "gate" in picked:
        per_layer += rank * (h + e)
    if "w1" in picked:
        per_layer += 2 * rank * e * (h + 2 * i)
    if "w2" in picked:
        per_layer += rank * e * (i + h)
    return per_layer * layers


def lora_params(spec: ArchSpec, rank: int, targets: Sequence[str]) -> int:
    """Trainable LoRA parameters: sum over selected modules of r x (in + out) x count."""
    if rank <= 0:
        raise LlmarchError(f"--rank must be positive, got {rank}")
    linear = sum(rank * (m.in_features + m.out_features) * m.count for m in select_targets(spec, targets))
    return linear + _peft_moe_params(spec, rank, targets)
