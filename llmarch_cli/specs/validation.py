"""Validation of spec mappings: ArchSpec from a mapping, pydantic errors as one line; and the
trusted build of a preset's spec, which skips validation (tests/test_presets.py validates every
preset fully and checks that both builds agree, value for value and type for type)."""

from __future__ import annotations

from types import UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.model import ArchSpec


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem of a pydantic error as 'field.path: message' on one line."""
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"])
    msg = err["msg"].removeprefix("Value error, ")
    more = len(exc.errors()) - 1
    tail = f" (and {more} more)" if more else ""
    return f"{where}: {msg}{tail}" if where else f"{msg}{tail}"


def validate_spec(data: dict[str, Any]) -> ArchSpec:
    """ArchSpec from a mapping, or an LlmarchError naming the first bad field."""
    try:
        return ArchSpec.model_validate(data)
    except ValidationError as exc:
        raise LlmarchError(f"invalid spec: {describe_validation_error(exc)}") from None


def trusted_spec(data: dict[str, Any]) -> ArchSpec:
    """ArchSpec from a mapping known to be valid (a preset's), without validating it: values are
    converted as validation converts them (parts to their models, lists to tuples, integers in
    float fields to floats). Building ArchSpec's validator costs more start-up time than
    everything else ``params`` does; user input (files, --set) always goes through
    ``validate_spec``."""
    return _construct(ArchSpec, data)


def _construct(model: type[BaseModel], data: dict[str, Any]) -> Any:
    fields = model.model_fields
    return model.model_construct(**{key: _convert(fields[key].annotation, value)
                                    for key, value in data.items()})


def _convert(annotation: Any, value: Any) -> Any:
    if value is None:
        return None
    kinds = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
    if isinstance(value, dict):
        model = next(k for k in kinds if isinstance(k, type) and issubclass(k, BaseModel))
        return _construct(model, value)
    if isinstance(value, (list, tuple)):
        items = next(get_args(k)[0] for k in kinds if get_origin(k) is tuple)
        return tuple(_convert(items, v) for v in value)
    if type(value) is int and float in kinds:
        return float(value)
    return value
