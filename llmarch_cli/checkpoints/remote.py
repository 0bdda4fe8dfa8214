"""A file in a Hugging Face repository as a byte source (``checkpoints.source``): HTTP ranges.

One HEAD request learns the file's size and final location (following the Hub's redirect to
its storage); every ``read(offset, size)`` is then one ranged GET of exactly those bytes, read
as a stream and cut off at ``size``, so a server that ignores ``Range`` still cannot make us
download a checkpoint. The token goes only to the Hub's own host, never to a storage redirect.
"""

from __future__ import annotations

from urllib.parse import urlparse

from llmarch_cli.errors import LlmarchError
from llmarch_cli.specs.hub import HubRef, endpoint, hub_error, import_hub, timeout_s

MAX_SKIP_BYTES = 1 << 20  # bytes we accept to discard when a server answers a range with 200


class HubFile:
    """Bytes of ``filename`` in the repository ``ref``; ``bytes_read`` counts what came back."""

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
        self.bytes_read = 0

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
        self.bytes_read += len(data)
        if len(data) != size:
            raise LlmarchError(f"{self.ref}: {self.name} ended after {len(data)} of {size} bytes")
        return data
