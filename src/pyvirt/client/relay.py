"""A socket pair relayed both ways through a byte stream (a ConsoleStream), by two threads.

Why: some peers need a real descriptor where pyvirt has a stream over its transport.  A
tunnelled migration hands QEMU one end of the pair (``migrate fd:``) while the stream goes to
the destination daemon; pyvirt-dbus's OpenGraphicsFD hands the D-Bus caller one end while the
stream is pyvirtd's graphics connection.  Used by the daemon and by clients, so it lives here.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import Any

from pyvirt.api import PyvirtError


class SocketRelay:
    """`ours` is relayed into `stream`; `peer` is the other end, for whoever needs a descriptor.
    start() closes our copy of `peer` (the receiver holds its own) and starts the threads; when
    either side ends, the other is closed too."""

    CHUNK = 256 << 10

    def __init__(self, stream: Any, name: str = "relay") -> None:
        self.stream = stream
        self.ours, self.peer = socket.socketpair()
        self.threads = [threading.Thread(target=self._up, daemon=True, name=f"{name}-up"),
                        threading.Thread(target=self._down, daemon=True, name=f"{name}-down")]
        self._lock = threading.Lock()
        self._running = len(self.threads)

    def start(self) -> None:
        self.peer.close()
        for thread in self.threads:
            thread.start()

    def _up(self) -> None:
        with contextlib.suppress(OSError, PyvirtError):
            while data := self.ours.recv(self.CHUNK):
                self.stream.write(data)
        with contextlib.suppress(OSError):
            self.stream.close()  # the peer's end closed: the stream's other side sees it end too
        self._done()

    def _down(self) -> None:
        with contextlib.suppress(OSError, PyvirtError):
            while data := self.stream.read(self.CHUNK):
                self.ours.sendall(data)
        with contextlib.suppress(OSError):
            self.ours.shutdown(socket.SHUT_WR)  # the stream ended: the peer reads its end
        self._done()

    def _done(self) -> None:
        """The second thread to end closes our end: a relay nobody closes still lets go of it."""
        with self._lock:
            self._running -= 1
            last = self._running == 0
        if last:
            self.ours.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.ours.shutdown(socket.SHUT_RDWR)
        for thread in self.threads:
            if thread.is_alive() and thread is not threading.current_thread():
                thread.join(10)
        self.ours.close()
        with contextlib.suppress(OSError):
            self.stream.close()
