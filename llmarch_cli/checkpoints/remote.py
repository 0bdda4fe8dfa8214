"""Checkpoints in a Hugging Face repository, from their headers read with HTTP range requests.

One HEAD request learns the file's size and final location (following the Hub's redirect to
its storage); every ``read(offset, size)`` is then one ranged GET of exactly those bytes, read
as a stream and cut off at ``size``, so a server that ignores ``Range`` still cannot make us
download a checkpoint. The token goes only to the Hub's own host, never to a storage redirect.
``open_remote`` builds the same ``Checkpoint`` that local files give, so ``inspect`` and
``--against`` treat both alike. A safetensors shard costs two ranges (the length, the header);
a GGUF header is read in the parser's chunks, so at most one chunk past its end.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlparse

from llmarch_cli.checkpoints.checkpoint import (
    SPLIT,
    Checkpoint,
    from_gguf,
    from_safetensors,
    open_checkpoint,
)
from llmarch_cli.checkpoints.safetensors import (
    INDEX,
    SINGLE,
    check_index,
    parse_header,
    parse_index,
)
from llmarch_cli.checkpoints.source import LocalFile
from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.hub import (
    HubRef,
    endpoint,
    fetch_config,
    hub_error,
    import_hub,
    offline_mode,
    parse_hub_id,
    timeout_s,
)

MAX_SKIP_BYTES = 1 << 20  # bytes we accept to discard when a server answers a range with 200


class HubFile:
    """Bytes of ``filename`` in the repository ``ref``, read with ranged GETs."""

    def __init__(self, ref: HubRef, filename: str) -> None:
        hub = import_hub()
        self.ref, self.name = ref, filename
        url = hub.hf_hub_url(ref.repo, filename, revision=ref.revision, endpoint=endpoint())
        try:
            meta = hub.get_hf_file_metadata(url, timeout=timeout_s(), retry_on_errors=False)
        except Exception as exc:  # huggingface_hub and httpx raise many kinds; all become one line
            raise hub_error(exc, ref, filename) from None
        if meta.size is None:
            raise LlmarchError(f"{ref}: the Hub did not give the size of {filename}")
        self.size: int = meta.size
        self.url: str = meta.location
        same_host = urlparse(self.url).netloc == urlparse(endpoint()).netloc
        self._headers = hub.utils.build_hf_headers() if same_host else {}

    def read(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > self.size:
            raise LlmarchError(f"{self.name}: read of {size} bytes at {offset} runs beyond the file "
                               f"({self.size} bytes)")
        if size == 0:
            return b""
        hub = import_hub()
        headers = {**self._headers, "Range": f"bytes={offset}-{offset + size - 1}",
                   "Accept-Encoding": "identity"}
        chunks: list[bytes] = []
        got = 0
        try:
            with hub.get_session().stream("GET", self.url, headers=headers,
                                          timeout=timeout_s()) as response:
                hub.utils.hf_raise_for_status(response)
                skip = offset if response.status_code == 200 else 0  # Range ignored
                if skip > MAX_SKIP_BYTES:
                    raise LlmarchError(f"{self.ref}: the server ignores range requests",
                                       "download the checkpoint and inspect the local copy")
                for chunk in response.iter_bytes():
                    if skip:
                        cut = min(skip, len(chunk))
                        chunk, skip = chunk[cut:], skip - cut
                    chunks.append(chunk[: size - got])
                    got += len(chunks[-1])
                    if got >= size:
                        break
        except LlmarchError:
            raise
        except Exception as exc:  # huggingface_hub and httpx raise many kinds; all become one line
            raise hub_error(exc, self.ref, self.name) from None
        data = b"".join(chunks)
        if len(data) != size:
            raise LlmarchError(f"{self.ref}: {self.name} ended after {len(data)} of {size} bytes")
        return data


def open_remote(text: str, file: str | None = None) -> Checkpoint:
    """The checkpoint of the Hub id ``text`` from its headers: safetensors (the index and every
    shard it names, or ``model.safetensors``), or the GGUF ``file`` and its splits.

    Offline-first: when every file is already in the Hugging Face cache, the cached copies are
    read and nothing is requested.
    """
    ref = parse_hub_id(text)
    import_hub()
    if file is not None and not file.endswith(".gguf"):
        raise LlmarchError(f"--file {file!r} is not a GGUF file", "name a .gguf file of the repository")
    cached = _cached(ref, file)
    if cached is not None:
        return open_checkpoint(cached)
    if offline_mode():
        raise LlmarchError(f"the checkpoint of {ref} is not in the Hugging Face cache and offline "
                           "mode is on", "run without --offline / HF_HUB_OFFLINE to read its headers")
    if file is not None:
        from llmarch_cli.checkpoints.gguf import parse_header as gguf_header

        names = split_names(file)
        return from_gguf(Path(names[0]).name.removesuffix(".gguf"),
                         [gguf_header(HubFile(ref, n)) for n in names])
    name = ref.repo.split("/")[-1]
    config = json.loads(fetch_config(str(ref)).text)
    try:
        index = HubFile(ref, INDEX)
    except LlmarchError as exc:
        if not exc.message.endswith(f"has no {INDEX}"):
            raise
        return from_safetensors(name, [parse_header(HubFile(ref, SINGLE))], config)
    weight_map = parse_index(index)
    headers = [parse_header(HubFile(ref, shard)) for shard in sorted(set(weight_map.values()))]
    check_index(INDEX, weight_map, headers)
    return from_safetensors(name, headers, config)


def split_names(file: str) -> tuple[str, ...]:
    """Every split of ``NAME-0000k-of-0000N.gguf`` (just ``file`` when not split)."""
    match = SPLIT.match(Path(file).name)
    if match is None:
        return (file,)
    folder = file[: len(file) - len(Path(file).name)]
    count = int(match["count"])
    return tuple(f"{folder}{match['stem']}-{k:05d}-of-{count:05d}.gguf" for k in range(1, count + 1))


def _cached(ref: HubRef, file: str | None) -> Path | None:
    """The cached local file or folder holding the whole checkpoint, or None."""
    from huggingface_hub import try_to_load_from_cache

    def local(name: str) -> Path | None:
        found = try_to_load_from_cache(ref.repo, name, revision=ref.revision)
        return Path(found) if isinstance(found, str) else None

    if file is not None:
        paths = [local(n) for n in split_names(file)]
        return paths[0] if all(paths) else None
    config, index = local("config.json"), local(INDEX)
    if config is None:
        return None
    if index is not None:
        shards = set(parse_index(LocalFile(index)).values())
        return index if all(local(s) for s in shards) else None
    return local(SINGLE)
