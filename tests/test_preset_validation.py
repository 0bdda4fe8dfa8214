"""Every preset passes full validation, and the trusted build that loads presets without
validating them (start-up) gives the same spec, value for value and type for type."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from llmarch_cli.specs.loader import load_preset, preset_mapping
from llmarch_cli.specs.registry import preset_ids
from llmarch_cli.specs.validation import trusted_spec, validate_spec


def _typed(value: Any) -> Any:
    """``value`` with the type of every part attached, so that 4096 and 4096.0, or a list and
    a tuple, compare different."""
    if isinstance(value, BaseModel):
        return (type(value), {k: _typed(v) for k, v in value.__dict__.items()},
                frozenset(value.model_fields_set))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_typed(v) for v in value))
    return (type(value), value)


@pytest.mark.parametrize("pid", preset_ids())
def test_preset_validates_fully_and_loads_as_validated(pid):
    validated = validate_spec(preset_mapping(pid))
    loaded = load_preset(pid)
    assert loaded == validated
    assert _typed(loaded) == _typed(validated)
    assert loaded.model_dump_json() == validated.model_dump_json()


def test_trusted_build_converts_as_validation_does():
    mapping = preset_mapping("llama-2-7b")
    mapping["positions"]["rope"]["theta"] = 10000  # an integer in a float field
    mapping["meta"]["aliases"] = ["a", "b"]  # a list in a tuple field
    spec = trusted_spec(mapping)
    assert type(spec.positions.rope.theta) is float and spec.meta.aliases == ("a", "b")
    assert _typed(spec) == _typed(validate_spec(mapping))
