"""MODEL arguments -> one resolved model: preset ids, HF ids, config.json files or folders, spec
files, stdin.

One entry point, ``resolve_model(ref, what_if)``, used by every command that takes MODEL. Text is parsed as
JSON or TOML; a mapping with ``model_type`` and no ``architecture`` is a Hugging Face config,
otherwise it is an llmarch spec. Every failure is an ``LlmarchError`` with one line.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from llmarch_cli._toml import tomllib
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.model import ArchSpec
from llmarch_cli.specs.registry import FINE_TUNES, FineTune, read_preset, resolve_id
from llmarch_cli.specs.validation import trusted_spec, validate_spec

if TYPE_CHECKING:
    from llmarch_cli.specs.overrides import WhatIf


_TOO_BIG = "a number has too many digits or the nesting is too deep"


def parse_text(text: str, origin: str) -> dict[str, Any]:
    """A JSON or TOML document that must be a mapping (an object / table); a UTF-8 byte
    order mark is skipped."""
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise LlmarchError(f"{origin} is empty")
    if "\x00" in text:
        raise LlmarchError(f"{origin} is binary, not JSON or TOML")
    stripped = text.lstrip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        if stripped[0] == "{":
            raise LlmarchError(f"{origin}: malformed JSON: {exc.msg} at line {exc.lineno}") from None
        data = _parse_toml(text, origin)
    except (ValueError, RecursionError):
        raise LlmarchError(f"{origin}: unreadable JSON: {_TOO_BIG}") from None
    if not isinstance(data, dict):
        raise LlmarchError(f"{origin}: expected a JSON object, got {_json_kind(data)}")
    return data


def _json_kind(value: Any) -> str:
    kinds = {list: "an array", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


def _parse_toml(text: str, origin: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LlmarchError(f"{origin}: malformed JSON/TOML: {exc}") from None
    except (ValueError, RecursionError):
        raise LlmarchError(f"{origin}: unreadable TOML: {_TOO_BIG}") from None


def spec_from_mapping(data: dict[str, Any], name: str, origin: str | None = None) -> ArchSpec:
    """An HF config (has model_type) or an llmarch spec file's contents; errors name
    ``origin``, the file read (default ``name``)."""
    origin = origin or name
    if "architecture" not in data and ("model_type" in data or "config_json" in data):
        from llmarch_cli.specs.hf import spec_from_hf_config

        if "config_json" in data:  # a preset-style file: verbatim config plus [meta]
            if not isinstance(data["config_json"], str):
                raise LlmarchError(f"{origin}: config_json must be a string holding config.json")
            config = parse_text(data["config_json"], f"{origin}: config_json")
            return spec_from_hf_config(config, spec_id=name, meta=data.get("meta"), origin=origin)
        return spec_from_hf_config(data, spec_id=name, origin=origin)
    if "architecture" not in data:
        raise LlmarchError(f"{origin} has no model_type (a Hugging Face config.json names one: "
                           "llama, mistral, ...) and no architecture (an llmarch spec file)")
    if "id" not in data:
        data = {**data, "id": name}
    try:
        return validate_spec(data)
    except LlmarchError as exc:
        raise LlmarchError(f"{origin}: {exc.message}", exc.hint) from None


MAX_SOURCE_BYTES = 16 << 20  # a config.json is a few KiB; read no further (/dev/zero, `yes |`)


def _check_size(size: int, origin: str) -> None:
    if size > MAX_SOURCE_BYTES:
        raise LlmarchError(f"{origin} is over {MAX_SOURCE_BYTES >> 20} MiB: not a config or spec file")


def read_source(ref: str) -> tuple[str, str, str]:
    """(text, display name, the file read) of '-' (stdin) or a file/folder path."""
    if ref == "-":
        try:
            text = sys.stdin.read(MAX_SOURCE_BYTES + 1)
        except UnicodeDecodeError:
            raise LlmarchError("stdin is binary, not JSON or TOML") from None
        _check_size(len(text), "stdin")
        if not text.strip():
            raise LlmarchError("stdin is empty", "pipe a config.json or spec file into '-'")
        return text, "stdin", "stdin"
    path = Path(ref)
    if path.is_dir():
        path = path / "config.json"
        if not path.is_file():
            raise LlmarchError(f"{ref}: folder has no config.json")
    origin = str(path)
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise LlmarchError(f"cannot read {origin}: {exc.strerror}") from None
    _check_size(len(raw), origin)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LlmarchError(f"{origin} is binary, not JSON or TOML") from None
    return text, path.parent.name if path.name == "config.json" else path.stem, origin


def looks_like_path(ref: str) -> bool:
    """'-', an existing file or folder, or anything named like a spec file."""
    if not ref.strip():  # Path("").exists(): the current folder
        return False
    return ref == "-" or ref.endswith((".json", ".toml")) or Path(ref).exists()


WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json")  # single file, sharded index


class ResolvedModel(NamedTuple):
    """A MODEL argument resolved once, handed down to analysis and forward.

    ``spec``: what the command computes on (what-ifs applied); ``baseline``: the same model
    before any what-if (equal to ``spec`` without one); ``config``: the config.json mapping
    read from a file, if the model came from one (forward reads its quirks there); ``folder``: a folder
    holding config.json and safetensors weights, if one was given; ``note``: which preset a
    family name or fine-tune id chose, or which file a folder stood for (printed on stderr once
    the command succeeds).
    """

    ref: str
    spec: ArchSpec
    baseline: ArchSpec
    config: dict[str, Any] | None = None
    folder: Path | None = None
    note: str | None = None

    @property
    def changed(self) -> bool:
        """True when a what-if changed the spec."""
        return self.spec != self.baseline


def _weights_folder(ref: str) -> Path | None:
    folder = Path(ref)
    if folder.is_dir() and (folder / "config.json").is_file() and any(
            (folder / name).is_file() for name in WEIGHT_FILES):
        return folder
    return None


def resolve_model(ref: str, what_if: WhatIf | None = None) -> ResolvedModel:
    """Resolve any MODEL argument once: preset, alias, HF id, family name, file, folder or '-'."""
    config = folder = note = None
    if looks_like_path(ref):
        text, name, origin = read_source(ref)
        data = parse_text(text, origin)
        spec = spec_from_mapping(data, name, origin)
        if "architecture" not in data and "model_type" in data:
            config = data
        if ref != "-" and Path(ref).is_dir():
            folder = _weights_folder(ref)
            note = f"{ref} -> {Path(ref) / 'config.json'}"
    else:
        try:
            preset_id, note = resolve_id(ref)
        except LlmarchError:
            from llmarch_cli.specs.hub import looks_like_hub_id

            if not looks_like_hub_id(ref):
                raise
            spec, config, note = load_hub_model(ref)
        else:
            tune = FINE_TUNES.get(ref.strip().lower())
            spec = load_fine_tune(tune) if tune else load_preset(preset_id)
    baseline = spec
    if what_if:
        from llmarch_cli.specs.overrides import apply_what_if

        spec = apply_what_if(spec, what_if)
    return ResolvedModel(ref, spec, baseline, config, folder, note)


def load_hub_model(ref: str) -> tuple[ArchSpec, dict[str, Any], str]:
    """(spec, config.json, note) of a Hugging Face id, offline-first (see ``specs.hub``)."""
    from llmarch_cli.specs.hub import fetch_config

    fetched = fetch_config(ref)
    origin = f"{fetched.ref}: config.json"
    data = parse_text(fetched.text, origin)
    if "model_type" not in data:
        raise LlmarchError(f"{origin} has no model_type", "write an llmarch spec file for it instead")
    spec = spec_from_mapping(data, str(fetched.ref), origin)
    meta = spec.meta.model_copy(update={
        "name": fetched.ref.repo, "hf_id": fetched.ref.repo, "source": fetched.source_url,
    })
    return spec.model_copy(update={"meta": meta}), data, fetched.note


def load_model(ref: str) -> ArchSpec:
    """The ArchSpec of any MODEL argument (``resolve_model(ref).spec``)."""
    return resolve_model(ref).spec


@cache
def load_preset(preset_id: str) -> ArchSpec:
    """The ArchSpec of a preset, from its config.json (or native spec) and meta. Presets are
    not validated again on every load: tests/test_presets.py validates each one fully."""
    return trusted_spec(preset_mapping(preset_id))


def preset_mapping(preset_id: str) -> dict[str, Any]:
    """The ArchSpec fields of a preset, before validation."""
    data = read_preset(preset_id)
    meta = data["meta"]
    if "config_json" in data:
        from llmarch_cli.specs.hf import hf_spec_mapping

        return hf_spec_mapping(json.loads(data["config_json"]), spec_id=preset_id, meta=meta)
    return {"id": preset_id, **data["spec"], "meta": meta}


def load_fine_tune(tune: FineTune) -> ArchSpec:
    """The spec of an instruct/chat variant: its base preset's config.json with the keys that
    differ, named after the variant."""
    from llmarch_cli.specs.hf import spec_from_hf_config

    base = read_preset(tune.preset)
    meta = {**base["meta"], "name": tune.hf_id.rsplit("/", 1)[-1], "hf_id": tune.hf_id, "aliases": []}
    config = {**json.loads(base["config_json"]), **tune.config}
    return spec_from_hf_config(config, spec_id=tune.id, meta=meta)


def preset_config(preset_id: str) -> dict[str, Any] | None:
    """The official config.json a preset carries, or None for a native spec."""
    text = read_preset(preset_id).get("config_json")
    return None if text is None else json.loads(text)

