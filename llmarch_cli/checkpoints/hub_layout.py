"""A checkpoint's hub layout -> the layout of transformers' model (``state_dict`` names, shapes).

transformers 5 converts some checkpoints when it loads them and converts back when it saves
(``transformers/conversion_mapping.py``), so files keep the hub layout while the model, and
llmarch's weight inventory, use another. Names and shapes only, as those conversions do them:

* GPT-NeoX: ``embed_out.*`` is the model's ``lm_head.*``;
* Mixtral: ``.block_sparse_moe.`` is ``.mlp.``; the per-expert ``experts.{e}.w1|w3.weight``
  ([I, H] each) stack to ``experts.gate_up_proj`` [E, 2I, H] (gate then up) and
  ``experts.{e}.w2.weight`` ([H, I]) to ``experts.down_proj`` [E, H, I];
* Qwen2-MoE and the models transformers converts like it: ``experts.{e}.gate_proj|up_proj`` stack
  to ``gate_up_proj`` and ``experts.{e}.down_proj`` to ``down_proj``, the same way.
"""

from __future__ import annotations

import re
from collections import defaultdict

Shapes = dict[str, tuple[int, ...]]

RENAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "gpt_neox": ((r"^embed_out\.", "lm_head."),),
    "mixtral": ((r"\.block_sparse_moe\.", ".mlp."),),
}
# model_type -> (gate, up, down) part names of one stored expert
EXPERT_PARTS: dict[str, tuple[str, str, str]] = {
    "mixtral": ("w1", "w3", "w2"),
    **dict.fromkeys(("qwen2_moe", "qwen3_moe", "qwen3_next", "olmoe", "deepseek_v2", "deepseek_v3",
                     "glm4_moe"),
                    ("gate_proj", "up_proj", "down_proj")),
}
EXPERT = re.compile(r"^(?P<stem>.*\.experts)\.(?P<e>\d+)\.(?P<part>\w+)\.weight$")


def model_layout(model_type: str | None, stored: Shapes) -> Shapes:
    """``stored`` (name -> shape as in the file) renamed and stacked as the model holds it."""
    out: Shapes = {}
    for name, shape in stored.items():
        for pattern, replacement in RENAMES.get(model_type or "", ()):
            name = re.sub(pattern, replacement, name)
        out[name] = shape
    parts = EXPERT_PARTS.get(model_type or "")
    return _stack_experts(out, parts) if parts else out


def _stack_experts(shapes: Shapes, parts: tuple[str, str, str]) -> Shapes:
    """Per-expert 2-D tensors -> ``gate_up_proj`` [E, 2I, H] and ``down_proj`` [E, H, I];
    a tensor whose experts disagree in shape stays as stored (it shows as extra)."""
    gate, up, down = parts
    groups: dict[tuple[str, str], dict[int, tuple[int, ...]]] = defaultdict(dict)
    out: Shapes = {}
    for name, shape in shapes.items():
        match = EXPERT.match(name)
        if match and match["part"] in parts and len(shape) == 2:
            groups[match["stem"], match["part"]][int(match["e"])] = shape
        else:
            out[name] = shape
    for (stem, part), by_expert in groups.items():
        if part == gate:
            ups = groups.get((stem, up), {})
            seen = set(by_expert.values()) | set(ups.values())
            if len(seen) == 1 and ups.keys() == by_expert.keys():
                rows, cols = seen.pop()
                out[f"{stem}.gate_up_proj"] = (len(by_expert), 2 * rows, cols)
            else:
                out |= _unstacked(stem, gate, by_expert) | _unstacked(stem, up, ups)
        elif part == down and len(set(by_expert.values())) == 1:
            out[f"{stem}.down_proj"] = (len(by_expert), *next(iter(by_expert.values())))
        elif part == down or (stem, gate) not in groups:  # experts that disagree; ups alone
            out |= _unstacked(stem, part, by_expert)
    return out


def _unstacked(stem: str, part: str, by_expert: dict[int, tuple[int, ...]]) -> Shapes:
    return {f"{stem}.{e}.{part}.weight": shape for e, shape in by_expert.items()}
