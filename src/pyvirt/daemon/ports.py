"""TCP ports for guests' VNC/SPICE displays (`autoport='yes'`), as libvirt allocates them.

A port is free when nothing is bound to it on the listen address and no running guest of
this daemon holds it; it goes back when the guest stops.  (QEMU binds it moments later, so a
foreign process could still win the race, exactly as with libvirt.)
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

FIRST_PORT, LAST_PORT = 5900, 65535


def _listen_address(g: Any) -> str | None:
    """The TCP address a display listens on, or None for socket/none listens."""
    if g.socket:
        return None
    if g.listens:
        first = g.listens[0]
        if first.type in ("socket", "none"):
            return None
        return first.address or g.listen or "127.0.0.1"
    return g.listen or "127.0.0.1"


def _bindable(address: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with contextlib.closing(socket.socket(family, socket.SOCK_STREAM)) as probe:
        try:
            probe.bind((address, port))
        except OSError:
            return False
    return True


class PortAllocator:
    def __init__(self) -> None:
        self.taken: set[int] = set()

    def assign(self, dom: Any) -> list[int]:
        """Give every auto-port VNC/SPICE display of `dom` a port; returns the ports taken."""
        got: list[int] = []
        for g in dom.devices.graphics:
            if g.type not in ("vnc", "spice"):
                continue
            address = _listen_address(g)
            if address is None:
                continue
            if g.port is not None and g.port >= FIRST_PORT and g.autoport is not True:
                continue  # a fixed port: the user's choice
            port = self._free(address)
            self.taken.add(port)
            got.append(port)
            g.port = port
            if g.autoport is None:
                g.autoport = True
        return got

    def _free(self, address: str) -> int:
        for port in range(FIRST_PORT, LAST_PORT + 1):
            if port not in self.taken and _bindable(address, port):
                return port
        raise PyvirtError("internal error: Unable to find an unused port for the display",
                          ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU)

    def release(self, ports: list[int]) -> None:
        self.taken.difference_update(ports)
