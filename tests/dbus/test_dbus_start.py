"""pyvirt-dbus's start: the name is owned before the service loads, calls arriving meanwhile wait
(pyvirt.dbus.claim), and asyncio comes without ssl (pyvirt.dbus.main.import_asyncio).  No bus."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from dbus_fast import Message, MessageType

from pyvirt.dbus.claim import EarlyCalls, claims


def _call(path: str, interface: str | None, member: str = "M") -> Message:
    return Message(destination="org.libvirt", path=path, interface=interface, member=member)


def test_claims_what_the_service_answers_and_nothing_else() -> None:
    for path, iface in [("/org/libvirt/Test", "org.libvirt.Connect"), ("/org/libvirt/Test/domain/_x", None),
                        ("/", "org.freedesktop.DBus.Introspectable"), ("/org", None),
                        ("/org/libvirt", "org.freedesktop.DBus.Properties")]:
        assert claims(_call(path, iface)), (path, iface)
    for path, iface in [("/org/libvirt/Test", "org.freedesktop.DBus.Peer"), ("/org/libvirtx", None),
                        ("/com/example", "org.libvirt.Connect"), ("/org/libvirt/Test", "org.libvirtx.Connect")]:
        assert not claims(_call(path, iface)), (path, iface)
    signal = Message.new_signal("/org/libvirt/Test", "org.libvirt.Connect", "DomainEvent")
    assert signal.message_type == MessageType.SIGNAL and not claims(signal)


class _FakeBus:
    def __init__(self) -> None:
        self.handlers: list[Any] = []

    def add_message_handler(self, handler: Any) -> None:
        self.handlers.append(handler)

    def remove_message_handler(self, handler: Any) -> None:
        self.handlers.remove(handler)

    def deliver(self, msg: Message) -> Any:
        """What dbus-fast does with a message: the first handler that claims it."""
        return next((result for handler in list(self.handlers) if (result := handler(msg))), None)


def test_early_calls_wait_and_are_served_in_order_once_released() -> None:
    bus = _FakeBus()
    early = EarlyCalls(bus)
    first, peer, second = (_call("/org/libvirt/Test", "org.libvirt.Connect", "A"),
                           _call("/org/libvirt/Test", "org.freedesktop.DBus.Peer", "Ping"),
                           _call("/org/libvirt/Test/domain/_x", None, "B"))
    assert bus.deliver(first) is True
    assert bus.deliver(peer) is None  # left to the library's own answer
    assert bus.deliver(second) is True
    served: list[str] = []

    def service(msg: Message) -> bool:
        served.append(msg.member)
        return True

    bus.add_message_handler(service)  # as main: the service's handler first, then the release
    assert early.release(service) == 2
    assert served == ["A", "B"]
    assert bus.handlers == [service]  # nothing held any more: later calls go straight to it
    bus.deliver(_call("/org/libvirt/Test", None, "C"))
    assert served == ["A", "B", "C"] and early.calls == []


def test_main_owns_the_name_before_loading_the_service_and_asyncio_has_no_ssl() -> None:
    """Importing the entry point loads neither the service nor ssl; asyncio still runs, and a later
    ``import ssl`` (a TLS client of the spine) still works."""
    code = ("import sys\n"
            "from pyvirt.dbus import main\n"
            "asyncio = main.import_asyncio()\n"
            "print(sorted(m for m in ('ssl', 'pyvirt.dbus.service', 'pyvirt.dbus.members') if m in sys.modules))\n"
            "print(asyncio.run(asyncio.sleep(0, 'ran')))\n"
            "import ssl\n"
            "print(bool(ssl.OPENSSL_VERSION))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:3] == ["[]", "ran", "True"]


def test_dbus_fast_comes_without_openssl_and_hashlib_still_works() -> None:
    """dbus-fast loads without ``_hashlib`` (OpenSSL's libcrypto); its introspection cache key
    still hashes, and a later ``import hashlib`` elsewhere is the usual one, OpenSSL's."""
    code = ("import sys\n"
            "from pyvirt.dbus import main\n"
            "main.import_asyncio()\n"
            "main.import_dbus_fast()\n"
            "print(sorted(m for m in ('_hashlib', 'hashlib', 'ssl') if m in sys.modules))\n"
            "from dbus_fast.introspection import Node\n"
            "xml = '<node><interface name=\"a.b\"><method name=\"M\"/></interface></node>'\n"
            "print(Node.parse(xml).interfaces[0].methods[0].name)\n"
            "import hashlib\n"
            "print(hashlib.sha256.__name__, '_hashlib' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:3] == ["[]", "M", "openssl_sha256 True"]
