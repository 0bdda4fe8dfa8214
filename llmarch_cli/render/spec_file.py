"""A spec as the text of an llmarch spec file (``spec export``)."""

from __future__ import annotations

from typing import Any


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    return value


def spec_text(data: dict, fmt: str) -> str:
    """A spec mapping as TOML or JSON text (None values dropped: they are the defaults)."""
    clean = _drop_none(data)
    if fmt == "json":
        from llmarch_cli.render.formats import to_json

        return to_json(clean)
    import tomli_w

    return tomli_w.dumps(clean)
