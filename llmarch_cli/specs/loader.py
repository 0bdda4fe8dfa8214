"""MODEL arguments -> ArchSpec: preset ids, HF ids, config.json files or folders, spec files, stdin.

One entry point, ``load_model(ref)``, used by every command that takes MODEL. Text is parsed as
JSON or TOML; a mapping with ``model_type`` and no ``architecture`` is a Hugging Face config,
otherwise it is an llmarch spec. Every failure is an ``LlmarchError`` with one line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from llmarch_cli._toml import tomllib
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.model import ArchSpec
from llmarch_cli.specs.registry import load_preset, resolve_id


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


_TOO_BIG = "a number has too many digits or the nesting is too deep"


def parse_text(text: str, origin: str) -> dict[str, Any]:
    """A JSON or TOML document that must be a mapping (an object / table)."""
    if not text.strip():
        raise LlmarchError(f"{origin} is empty")
    if "\x00" in text:
        raise LlmarchError(f"{origin} is binary, not JSON or TOML")
    stripped = text.lstrip()
    if stripped[0] in "[{" and not stripped.startswith("[meta]"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            if stripped[0] == "{":
                raise LlmarchError(f"{origin}: malformed JSON: {exc.msg} at line {exc.lineno}") from None
            data = _parse_toml(text, origin)
        except (ValueError, RecursionError):
            raise LlmarchError(f"{origin}: unreadable JSON: {_TOO_BIG}") from None
    else:
        data = _parse_toml(text, origin)
    if not isinstance(data, dict):
        raise LlmarchError(f"{origin}: expected a JSON object, got {type(data).__name__}")
    return data


def _parse_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LlmarchError(f"{origin}: malformed JSON/TOML: {exc}") from None
    except (ValueError, RecursionError):
        raise LlmarchError(f"{origin}: unreadable TOML: {_TOO_BIG}") from None


def spec_from_mapping(data: dict[str, Any], name: str) -> ArchSpec:
    """An HF config (has model_type) or an llmarch spec file's contents."""
    if "architecture" not in data and ("model_type" in data or "config_json" in data):
        from llmarch_cli.specs.hf import spec_from_hf_config

        if "config_json" in data:  # a preset-style file: verbatim config plus [meta]
            if not isinstance(data["config_json"], str):
                raise LlmarchError(f"{name}: config_json must be a string holding config.json")
            config = parse_text(data["config_json"], f"{name}: config_json")
            return spec_from_hf_config(config, spec_id=name, meta=data.get("meta"))
        return spec_from_hf_config(data, spec_id=name)
    if "id" not in data:
        data = {**data, "id": name}
    return validate_spec(data)


MAX_SOURCE_BYTES = 16 << 20  # a config.json is a few KiB; read no further (/dev/zero, `yes |`)


def _check_size(size: int, origin: str) -> None:
    if size > MAX_SOURCE_BYTES:
        raise LlmarchError(f"{origin} is over {MAX_SOURCE_BYTES >> 20} MiB: not a config or spec file")


def read_source(ref: str) -> tuple[str, str]:
    """(text, display name) of '-' (stdin) or a file/folder path."""
    if ref == "-":
        try:
            text = sys.stdin.read(MAX_SOURCE_BYTES + 1)
        except UnicodeDecodeError:
            raise LlmarchError("stdin is binary, not JSON or TOML") from None
        _check_size(len(text), "stdin")
        if not text.strip():
            raise LlmarchError("stdin is empty", "pipe a config.json or spec file into '-'")
        return text, "stdin"
    path = Path(ref)
    if path.is_dir():
        path = path / "config.json"
        if not path.is_file():
            raise LlmarchError(f"{ref}: folder has no config.json")
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise LlmarchError(f"cannot read {ref}: {exc.strerror}") from None
    _check_size(len(raw), ref)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LlmarchError(f"{ref} is binary, not JSON or TOML") from None
    return text, path.parent.name if path.name == "config.json" else path.stem


def looks_like_path(ref: str) -> bool:
    """'-', an existing file or folder, or anything named like a spec file."""
    return ref == "-" or ref.endswith((".json", ".toml")) or Path(ref).exists()


def load_model(ref: str) -> ArchSpec:
    """Resolve any MODEL argument to a validated ArchSpec."""
    if looks_like_path(ref):
        text, name = read_source(ref)
        return spec_from_mapping(parse_text(text, ref if ref != "-" else "stdin"), name)
    try:
        preset_id, _family = resolve_id(ref)
    except LlmarchError:
        from llmarch_cli.specs.hub import looks_like_hub_id

        if not looks_like_hub_id(ref):
            raise
        return load_hub_model(ref)
    return load_preset(preset_id)


HUB_NOTES: list[str] = []  # what was fetched or read from the cache, printed on success


def load_hub_model(ref: str) -> ArchSpec:
    """The spec of a Hugging Face id's config.json (offline-first, see ``specs.hub``)."""
    from llmarch_cli.specs.hub import fetch_config

    fetched = fetch_config(ref)
    HUB_NOTES.append(fetched.note)
    origin = f"{fetched.ref}: config.json"
    data = parse_text(fetched.text, origin)
    if "model_type" not in data:
        raise LlmarchError(f"{origin} has no model_type", "write an llmarch spec file for it instead")
    spec = spec_from_mapping(data, str(fetched.ref))
    meta = spec.meta.model_copy(update={
        "name": fetched.ref.repo, "hf_id": fetched.ref.repo,
        "source": fetched.source_url,
    })
    return spec.model_copy(update={"meta": meta})
