"""``-o`` never replaces what it points at by something of another kind.

A regular file keeps its permission bits; a symlink stays a link and its target gets the
text; a FIFO, a character device and a Unix socket are written in place; a folder, a missing
folder, an unwritable path, a full device and a closed pipe on stdout are one-line exit 2.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from conftest import assert_one_line_error, run

from llmarch_cli.errors import LlmarchError
from llmarch_cli.render import destination

PARAMS = ("params", "gpt2", "-f", "json")


def expected() -> str:
    result = run(*PARAMS)
    assert result.exit_code == 0
    return result.stdout


def test_a_0640_file_is_replaced_and_keeps_0640(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old\n")
    target.chmod(0o640)
    assert run(*PARAMS, "-o", str(target)).exit_code == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert json.loads(target.read_text())["model"] == "gpt2"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_a_new_file_gets_0666_minus_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        assert run(*PARAMS, "-o", str(tmp_path / "new.json")).exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o640


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old\n")
    real.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(real.name)
    assert run(*PARAMS, "-o", str(link)).exit_code == 0
    assert link.is_symlink() and os.readlink(link) == "real.json"
    assert real.read_text() == expected()
    assert stat.S_IMODE(real.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.json", "real.json"]


def test_a_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "link.json"
    link.symlink_to("made.json")
    assert run(*PARAMS, "-o", str(link)).exit_code == 0
    assert link.is_symlink() and (tmp_path / "made.json").read_text() == expected()


def test_a_fifo_is_written_in_place_to_its_reader(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    result = subprocess.run([sys.executable, "-m", "llmarch_cli", *PARAMS, "-o", str(fifo)],
                            capture_output=True, text=True, timeout=120)
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert received == [expected().encode()]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_unix_socket_is_sent_the_text_and_stays_a_socket(tmp_path):
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    received: list[bytes] = []

    def serve():
        conn, _ = server.accept()
        with conn:
            chunks = iter(lambda: conn.recv(65536), b"")
            received.append(b"".join(chunks))

    reader = threading.Thread(target=serve)
    reader.start()
    try:
        assert run(*PARAMS, "-o", str(path)).exit_code == 0
        reader.join(timeout=60)
    finally:
        server.close()
    assert received == [expected().encode()]
    assert stat.S_ISSOCK(path.lstat().st_mode)


def test_dev_full_is_a_no_space_error_and_stays_a_character_device():
    full = Path("/dev/full")
    if not full.exists() or not stat.S_ISCHR(full.stat().st_mode):
        pytest.skip("no /dev/full here")
    before = full.stat()
    assert_one_line_error(run("list", "-o", str(full)), "no space left on device")
    after = full.stat()
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


def test_dev_null_is_written_and_stays_a_character_device():
    assert run(*PARAMS, "-o", os.devnull).exit_code == 0
    assert stat.S_ISCHR(Path(os.devnull).stat().st_mode)


@pytest.mark.parametrize("args", [["list", "-f", "tsv"], ["--help"], ["--version"],
                                  ["spec", "validate", str(Path(__file__).parent / "data" / "tiny-gqa.json")]])
def test_a_full_disk_on_stdout_is_one_line_exit_2(args):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full here")
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "llmarch_cli", *args],
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr == "llmarch: error: cannot write to stdout: no space left on device\n"


def test_a_closed_pipe_on_stdout_is_one_line_exit_2():
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    result = subprocess.run([sys.executable, "-m", "llmarch_cli", "show", "gpt2", "--json"],
                            stdout=write_end, stderr=subprocess.PIPE, text=True, timeout=120)
    os.close(write_end)
    assert result.returncode == 2
    assert result.stderr == "llmarch: error: cannot write to stdout: the reader closed the pipe\n"


def test_an_unwritable_folder_is_one_line_exit_2(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as root: permissions are not enforced")
        assert_one_line_error(run(*PARAMS, "-o", str(locked / "out.json")), "permission denied")
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)


def test_a_read_only_file_is_refused_not_replaced(tmp_path):
    target = tmp_path / "ro.json"
    target.write_text("keep\n")
    target.chmod(0o444)
    if os.access(target, os.W_OK):
        pytest.skip("running as root: permissions are not enforced")
    assert_one_line_error(run(*PARAMS, "-o", str(target)), "permission denied")
    assert target.read_text() == "keep\n"


def test_a_path_through_a_file_is_one_line_exit_2(tmp_path):
    (tmp_path / "file").write_text("")
    assert_one_line_error(run(*PARAMS, "-o", str(tmp_path / "file" / "out.json")))


def test_write_file_never_renames_over_a_fifo(tmp_path, monkeypatch):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = threading.Thread(target=fifo.read_bytes)
    reader.start()

    def no_rename(src, dst):
        raise AssertionError("renamed over a FIFO")

    monkeypatch.setattr(destination.os, "replace", no_rename)
    destination.write_file("x\n", fifo)
    reader.join(timeout=60)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_write_file_refuses_a_folder(tmp_path):
    with pytest.raises(LlmarchError, match="is a directory"):
        destination.write_file("x\n", tmp_path)


def test_a_hard_linked_file_is_written_in_place_so_both_names_see_it(tmp_path):
    first = tmp_path / "a.json"
    first.write_text("old\n")
    second = tmp_path / "b.json"
    os.link(first, second)
    assert run(*PARAMS, "-o", str(first)).exit_code == 0
    assert second.read_text() == first.read_text() == expected()
    assert first.stat().st_ino == second.stat().st_ino


def test_someone_elses_file_is_written_in_place_and_keeps_its_owner(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user")
    target = tmp_path / "theirs.json"
    target.write_text("old\n")
    os.chown(target, 65534, 65534)
    inode = target.stat().st_ino
    assert run(*PARAMS, "-o", str(target)).exit_code == 0
    info = target.stat()
    assert (info.st_uid, info.st_gid, info.st_ino) == (65534, 65534, inode)
    assert target.read_text() == expected()
