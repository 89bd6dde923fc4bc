"""Defect 1 of issue 10: the session runtime dir, the daemon's lock file and the client's socket.

Another local user must not be able to pre-create the runtime dir, make the daemon truncate a
file of the victim's through a symlinked lock, or pose as the daemon behind the socket path.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from pyvirt.api import PyvirtError
from pyvirt.client import wire
from pyvirt.daemon.main import _take_lock
from pyvirt.paths import state_paths
from pyvirt.rundir import UnsafeDirError, ensure_private_dir

NOBODY = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")


def test_private_dir_is_created_0700(tmp_path: Path) -> None:
    target = tmp_path / "a" / "pyvirt-0"
    ensure_private_dir(target)
    assert (target.stat().st_mode & 0o777) == 0o700


def test_runtime_dir_open_to_others_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "pyvirt-x"
    target.mkdir()
    target.chmod(0o777)
    with pytest.raises(UnsafeDirError, match="mode 0777"):
        ensure_private_dir(target)


@needs_root
def test_runtime_dir_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "pyvirt-x"
    target.mkdir(mode=0o700)
    os.chown(target, NOBODY, NOBODY)
    with pytest.raises(UnsafeDirError, match=f"owned by uid {NOBODY}"):
        ensure_private_dir(target)


def test_runtime_dir_symlink_is_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (tmp_path / "pyvirt-x").symlink_to(elsewhere)
    with pytest.raises(UnsafeDirError, match="not a directory"):
        ensure_private_dir(tmp_path / "pyvirt-x")


def test_state_paths_ensure_refuses_an_unsafe_runtime_dir(tmp_path: Path) -> None:
    paths = state_paths("qemu:///session", tmp_path)
    paths.runtime.mkdir(parents=True)
    paths.runtime.chmod(0o755)
    with pytest.raises(UnsafeDirError):
        paths.ensure()


def test_lock_file_symlink_does_not_truncate_its_target(tmp_path: Path) -> None:
    paths = state_paths("qemu:///session", tmp_path)
    paths.ensure()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    paths.lock.symlink_to(victim)
    with pytest.raises(SystemExit, match="lock file"):
        _take_lock(paths)
    assert victim.read_text() == "precious"


def _listen_as(uid: int, path: Path) -> int:
    """A child that listens on `path` with `uid`'s credentials (SO_PEERCRED reports the listener)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.setgid(uid)
            os.setuid(uid)
            sock.listen(4)
            time.sleep(30)
        finally:
            os._exit(0)
    sock.close()
    for _ in range(200):  # until the child listens
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
            probe.close()
            break
        except OSError:
            time.sleep(0.01)
    return pid


@needs_root
def test_client_refuses_a_socket_served_by_another_user(tmp_path: Path) -> None:
    path = tmp_path / "pyvirtd.sock"
    pid = _listen_as(NOBODY, path)
    try:
        with pytest.raises(wire.PeerNotTrusted, match=f"uid {NOBODY}"):
            wire.open_unix_fast(str(path), 2.0)
        with pytest.raises(wire.PeerNotTrusted):
            wire.request(str(path), "GET", "/v1/version")
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)


def test_client_accepts_its_own_users_daemon(tmp_path: Path) -> None:
    path = tmp_path / "pyvirtd.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    try:
        wire.open_unix_fast(str(path), 2.0).close()
    finally:
        server.close()


@needs_root
def test_remote_connection_names_the_impostor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pyvirt.client.remote import RemoteConnection

    monkeypatch.setenv("PYVIRT_STATE_ROOT", str(tmp_path))
    paths = state_paths("qemu:///session", tmp_path)
    paths.ensure()
    pid = _listen_as(NOBODY, paths.socket)
    try:
        with pytest.raises(PyvirtError, match="refusing to talk"):
            RemoteConnection("qemu:///session")
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
