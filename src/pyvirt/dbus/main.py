"""``pyvirt-dbus`` (also installed as ``libvirt-dbus``): libvirt-dbus's command line.

``--session`` / ``--system`` pick the bus, ``-t/--threads`` the worker threads per connection
object, as libvirt-dbus(8).  The service owns ``org.libvirt`` and exits when it loses the bus
or gets SIGTERM/SIGINT; a second instance finds the name taken and exits with status 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from types import ModuleType

log = logging.getLogger("pyvirt.dbus")


def import_asyncio() -> ModuleType:
    """asyncio, imported with ``ssl`` hidden: asyncio imports ssl, and with it OpenSSL's libraries,
    only for TLS transports, which the service never opens (its bus is a unix socket), and that
    import is the largest single cost of the start (~28 M of ~310 M instructions, and mapping
    libcrypto).  asyncio runs without ssl (it imports it in try/except ImportError, as for a
    Python built without OpenSSL); ssl is hidden only for that import, so a later ``import ssl``
    (a TLS connection of the spine's client) loads it as usual."""
    if "asyncio" in sys.modules or "ssl" in sys.modules:
        import asyncio

        return asyncio
    sys.modules["ssl"] = None  # type: ignore[assignment]  # ImportError for `import ssl`
    try:
        import asyncio
    finally:
        del sys.modules["ssl"]
    return asyncio


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="pyvirt-dbus", description="D-Bus service exporting the libvirt API "
                                     "(org.libvirt) over pyvirt")
    bus = parser.add_mutually_exclusive_group()
    bus.add_argument("--system", action="store_true", help="Connect to the system bus")
    bus.add_argument("--session", action="store_true", help="Connect to the session bus")
    parser.add_argument("-t", "--threads", type=int, default=4, metavar="NUM",
                        help="Configure maximal number of worker threads (per connection object)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each failing call's details")
    args = parser.parse_args(argv)
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    if not args.system and not args.session:
        args.system = os.geteuid() == 0  # libvirt-dbus: root on the system bus, others on the session bus
        args.session = not args.system
    return args


async def serve(system: bool, threads: int) -> int:
    import asyncio

    from dbus_fast import BusType, RequestNameReply
    from dbus_fast.aio import MessageBus
    from dbus_fast.constants import NameFlag

    from pyvirt.dbus.claim import BUS_NAME, EarlyCalls

    # descriptors travel both ways: OpenGraphicsFD answers one, the *WithFiles members take some
    bus = await MessageBus(bus_type=BusType.SYSTEM if system else BusType.SESSION,
                           negotiate_unix_fd=True).connect()
    early = EarlyCalls(bus)
    reply = await bus.request_name(BUS_NAME, NameFlag.DO_NOT_QUEUE)
    if reply not in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
        print(f"pyvirt-dbus: the name {BUS_NAME} is owned by another process", file=sys.stderr)
        bus.disconnect()
        return 1
    # the service is loaded once the name is owned: what a waiting client needs first is the
    # name; calls that come meanwhile wait in `early` and are served in order
    from pyvirt.dbus.service import Service, connection_uris

    service = Service(bus, connection_uris(system), threads)
    service.start()
    early.release(service.handle_message)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    disconnected = asyncio.ensure_future(bus.wait_for_disconnect())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait([disconnected, stopping], return_when=asyncio.FIRST_COMPLETED)
    service.close()
    if not disconnected.done():
        bus.disconnect()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="pyvirt-dbus: %(levelname)s: %(message)s")
    try:
        return import_asyncio().run(serve(args.system, args.threads))
    except OSError as exc:
        print(f"pyvirt-dbus: cannot connect to the {'system' if args.system else 'session'} bus: {exc}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
