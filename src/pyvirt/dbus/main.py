"""``pyvirt-dbus`` (also installed as ``libvirt-dbus``): libvirt-dbus's command line.

``--session`` / ``--system`` pick the bus, ``-t/--threads`` the worker threads per connection
object, as libvirt-dbus(8).  The service owns ``org.libvirt`` and exits when it loses the bus
or gets SIGTERM/SIGINT; a second instance finds the name taken and exits with status 1.
"""

from __future__ import annotations

import os
import sys

from pyvirt.dbus import early

TYPE_CHECKING = False  # typing itself is not imported: everything before the name is owned counts
if TYPE_CHECKING:
    import argparse
    from types import ModuleType

#: the words of the command lines read without argparse (an eighth of the start before the name
#: is owned): the bus and verbosity flags, each at most once; anything else goes to argparse
_QUICK_FLAGS = {"--session": "session", "--system": "system", "-v": "verbose", "--verbose": "verbose"}


class Options:
    """The command line's values (argparse fills the same attributes)."""

    def __init__(self) -> None:
        self.system = False
        self.session = False
        self.threads = 4
        self.verbose = False


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


def import_dbus_fast() -> None:
    """dbus-fast, imported with OpenSSL's ``_hashlib`` hidden: ``dbus_fast.introspection`` imports
    ``hashlib`` for one ``sha256`` (a cache key), and ``_hashlib`` maps OpenSSL's libcrypto, the
    only OpenSSL library the service would load (ssl is kept out, above): ~8 M instructions at
    start and ~3 MiB resident.  Without ``_hashlib``, ``hashlib`` answers from CPython's own
    ``_sha256`` (as on a Python built without OpenSSL).  That fallback module is left to
    dbus-fast alone: it is taken out of ``sys.modules`` again, so a later ``import hashlib``
    elsewhere gets the usual one."""
    if "dbus_fast" in sys.modules or "hashlib" in sys.modules or "_hashlib" in sys.modules:
        import dbus_fast  # noqa: F401 - imported for its side effect, loaded once here

        return
    sys.modules["_hashlib"] = None  # type: ignore[assignment]  # ImportError for `import _hashlib`
    try:
        import dbus_fast.aio  # noqa: F401
    finally:
        del sys.modules["_hashlib"]
        sys.modules.pop("hashlib", None)


def _quick_args(argv: list[str]) -> Options | None:
    """The options of a command line made only of the flags in _QUICK_FLAGS, each once and not both
    buses (libvirt-dbus's own usual lines: ``--session``, ``--system``); None for any other, which
    argparse reads (its help, its errors, -t)."""
    opts = Options()
    seen: set[str] = set()
    for word in argv:
        attr = _QUICK_FLAGS.get(word)
        if attr is None or attr in seen:
            return None
        seen.add(attr)
        setattr(opts, attr, True)
    if opts.system and opts.session:
        return None
    return opts


def parse_args(argv: list[str] | None) -> Options | argparse.Namespace:
    words = sys.argv[1:] if argv is None else argv
    args: Options | argparse.Namespace | None = _quick_args(words)
    if args is None:
        args = _parse_with_argparse(words)
    if not args.system and not args.session:
        args.system = os.geteuid() == 0  # libvirt-dbus: root on the system bus, others on the session bus
        args.session = not args.system
    return args


def _parse_with_argparse(argv: list[str]) -> argparse.Namespace:
    import argparse

    parser = argparse.ArgumentParser(prog="pyvirt-dbus", description="D-Bus service exporting the libvirt API "
                                     "(org.libvirt) over pyvirt")
    bus = parser.add_mutually_exclusive_group()
    bus.add_argument("--system", action="store_true", help="Connect to the system bus")
    bus.add_argument("--session", action="store_true", help="Connect to the session bus")
    parser.add_argument("-t", "--threads", type=int, default=4, metavar="NUM",
                        help="Configure maximal number of worker threads (per connection object)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each failing call's details")
    args = parser.parse_args(argv, namespace=argparse.Namespace(**vars(Options())))
    if args.threads < 1:
        parser.error("--threads must be at least 1")
    return args


async def serve(system: bool, threads: int, owned: early.Owned | None) -> int:
    """Serve org.libvirt on the connection `owned` (the name already owned, see pyvirt.dbus.early),
    or, where early could not, on one dbus-fast connects and requests the name on itself."""
    import asyncio
    import signal

    import_dbus_fast()
    from dbus_fast import BusType, RequestNameReply
    from dbus_fast.aio import MessageBus
    from dbus_fast.constants import NameFlag

    from pyvirt.dbus.claim import BUS_NAME, EarlyCalls, adopt

    # descriptors travel both ways: OpenGraphicsFD answers one, the *WithFiles members take some
    if owned is not None:
        bus = MessageBus(bus_address=owned.address, negotiate_unix_fd=True)
        early_calls = EarlyCalls(bus)
        adopt(bus, owned)
    else:
        bus = await MessageBus(bus_type=BusType.SYSTEM if system else BusType.SESSION,
                               negotiate_unix_fd=True).connect()
        early_calls = EarlyCalls(bus)
        reply = await bus.request_name(BUS_NAME, NameFlag.DO_NOT_QUEUE)
        if reply not in (RequestNameReply.PRIMARY_OWNER, RequestNameReply.ALREADY_OWNER):
            _name_taken()
            bus.disconnect()
            return 1
    # the service is loaded once the name is owned: what a waiting client needs first is the
    # name; calls that come meanwhile wait in `early` and are served in order
    from pyvirt.dbus.service import Service, connection_uris

    service = Service(bus, connection_uris(system), threads)
    service.start()
    early_calls.release(service.handle_message)
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


def _name_taken() -> None:
    print(f"pyvirt-dbus: the name {early.BUS_NAME} is owned by another process", file=sys.stderr)


def _cannot_connect(system: bool, exc: OSError) -> int:
    print(f"pyvirt-dbus: cannot connect to the {'system' if system else 'session'} bus: {exc}", file=sys.stderr)
    return 1


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # the name first (pyvirt.dbus.early): asyncio, dbus-fast, logging and the service come after
    try:
        owned = early.own(early.BUS_NAME, args.system)
    except OSError as exc:
        return _cannot_connect(args.system, exc)
    if owned is not None and not owned.owner:
        _name_taken()
        owned.close()
        return 1
    import logging

    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="pyvirt-dbus: %(levelname)s: %(message)s")
    try:
        return import_asyncio().run(serve(args.system, args.threads, owned))
    except OSError as exc:
        return _cannot_connect(args.system, exc)


if __name__ == "__main__":
    sys.exit(main())
