"""A subscription to a daemon that is not there fails as libvirt's clients do: a PyvirtError with
the no-connect code (which callers that resubscribe after a pyvirtd restart already handle), never
a raw OSError escaping from the socket layer."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.client.remote import EventStream, EventStreamClosed


def test_missing_socket(tmp_path: Path) -> None:
    path = tmp_path / "gone.sock"
    with pytest.raises(EventStreamClosed) as info:
        EventStream(str(path), None, 1.0)
    assert isinstance(info.value, PyvirtError) and info.value.code == ErrorCode.NO_CONNECT
    assert str(path) in str(info.value)


def test_socket_nobody_listens_on(tmp_path: Path) -> None:
    path = tmp_path / "dead.sock"
    with socket.socket(socket.AF_UNIX) as s:
        s.bind(str(path))  # bound, never listening: connect is refused
        with pytest.raises(EventStreamClosed) as info:
            EventStream(str(path), None, 1.0)
    assert info.value.code == ErrorCode.NO_CONNECT
