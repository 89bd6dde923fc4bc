"""Which messages the org.libvirt service answers, where those that come early wait, and the
hand-over of the connection that owns the name to dbus-fast.

Why apart from service.py: pyvirt-dbus owns its bus name before it loads anything else
(pyvirt.dbus.early: before asyncio, dbus-fast and the service), so a client waiting for
``org.libvirt`` is answered sooner; :func:`adopt` gives that connection to dbus-fast.  A call that arrives in between must not get the bus
library's "unknown method": :class:`EarlyCalls` takes it and hands it to the service, in order,
once the service is loaded.  Only what the service itself claims is taken, so the library still
answers the rest (``org.freedesktop.DBus.Peer``, other paths) as it always does.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Callable
from typing import Any

from dbus_fast import Message, MessageType
from dbus_fast._private.unmarshaller import Unmarshaller
from dbus_fast.aio.message_bus import _MessageWriter
from dbus_fast.aio.message_reader import build_message_reader

from pyvirt.dbus.early import BUS_NAME, Owned
from pyvirt.dbus.interfaces import PREFIX
from pyvirt.dbus.paths import ROOT

__all__ = ["BUS_NAME", "EarlyCalls", "adopt", "claims"]
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"
INTROSPECT_IFACE = "org.freedesktop.DBus.Introspectable"


def claims(msg: Message) -> bool:
    """Whether the service answers this message: a method call on /, /org or /org/libvirt and
    below, of no interface, Introspectable, Properties or an org.libvirt one."""
    if msg.message_type != MessageType.METHOD_CALL:
        return False
    path = msg.path or ""
    if not (path in ("/", "/org", ROOT) or path.startswith(ROOT + "/")):
        return False
    return msg.interface in (None, INTROSPECT_IFACE, PROPERTIES_IFACE) or (msg.interface or "").startswith(PREFIX)


class EarlyCalls:
    """Holds the calls the service will answer from the moment it is made until :meth:`release`."""

    def __init__(self, bus: Any) -> None:
        self.bus = bus
        self.calls: list[Message] = []
        bus.add_message_handler(self._hold)

    def _hold(self, msg: Message) -> bool | None:
        if not claims(msg):
            return None
        self.calls.append(msg)
        return True

    def release(self, handler: Callable[[Message], Any]) -> int:
        """Stop holding and give every held call to `handler` (the service's own message handler,
        already added to the bus, so nothing arrives between the two); how many there were."""
        self.bus.remove_message_handler(self._hold)
        calls, self.calls = self.calls, []
        for msg in calls:
            handler(msg)
        return len(calls)


def adopt(bus: Any, owned: Owned) -> None:
    """Make `bus` (a dbus-fast aio MessageBus made but never connected) go on with the connection
    pyvirt.dbus.early opened, as its own ``connect()`` would have left it after Hello: the socket
    non-blocking under the loop's reader, the unique name, the serials used, and the writer.  The
    messages early read besides its two replies are handed to the bus first, in order, so nothing
    the bus sent is lost.  (dbus-fast before 5 connected a socket of its own in ``__init__``: it
    is closed, unauthenticated, before it would be used.)"""
    if bus._sock is not None:
        bus._stream.close()
        bus._sock.close()
    sock = socket.socket(fileno=owned.sock.detach())
    sock.setblocking(False)
    bus._sock = sock
    bus._stream = sock.makefile("rwb")
    bus._fd = sock.fileno()
    bus._serial = owned.serial
    bus.unique_name = owned.unique_name
    bus._writer = _MessageWriter(bus)
    for raw in owned.others:
        message = Unmarshaller(io.BytesIO(raw), None, bus._negotiate_unix_fd).unmarshall()
        if message is not None:
            bus._process_message(message)
    bus._loop.add_reader(bus._fd, build_message_reader(sock, bus._process_message, bus._finalize,
                                                       bus._negotiate_unix_fd))
    bus._writer.schedule_write()
