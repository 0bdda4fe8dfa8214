"""What-ifs as structured values (``WhatIf``: ``--set key=value``, ``--window``, ``--gqa``,
``--mqa``, ``--mha``) applied to an ArchSpec and re-validated.

A key is a dotted spec path (``attention.num_kv_heads``), a field name that occurs once in the
spec (``num_kv_heads``), or a Hugging Face config name (``num_key_value_heads``). Values are
JSON scalars (``8``, ``1e6``, ``true``, ``null``); anything else is taken as a string.

Changing ``hidden_size`` or ``attention.num_heads`` keeps the derived sizes consistent, as a
config.json edit would: a head_dim that was hidden / heads is recomputed (and a full rotary
dimension follows it), unless head_dim is itself overridden; heads that do not divide the
new width are an error, as in a config.json without head_dim. Changing ``num_layers`` repeats an
existing per-layer window pattern to the new depth.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.model import MAX_LAYERS, MAX_WIDTH, ArchSpec, head_dim_for
from llmarch_cli.specs.validation import describe_validation_error

# Hugging Face config names -> spec paths.
HF_NAMES: dict[str, str] = {
    "hidden_size": "hidden_size",
    "n_embd": "hidden_size",
    "d_model": "hidden_size",
    "num_hidden_layers": "num_layers",
    "n_layer": "num_layers",
    "num_layers": "num_layers",
    "num_attention_heads": "attention.num_heads",
    "n_head": "attention.num_heads",
    "num_key_value_heads": "attention.num_kv_heads",
    "head_dim": "attention.head_dim",
    "sliding_window": "attention.sliding_window",
    "intermediate_size": "ffn.intermediate_size",
    "n_inner": "ffn.intermediate_size",
    "d_ff": "ffn.intermediate_size",
    "ffn_dim": "ffn.intermediate_size",
    "vocab_size": "embeddings.vocab_size",
    "rope_theta": "positions.rope.theta",
    "max_position_embeddings": "max_context",
    "n_positions": "max_context",
    "rms_norm_eps": "norm.eps",
    "layer_norm_eps": "norm.eps",
    "layer_norm_epsilon": "norm.eps",
    "tie_word_embeddings": "head.tied",
    "num_local_experts": "moe.num_experts",
    "num_experts": "moe.num_experts",
    "num_experts_per_tok": "moe.top_k",
}


def _field_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Every dotted path of scalar-or-part fields under ``model``."""
    paths: list[str] = []
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        paths.append(path)
        for arg in _model_types(info.annotation):
            paths.extend(_field_paths(arg, f"{path}."))
    return paths


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [a for a in getattr(annotation, "__args__", ()) if isinstance(a, type)
            and issubclass(a, BaseModel)]


SPEC_PATHS: tuple[str, ...] = tuple(p for p in _field_paths(ArchSpec) if p != "id")


def resolve_key(key: str) -> str:
    """The spec path for a --set key, or an LlmarchError listing close names."""
    key = key.strip()
    if key in SPEC_PATHS:
        return key
    if key in HF_NAMES:
        return HF_NAMES[key]
    leaves = [p for p in SPEC_PATHS if p.rsplit(".", 1)[-1] == key]
    if len(leaves) == 1:
        return leaves[0]
    names = [*SPEC_PATHS, *HF_NAMES]
    close = leaves or difflib.get_close_matches(key, names, n=4, cutoff=0.6)
    hint = f"did you mean {', '.join(close)}?" if close else "see 'llmarch spec schema' for the fields"
    raise LlmarchError(f"--set: unknown field {key!r}", hint)


