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

MoE families whose layout changed in transformers 5 are special: PEFT
(``utils/transformers_weight_conversion.py``) maps the transformers-4 names onto parameter
wrappers — Mixtral's ``gate`` (router), ``w1``+``w3`` (fused into ``experts.gate_up_proj``) and
``w2`` (``experts.down_proj``); for the qwen2_moe pattern (Qwen2/3-MoE, Qwen3-Next, DeepSeek-V2/V3,
GLM-4.5) ``gate``, ``gate_proj``+``up_proj`` and ``down_proj`` — and ``all-linear`` includes them.
Those names then leave the module targets, so the dense and shared-expert FFN modules that carry
them (``mlp.gate_proj`` ...) get no adapter. A wrapped parameter ``[E, out, in]`` at rank r
trains ``r x E x (in + out)``; gate_up_proj gets rank 2r. Llama 4's router is an ``nn.Linear``
that ``all-linear`` reaches. PEFT refuses ``out_proj`` and ``conv1d`` on Mamba models, so
``all-linear`` is an error there as it is in PEFT.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.families import family
from llmarch_cli.specs.inventory import SHORT_NAMES, Weight, inventory
from llmarch_cli.specs.model import MAX_WIDTH, ArchSpec

ALL_LINEAR = "all-linear"
SHORT_ROLES = ("attention", "cross_attention", "ffn", "shared_experts")


def module_path(w: Weight) -> str:
    """The module a Linear weight belongs to, as PEFT names it (``{i}`` for the layer)."""
    return w.hf.removesuffix(".weight")


def _modules(spec: ArchSpec) -> list[Weight]:
    """The weights of the spec's Linear (and Conv1D) modules, one per module.

    A tied head is absent from the inventory (its matrix is the embedding's) but is still a
    Linear module that a named target can adapt.
    """
    weights = inventory(spec)
    mods = [w for w in weights if w.linear]
    if spec.head.tied:
        embed = next(w for w in weights if w.name == "embed.weight")
        mods.append(embed._replace(name="lm_head.weight", role="head", component="head",
                                   hf=f"{family(spec.model_type).head}.weight", linear=True))
    return mods


def _matches(w: Weight, target: str) -> bool:
    if target in SHORT_NAMES:
        return target in w.shorts and w.role in SHORT_ROLES
    path = module_path(w)
    return path == target or path.endswith("." + target)


def valid_targets(spec: ArchSpec) -> list[str]:
    """The module names ``--targets`` accepts for this spec (LoRA-able Linear modules)."""
    mods = _modules(spec)
    shorts = [s for s in SHORT_NAMES if any(_matches(w, s) for w in mods)]
    moe = family(spec.model_type).peft_moe_targets
    names = (module_path(w).rsplit(".", 1)[-1] for w in mods)
    return list(dict.fromkeys([*names, *shorts, *moe, ALL_LINEAR]))


def _split(targets: Sequence[str]) -> list[str]:
    return [t.strip() for item in targets for t in item.split(",") if t.strip()]


_MAMBA_REFUSED = ("out_proj", "conv1d")  # PEFT's _check_lora_target_modules_mamba


def _converted(spec: ArchSpec, w: Weight) -> bool:
    """A Linear module whose name PEFT converts onto MoE parameters (it then gets no adapter)."""
    return spec.moe is not None and module_path(w).rsplit(".", 1)[-1] in family(
        spec.model_type).peft_moe_targets


def select_targets(spec: ArchSpec, targets: Sequence[str]) -> list[Weight]:
    """The Linear modules' weights ``targets`` selects; LlmarchError when a name selects nothing."""
    mods = _modules(spec)
    names = _split(targets)
    if not names:
        raise LlmarchError(f"--targets is empty (valid: {', '.join(valid_targets(spec))})")
    if spec.model_type == "mamba":
        refused = [n for n in names if n.lower() == ALL_LINEAR or n in _MAMBA_REFUSED]
        if refused:
            raise LlmarchError(
                f"--targets {refused[0]!r}: PEFT refuses LoRA on out_proj and conv1d of Mamba models; "
                "name the modules instead (in_proj, x_proj, dt_proj)"
            )
    if ALL_LINEAR in (n.lower() for n in names):
        return [w for w in mods if w.role != "head" and not _converted(spec, w)]
    moe = family(spec.model_type).peft_moe_targets
    chosen: list[Weight] = []
    for name in names:
        hits = [w for w in mods if _matches(w, name)]
        if not hits and name not in moe:
            raise LlmarchError(
                f"--targets {name!r} names no module of {spec.id} (valid: {', '.join(valid_targets(spec))})"
            )
        chosen += [w for w in hits if w not in chosen and not (name in moe and _converted(spec, w))]
    return chosen


def _peft_moe_params(spec: ArchSpec, rank: int, targets: Sequence[str]) -> int:
    """Router and expert parameters as PEFT wraps them (see the module docstring)."""
    conversion = dict(family(spec.model_type).peft_moe)
    if not conversion or spec.moe is None:
        return 0
    names = set(_split(targets))
    picked = set(conversion) if ALL_LINEAR in {n.lower() for n in names} else names & set(conversion)
    fused = sorted(n for n, part in conversion.items() if part == "gate_up")
    if 0 < len(picked & set(fused)) < len(fused):
        raise LlmarchError(f"--targets {' and '.join(fused)} go together: PEFT fuses them into "
                           "experts.gate_up_proj")
    parts = {conversion[n] for n in picked}
    h, i, e = spec.hidden_size, spec.ffn.intermediate_size, spec.moe.num_experts
    layers = sum(1 for w in inventory(spec) if w.name == "experts.down" for _ in w.layers or ())
    per_layer = 0
    if "router" in parts:
        per_layer += rank * (h + e)
    if "gate_up" in parts:
        per_layer += 2 * rank * e * (h + 2 * i)
    if "down" in parts:
        per_layer += rank * e * (i + h)
    return per_layer * layers


def lora_params(spec: ArchSpec, rank: int, targets: Sequence[str]) -> int:
    """Trainable LoRA parameters: sum over selected modules of r x (in + out) x layers."""
    if rank <= 0:
        raise LlmarchError(f"--rank must be positive, got {rank}")
    if rank > MAX_WIDTH:
        raise LlmarchError(f"--rank {rank:,} is over the limit of {MAX_WIDTH:,} (a width, 2^24)")
    linear = sum(rank * sum(w.in_out) * w.copies for w in select_targets(spec, targets))
    return linear + _peft_moe_params(spec, rank, targets)
