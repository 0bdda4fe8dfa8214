"""Hugging Face Hub ids (``org/name[@revision]``) -> their ``config.json``, offline-first.

Files go through ``huggingface_hub``'s cache, the one transformers shares, so a config that
transformers already downloaded costs no request, and neither does a second run: the cache is
read first and the Hub asked only on a miss. ``HF_TOKEN`` opens gated repositories;
``HF_HUB_OFFLINE=1`` or ``--offline`` forbid any request. A cached file that is not a JSON
object (a partial or damaged entry) is fetched again rather than trusted. ``huggingface_hub``
is imported only here, on use. Every failure is one ``LlmarchError`` line with a hint.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from llmarch_cli.errors import LlmarchError

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
HUB_ID = re.compile(rf"(?P<repo>{_NAME}/{_NAME})(?:@(?P<revision>[A-Za-z0-9._/-]{{1,200}}))?")
DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class HubRef:
    repo: str
    revision: str | None = None

    def __str__(self) -> str:
        return f"{self.repo}@{self.revision}" if self.revision else self.repo


@dataclass(frozen=True)
class HubConfig:
    """``config.json`` of a Hub model: its text, the cached file and what was done to get it."""

    ref: HubRef
    text: str
    path: Path
    note: str

    @property
    def source_url(self) -> str:
        return f"{endpoint()}/{self.ref.repo}/blob/{self.ref.revision or 'main'}/config.json"


def looks_like_hub_id(ref: str) -> bool:
    """Shaped like ``org/name`` (a slash, and not an absolute, relative or home path); whether
    it is a valid id is ``parse_hub_id``'s to say."""
    return "/" in ref and not ref.startswith(("/", ".", "~"))


def parse_hub_id(ref: str) -> HubRef:
    """A HubRef, or an LlmarchError naming what is illegal in ``ref``."""
    match = HUB_ID.fullmatch(ref)
    if match is None or ".." in ref.split("@")[0] or "--" in ref.split("@")[0]:
        raise LlmarchError(
            f"{ref!r} is not a valid Hugging Face model id",
            "ids look like org/name or org/name@revision: letters, digits, '-', '_' and '.'",
        )
    return HubRef(match["repo"], match["revision"])


def timeout_s() -> float:
    """Seconds to wait for each answer of the Hub (``HF_HUB_ETAG_TIMEOUT``, default 10)."""
    try:
        return max(0.1, float(os.environ.get("HF_HUB_ETAG_TIMEOUT", DEFAULT_TIMEOUT_S)))
    except ValueError:
        return DEFAULT_TIMEOUT_S


def offline_mode() -> bool:
    """True when ``HF_HUB_OFFLINE``/``TRANSFORMERS_OFFLINE`` is set (``--offline`` sets it)."""
    env = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return env.strip().lower() in {"1", "on", "yes", "true"}


def import_hub() -> ModuleType:
    try:
        import huggingface_hub
    except ImportError:
        raise LlmarchError(
            "Hugging Face ids need the huggingface_hub package",
            "pip install 'llmarch[hub]'",
        ) from None
    from huggingface_hub.utils import disable_progress_bars, logging

    logging.set_verbosity_error()  # its retry warnings would break the one-line error rule
    disable_progress_bars()
    return huggingface_hub


def check_reachable(ref: HubRef, filename: str) -> None:
    """One HEAD request without retries, so that a failure is one bounded, named error.

    ``hf_hub_download`` alone retries a missing file five times with back-off (about 23 s) and
    with a 60 s timeout; this answers within ``timeout_s()``.
    """
    hub = import_hub()
    url = hub.hf_hub_url(ref.repo, filename, revision=ref.revision, endpoint=endpoint())
    try:
        hub.get_hf_file_metadata(url, timeout=timeout_s(), retry_on_errors=False)
    except Exception as exc:  # huggingface_hub and httpx raise many kinds; all become one line
        raise hub_error(exc, ref, filename) from None


def endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def hub_error(exc: BaseException, ref: HubRef, filename: str) -> LlmarchError:
    """The one-line LlmarchError for a failed Hub request (walks the exception's causes)."""
    from huggingface_hub import errors

    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(chain) < 10:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    names = {type(e).__name__ for e in chain}
    status = next((getattr(getattr(e, "response", None), "status_code", None) for e in chain
                   if getattr(getattr(e, "response", None), "status_code", None)), None)
    if any(isinstance(e, errors.GatedRepoError) for e in chain) or status == 403:
        return LlmarchError(f"{ref.repo} is a gated model",
                            "accept its licence on the Hub, then set HF_TOKEN to a token with access")
    if any(isinstance(e, errors.RepositoryNotFoundError) for e in chain):
        return LlmarchError(f"no Hugging Face repository {ref.repo!r} (or it is private)",
                            _closest_presets(ref.repo))
    if any(isinstance(e, errors.RevisionNotFoundError) for e in chain):
        return LlmarchError(f"{ref.repo} has no revision {ref.revision!r}",
                            "use a branch, tag or commit of the repository")
    if any(isinstance(e, errors.RemoteEntryNotFoundError) for e in chain):
        return LlmarchError(f"{ref} has no {filename}",
                            "not a transformers checkpoint? write an llmarch spec file instead")
    if "TimeoutException" in names or any(n.endswith("Timeout") for n in names):
        return LlmarchError(f"the Hub did not answer within {timeout_s():g} s ({endpoint()})",
                            "try again, raise HF_HUB_ETAG_TIMEOUT, or use --offline with a cached copy")
    if status is not None and status >= 500:
        return LlmarchError(f"the Hub answered {status} (server error) for {ref}",
                            "try again later, or use --offline with a cached copy")
    if status is not None:
        return LlmarchError(f"the Hub answered {status} for {ref}")
    if isinstance(exc, errors.LocalEntryNotFoundError) or "ConnectError" in names:
        return LlmarchError(f"cannot reach the Hub ({endpoint()}) for {ref}",
                            "use a preset, a local config.json, or --offline with a cached copy")
    return LlmarchError(f"cannot fetch {filename} of {ref}: {exc}")


def _closest_presets(repo: str) -> str:
    """The registry's did-you-mean for the name part of ``repo``, or a hint about tokens."""
    from llmarch_cli.specs.registry import resolve_id

    try:
        preset, _ = resolve_id(repo.split("/")[-1])
    except LlmarchError as exc:
        if exc.hint and exc.hint.startswith("did you mean"):
            return exc.hint
        return "check the id; private repositories need HF_TOKEN"
    return f"did you mean {preset!r}?"


def _json_object(path: Path) -> str | None:
    """The text of ``path`` when it holds a JSON object, else None (partial or damaged)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
        return text if isinstance(json.loads(text), dict) else None
    except (OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None


def fetch_config(text: str) -> HubConfig:
    """``config.json`` of the Hub id ``text``: from the cache when it is there, else fetched."""
    ref = parse_hub_id(text)
    hub = import_hub()
    offline = offline_mode()
    cached = hub.try_to_load_from_cache(ref.repo, "config.json", revision=ref.revision)
    if isinstance(cached, str):
        body = _json_object(Path(cached))
        if body is not None:
            return HubConfig(ref, body, Path(cached), f"{ref}: config.json read from the cache")
        if offline:
            raise LlmarchError(f"the cached config.json of {ref} is damaged",
                               "run once without --offline to fetch it again")
    elif offline:
        raise LlmarchError(f"{ref} is not in the Hugging Face cache and offline mode is on",
                           "run once without --offline / HF_HUB_OFFLINE to fetch it")
    check_reachable(ref, "config.json")
    try:
        path = hub.hf_hub_download(ref.repo, "config.json", revision=ref.revision,
                                   etag_timeout=timeout_s(), force_download=cached is not None)
    except Exception as exc:  # huggingface_hub and httpx raise many kinds; all become one line
        raise hub_error(exc, ref, "config.json") from None
    body = _json_object(Path(path))
    if body is None:
        raise LlmarchError(f"config.json of {ref} is not a JSON object")
    return HubConfig(ref, body, Path(path), f"{ref}: config.json fetched from {endpoint()}")