def parse_assignment(item: str) -> tuple[str, Any]:
    """'key=value' -> (spec path, value parsed as a JSON scalar or kept as a string)."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise LlmarchError(f"--set {item!r}: expected KEY=VALUE", "e.g. --set num_key_value_heads=8")
    if not raw.strip():
        raise LlmarchError(f"--set {item!r}: no value after '='")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw.strip()
    if isinstance(value, float) and value.is_integer():  # 1e29 or 4096.0: a size, as in config.json
        value = int(value)
    return resolve_key(key), value


def _assign(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = data
    for depth, part in enumerate(parts[:-1]):
        child = node.get(part)
        if not isinstance(child, dict):  # absent, or replaced by an earlier --set part=value
            where = ".".join(parts[: depth + 1])
            raise LlmarchError(f"--set {path}: this model has no {where}")
        node = child
    node[parts[-1]] = value


def _follow_derived(old: ArchSpec, data: dict[str, Any], paths: set[str]) -> None:
    """Keep head_dim, rotary dim and the layer pattern consistent with changed sizes."""
    attn = data["attention"]
    if not isinstance(attn, dict) or not {"num_heads", "head_dim"} <= attn.keys():
        return  # --set attention=...: validation names what is wrong
    derived = old.attention.head_dim * old.attention.num_heads == old.hidden_size
    if derived and "attention.head_dim" not in paths and {"hidden_size", "attention.num_heads"} & paths:
        hidden, heads = data["hidden_size"], attn["num_heads"]
        if isinstance(hidden, int) and isinstance(heads, int) and 0 < hidden <= MAX_WIDTH and heads > 0:
            try:  # as a config.json with these values: head_dim = hidden / heads, or an error
                attn["head_dim"] = head_dim_for(hidden, heads)
            except ValueError as exc:
                raise LlmarchError(f"after --set: {exc}", "set head_dim too") from None
    positions = data.get("positions")
    rope = positions.get("rope") if isinstance(positions, dict) else None
    old_rope = old.positions.rope
    if isinstance(rope, dict) and old_rope and "positions.rope.rotary_dim" not in paths:
        head_dim = attn["head_dim"]
        if isinstance(head_dim, int) and head_dim != old.attention.head_dim:
            scaled = old_rope.rotary_dim * head_dim
            if scaled % old.attention.head_dim == 0:
                rope["rotary_dim"] = scaled // old.attention.head_dim
    layers, types = data["num_layers"], attn.get("layer_types")
    if (types and "attention.layer_types" not in paths and isinstance(layers, int)
            and 0 < layers <= MAX_LAYERS):
        attn["layer_types"] = [types[i % len(types)] for i in range(layers)]


@dataclass(frozen=True)
class WhatIf:
    """Structured what-ifs, applied in this order: ``sets`` (spec path, value), then a sliding
    ``window`` of W tokens on every layer (decoder-only), then the KV heads: ``kv_heads`` N
    (``--gqa N``), ``mqa`` (one) or ``mha`` (as many as query heads)."""

    sets: tuple[tuple[str, Any], ...] = ()
    window: int | None = None
    kv_heads: int | None = None
    mqa: bool = False
    mha: bool = False

    def __post_init__(self) -> None:
        if sum((self.kv_heads is not None, self.mqa, self.mha)) > 1:
            raise LlmarchError("choose one of --gqa, --mqa and --mha")

    def __bool__(self) -> bool:
        return bool(self.sets) or self.window is not None or self.kv_heads is not None \
            or self.mqa or self.mha

    @classmethod
    def parse(cls, sets: list[str] | None = None, *, window: int | None = None,
              kv_heads: int | None = None, mqa: bool = False, mha: bool = False) -> WhatIf:
        """From the command line: ``--set KEY=VALUE`` texts parsed and their keys resolved."""
        return cls(tuple(parse_assignment(item) for item in sets or ()), window, kv_heads, mqa, mha)

    def describe(self) -> str:
        """The options this what-if came from, for error messages (``--set/--gqa``)."""
        given = [("--set", bool(self.sets)), ("--window", self.window is not None),
                 ("--gqa", self.kv_heads is not None), ("--mqa", self.mqa), ("--mha", self.mha)]
        return "/".join(name for name, on in given if on)


def apply_what_if(spec: ArchSpec, what_if: WhatIf) -> ArchSpec:
    """``spec`` with every what-if applied, re-validated; LlmarchError naming the options."""
    assignments = list(what_if.sets)
    if what_if.window is not None:
        if spec.architecture != "decoder":
            raise LlmarchError(f"--window applies to decoder-only models; {spec.id} is {spec.architecture}")
        other = sorted(set(spec.layer_kinds()) - {"full", "sliding"})
        if other:
            raise LlmarchError(f"--window applies to models whose layers are all full or sliding "
                               f"attention; {spec.id} has {', '.join(other)} layers")
        assignments += [("attention.sliding_window", what_if.window), ("attention.layer_types", None)]
    heads = 1 if what_if.mqa else spec.attention.num_heads if what_if.mha else what_if.kv_heads
    if heads is not None:
        assignments.append(("attention.num_kv_heads", heads))
    data = spec.model_dump(mode="python")
    for path, value in assignments:
        _assign(data, path, value)
    _follow_derived(spec, data, {path for path, _ in assignments})
    try:
        return ArchSpec.model_validate(data)
    except ValidationError as exc:
        problem = describe_validation_error(exc)
        if what_if.sets or what_if.window is not None:
            raise LlmarchError(f"after {what_if.describe()}: {problem}") from None
        option = f"--gqa {heads}" if what_if.kv_heads is not None else what_if.describe()
        raise LlmarchError(f"{option}: {problem.removeprefix('attention: ')}") from None
