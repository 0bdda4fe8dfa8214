"""Writing output text to stdout or to ``-o FILE`` without ever destroying what FILE is.

- A regular file we own (or a new name) is written atomically: a temporary file beside it,
  given the old file's permission bits (a new file: 0666 minus the umask), renamed over it.
- A symlink is written through: the same, at the file it points to (the link stays a link).
- A FIFO, character or block device is opened and written in place, never replaced; a
  Unix socket is connected to and written to.
- A folder, a missing folder, a file we may not write, a full disk or a closed reader is a
  one-line ``LlmarchError`` (exit 2).
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from pathlib import Path

from llmarch_cli.errors import LlmarchError

_REASONS = {errno.ENOSPC: "no space left on device", errno.EDQUOT: "disk quota exceeded",
            errno.EPIPE: "the reader closed the pipe", errno.EACCES: "permission denied",
            errno.EPERM: "permission denied", errno.EROFS: "read-only file system",
            errno.ENOTDIR: "a parent is not a folder",
            errno.EISDIR: "is a directory", errno.ENXIO: "no reader on the other end"}


OUTPUT_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EPIPE})  # the stream, not the program


def reason(exc: OSError) -> str:
    """A short lower-case explanation of an OSError."""
    return _REASONS.get(exc.errno or 0, (exc.strerror or str(exc)).lower())


def write_stdout(text: str) -> None:
    """``text`` on stdout; a full disk or a closed pipe is an LlmarchError."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        silence_stdout()
        raise LlmarchError(f"cannot write to stdout: {reason(exc)}") from None


def silence_stdout() -> None:
    """Point stdout at /dev/null, so that the flush at exit cannot fail a second time."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (a test runner's buffer)
        pass


def write_file(text: str, output: Path) -> None:
    """``text`` (UTF-8) into ``output``, by the rules of this module."""
    real = Path(os.path.realpath(output))  # a symlink's target; the path itself otherwise
    try:
        mode = os.stat(real).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise LlmarchError(f"cannot write {output}: {reason(exc)}") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise LlmarchError(f"cannot write {output}: is a directory")
    if mode is None and not real.parent.is_dir():
        raise LlmarchError(f"cannot write {output}: no folder {str(real.parent)!r}")
    data = text.encode("utf-8")  # fails (a lone surrogate) before anything is touched
    try:
        if mode is not None and stat.S_ISSOCK(mode):
            _send(real, data)
        elif mode is not None and not stat.S_ISREG(mode):
            _write_in_place(real, data)
        elif mode is not None and not _replaceable(real):
            _write_in_place(real, data)
        else:
            _replace(real, data, None if mode is None else stat.S_IMODE(mode))
    except OSError as exc:
        raise LlmarchError(f"cannot write {output}: {reason(exc)}") from None


def _replaceable(path: Path) -> bool:
    """A regular file we own and may write, with no other hard link: safe to rename over."""
    info = os.stat(path)
    if not os.access(path, os.W_OK):
        raise PermissionError(errno.EACCES, "permission denied")
    return info.st_uid == os.geteuid() and info.st_nlink == 1


def _write_in_place(path: Path, data: bytes) -> None:
    """Open what is there (FIFO, device, someone else's file) and write to it."""
    fd = os.open(path, os.O_WRONLY | (os.O_TRUNC if path.is_file() else 0))
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _send(path: Path, data: bytes) -> None:
    """A Unix stream socket: connect and send."""
    import socket

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(path))
        sock.sendall(data)


def _replace(path: Path, data: bytes, mode: int | None) -> None:
    """A temporary file beside ``path`` with ``mode`` (or 0666 minus the umask), renamed over it."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            if mode is None:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.fchmod(fh.fileno(), mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
