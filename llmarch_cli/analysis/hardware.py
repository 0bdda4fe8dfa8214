"""GPU presets: memory (bytes), bandwidth (bytes/s) and dense peak FLOP/s per dtype, with sources.

One TOML file per device in ``analysis/data/``; the id is the file name. Users add their own
with ``load_gpu_file(path)`` (same fields). ``resolve_gpu("h100x8")`` gives a device and a count.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from llmarch_cli._toml import tomllib
from llmarch_cli.errors import LlmarchError

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Gpu:
    id: str
    name: str
    memory_bytes: int
    bandwidth_bytes_per_s: float
    peak_flops: dict[str, float] = field(hash=False)
    source: str
    aliases: tuple[str, ...] = ()
    notes: str = ""


def _number(gpu_id: str, key: str, value: Any, kind: type = float) -> Any:
    """A positive number from a GPU table (an int for ``kind=int``), or an LlmarchError naming
    the field: TOML strings such as "24GiB" and booleans are rejected."""
    ok = (int,) if kind is int else (int, float)
    if isinstance(value, bool) or not isinstance(value, ok):
        what = "an integer number of bytes" if kind is int else "a number"
        raise LlmarchError(f"GPU {gpu_id!r}: {key} must be {what}, got {value!r}")
    if value <= 0:
        raise LlmarchError(f"GPU {gpu_id!r}: {key} must be positive, got {value!r}")
    return kind(value)


def _text(gpu_id: str, key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise LlmarchError(f"GPU {gpu_id!r}: {key} must be a string, got {value!r}")
    return value


def gpu_from_mapping(gpu_id: str, data: dict[str, Any]) -> Gpu:
    """A Gpu from a parsed TOML table, or an LlmarchError naming the missing or mistyped field."""
    need = ("name", "memory_bytes", "bandwidth_bytes_per_s", "peak_flops", "source")
    missing = [k for k in need if k not in data]
    if missing:
        raise LlmarchError(f"GPU {gpu_id!r}: missing {', '.join(missing)}")
    flops = data["peak_flops"]
    if not isinstance(flops, dict) or not flops:
        raise LlmarchError(f"GPU {gpu_id!r}: peak_flops must be a table of dtype = FLOP/s, got {flops!r}")
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list):
        raise LlmarchError(f"GPU {gpu_id!r}: aliases must be a list of strings, got {aliases!r}")
    return Gpu(
        id=gpu_id,
        name=_text(gpu_id, "name", data["name"]),
        memory_bytes=_number(gpu_id, "memory_bytes", data["memory_bytes"], int),
        bandwidth_bytes_per_s=_number(gpu_id, "bandwidth_bytes_per_s", data["bandwidth_bytes_per_s"]),
        peak_flops={k: _number(gpu_id, f"peak_flops.{k}", v) for k, v in flops.items()},
        source=_text(gpu_id, "source", data["source"]),
        aliases=tuple(_text(gpu_id, "aliases", a) for a in aliases),
        notes=_text(gpu_id, "notes", data.get("notes", "")),
    )


def gpu_ids() -> list[str]:
    """Every built-in GPU id, from file names alone."""
    return sorted(p.stem for p in DATA_DIR.glob("*.toml"))


@cache
def load_gpu(gpu_id: str) -> Gpu:
    with (DATA_DIR / f"{gpu_id}.toml").open("rb") as fh:
        return gpu_from_mapping(gpu_id, tomllib.load(fh))


def all_gpus() -> list[Gpu]:
    return [load_gpu(g) for g in gpu_ids()]


def load_gpu_file(path: str | Path) -> Gpu:
    """A user's own GPU preset: a TOML file with the built-in presets' fields."""
    p = Path(path)
    try:
        with p.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise LlmarchError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise LlmarchError(f"{path}: malformed TOML: {exc}") from None
    return gpu_from_mapping(p.stem, data)


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


@cache
def _index() -> dict[str, str]:
    index: dict[str, str] = {}
    for gid in gpu_ids():
        for name in (gid, *load_gpu(gid).aliases):
            index[_key(name)] = gid
    return index


def resolve_gpu(spec: str) -> tuple[Gpu, int]:
    """(device, count) for 'h100', 'H100-SXM', 'rtx4090x2', 'a100-80gb x8'."""
    text = spec.strip()
    index = _index()
    name, count = text, 1
    m = re.fullmatch(r"(.+?)\s*[x×*]\s*(\d+)", text, flags=re.IGNORECASE)
    if _key(text) not in index and m and _key(m.group(1)) in index:  # rtx9999 is no 'rt' x 9999
        name, count = m.group(1), int(m.group(2))
    if count <= 0:
        raise LlmarchError(f"GPU count must be positive, got {count}")
    key = _key(name)
    if key not in index:
        close = difflib.get_close_matches(key, list(index), n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(dict.fromkeys(index[c] for c in close))}?" if close else None
        raise LlmarchError(f"unknown GPU {name!r} (valid: {', '.join(gpu_ids())})", hint)
    return load_gpu(index[key]), count
