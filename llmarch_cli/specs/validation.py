"""Validation of spec mappings: ArchSpec from a mapping, pydantic errors as one line."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

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
