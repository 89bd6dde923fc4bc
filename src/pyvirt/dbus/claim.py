"""Which messages the org.libvirt service answers, and where those that come early wait.

Why apart from service.py: pyvirt-dbus owns its bus name before it loads the service (the
dispatcher, the member table and the spine's client, a fifth of its start), so a client waiting
for ``org.libvirt`` is answered sooner.  A call that arrives in between must not get the bus
library's "unknown method": :class:`EarlyCalls` takes it and hands it to the service, in order,
once the service is loaded.  Only what the service itself claims is taken, so the library still
answers the rest (``org.freedesktop.DBus.Peer``, other paths) as it always does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dbus_fast import Message, MessageType

from pyvirt.dbus.interfaces import PREFIX
from pyvirt.dbus.paths import ROOT

BUS_NAME = "org.libvirt"
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
