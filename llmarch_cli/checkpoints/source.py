"""Byte sources: what the header parsers read through, so one checked parser serves any storage.

A source has a display ``name``, a total ``size`` in bytes and ``read(offset, size)``, which
returns exactly ``size`` bytes or raises an ``LlmarchError``. Parsers check every length
against ``size`` before asking for it, so a hostile header never triggers a large read. A local
file is one implementation; anything that can serve byte ranges (HTTP range requests) is another.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from llmarch_cli.errors import LlmarchError


class ByteSource(Protocol):
    name: str  # shown in error messages (a file name)
    size: int  # total bytes

    def read(self, offset: int, size: int) -> bytes:
        """Exactly ``size`` bytes from ``offset``."""
        ...


class LocalFile:
    """A file on disk, read with positioned reads (no mapping, nothing read ahead)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.name = self.path.name
        try:
            self.size = self.path.stat().st_size
        except OSError as exc:
            raise LlmarchError(f"cannot read {path}: {exc.strerror}") from None

    def read(self, offset: int, size: int) -> bytes:
        if offset < 0 or size < 0 or offset + size > self.size:
            raise LlmarchError(f"{self.name}: read of {size} bytes at {offset} runs beyond the file "
                               f"({self.size} bytes)")
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            try:
                data = os.pread(fd, size, offset) if hasattr(os, "pread") else _seek_read(fd, offset, size)
            finally:
                os.close(fd)
        except OSError as exc:
            raise LlmarchError(f"cannot read {self.path}: {exc.strerror}") from None
        if len(data) != size:
            raise LlmarchError(f"{self.name}: file shrank while reading ({len(data)} of {size} bytes)")
        return data


def _seek_read(fd: int, offset: int, size: int) -> bytes:
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)
