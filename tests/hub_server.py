"""A stand-in for the Hugging Face Hub's file endpoints on the loopback address, for tests.

It serves what llmarch asks of the Hub, as the Hub answers it (huggingface_hub's client reads
these headers): ``HEAD``/``GET /{repo}/resolve/{revision}/{path}`` with ``X-Repo-Commit``,
``ETag``, and for large (LFS) files a 302 to ``/cdn/...`` carrying ``X-Linked-Etag`` and
``X-Linked-Size``; ranged GETs answered 206; errors with ``X-Error-Code`` (RepoNotFound,
RevisionNotFound, EntryNotFound, GatedRepo). A file may be *sparse*: its first bytes are given
and the rest reads as zeros, so a "100 GB" shard costs nothing. Every body byte sent is counted
per path, so a test can prove that only header bytes crossed the wire.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LFS_THRESHOLD = 1 << 20  # files this large are served like LFS files: a redirect to the CDN
TOKEN = "hf_good_token"


@dataclass
class HubFile:
    head: bytes  # the first bytes of the file
    size: int  # the file's full size; bytes past ``head`` read as zeros

    @classmethod
    def of(cls, data: bytes) -> HubFile:
        return cls(data, len(data))

    def read(self, start: int, stop: int) -> bytes:
        """Bytes [start, stop) of the file."""
        part = self.head[start:stop]
        return part + bytes(max(0, stop - max(start, len(self.head))))

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.head + str(self.size).encode()).hexdigest()


@dataclass
class Repo:
    files: dict[str, HubFile]
    commit: str = "0123456789abcdef0123456789abcdef01234567"
    gated: bool = False
    broken: bool = False  # every request answers 500
    slow: float = 0.0  # seconds to wait before answering


@dataclass
class FakeHub:
    repos: dict[str, Repo] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)  # path -> body bytes sent
    requests: list[str] = field(default_factory=list)  # "METHOD path"
    _server: ThreadingHTTPServer | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def bytes_sent(self) -> int:
        return sum(self.sent.values())

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            state = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
_CDN = re.compile(r"^/cdn/(?P<repo>[^/]+/[^/]+)/(?P<rev>[^/]+)/(?P<path>.+)$")


class _Handler(BaseHTTPRequestHandler):
    state: FakeHub
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _error(self, status: int, code: str | None) -> None:
        message = f'{{"error": "{code or status}"}}'.encode()
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(message)))
        self.end_headers()
        if self.command == "GET":
            self.wfile.write(message)

    def _answer(self, body: bool) -> None:
        hub = self.state
        hub.requests.append(f"{self.command} {self.path}")
        cdn = _CDN.match(self.path)
        match = cdn or _RESOLVE.match(self.path)
        if match is None:
            return self._error(404, None)
        repo = hub.repos.get(match["repo"])
        if repo is None:
            return self._error(404, "RepoNotFound")
        if repo.slow:
            time.sleep(repo.slow)
        if repo.broken:
            return self._error(500, None)
        if repo.gated and self.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._error(401, "GatedRepo")
        if match["rev"] not in ("main", repo.commit):
            return self._error(404, "RevisionNotFound")
        file = repo.files.get(match["path"])
        if file is None:
            return self._error(404, "EntryNotFound")
        if file.size >= LFS_THRESHOLD and not cdn:
            self.send_response(302)
            self.send_header("Location", f"/cdn/{match['repo']}/{repo.commit}/{match['path']}")
            self.send_header("X-Repo-Commit", repo.commit)
            self.send_header("X-Linked-Etag", f'"{file.etag}"')
            self.send_header("X-Linked-Size", str(file.size))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        start, stop = 0, file.size
        ranged = self.headers.get("Range")
        if ranged:
            found = re.fullmatch(r"bytes=(\d+)-(\d*)", ranged.strip())
            if found is None or int(found[1]) >= file.size:
                return self._error(416, None)
            start = int(found[1])
            stop = min(file.size, int(found[2]) + 1) if found[2] else file.size
        self.send_response(206 if ranged else 200)
        self.send_header("X-Repo-Commit", repo.commit)
        self.send_header("ETag", f'"{file.etag}"')
        self.send_header("Accept-Ranges", "bytes")
        if ranged:
            self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{file.size}")
        self.send_header("Content-Length", str(stop - start))
        self.end_headers()
        if body:
            data = file.read(start, stop)
            self.wfile.write(data)
            hub.sent[match["path"]] = hub.sent.get(match["path"], 0) + len(data)
        return None
