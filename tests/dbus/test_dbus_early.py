"""pyvirt.dbus.early: the name owned with builtins only, then the socket handed to dbus-fast.

The address parser and the wire format are checked against dbus-fast's own unmarshaller; the
exchange itself against a private dbus-daemon (no service: each test costs a bus, ~10 ms)."""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
from pathlib import Path

import pytest
from dbus_fast import Message, MessageType
from dbus_fast._private.unmarshaller import Unmarshaller
from dbus_fast.aio import MessageBus

from pyvirt.dbus import early
from pyvirt.dbus.claim import EarlyCalls, adopt
from pyvirt.dbus.main import parse_args
from tests.dbus.bus import PrivateBus


def _unmarshall(raw: bytes) -> Message:
    msg = Unmarshaller(io.BytesIO(raw), None, False).unmarshall()
    assert msg is not None
    return msg


def test_unix_targets_of_bus_addresses() -> None:
    assert early.unix_targets("unix:path=/run/user/0/bus,guid=ab12") == ["/run/user/0/bus"]
    assert early.unix_targets("unix:abstract=/tmp/dbus-X;unix:path=/b%2cc%20d") == [b"\0/tmp/dbus-X", "/b,c d"]
    # anything else is left to dbus-fast as a whole: other transports, forms, bad escapes
    for address in ("tcp:host=localhost,port=1", "unix:path=/a;tcp:host=h,port=2", "unix:tmpdir=/tmp",
                    "unix:path=/a%2", "unix:path=/a%zz", "unix:path", ""):
        assert early.unix_targets(address) is None, address


def test_messages_written_are_what_dbus_fast_reads() -> None:
    msg = _unmarshall(early.method_call(7, "RequestName", "su", early.request_name_body("org.libvirt", 4)))
    assert (msg.message_type, msg.serial, msg.path, msg.interface, msg.member, msg.destination) == (
        MessageType.METHOD_CALL, 7, "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
        "org.freedesktop.DBus")
    assert (msg.signature, msg.body) == ("su", ["org.libvirt", 4])
    hello = _unmarshall(early.method_call(1, "Hello"))
    assert (hello.member, hello.signature, hello.body) == ("Hello", "", [])


def test_replies_read_as_dbus_fast_writes_them() -> None:
    reply = Message(message_type=MessageType.METHOD_RETURN, reply_serial=2, destination=":1.9",
                    sender="org.freedesktop.DBus", signature="s", body=[":1.9"])
    parsed = early.Reply(bytes(reply._marshall(False)))
    assert (parsed.type, parsed.reply_serial, parsed.first_string()) == (2, 2, ":1.9")
    error = Message.new_error(Message(serial=5, path="/", member="RequestName"), "org.freedesktop.DBus.Error.AccessDenied",
                              "no")
    parsed = early.Reply(bytes(error._marshall(False)))
    assert (parsed.type, parsed.reply_serial, parsed.error_name) == (3, 5, "org.freedesktop.DBus.Error.AccessDenied")


def test_malformed_header_fields_are_a_bus_error() -> None:
    """A message whose header fields run past their declared length (here a string field leaves
    one byte, so the next field's 8-byte alignment lands on the end of the message) is the bus's
    BusError, which the service reports as a failed connection, never an IndexError traceback."""
    fields = bytes((1, 1, ord("s"), 0)) + (0).to_bytes(4, "little") + b"\0" + b"\0"  # 10 bytes
    raw = b"l\x02\x00\x01" + (0).to_bytes(4, "little") + (1).to_bytes(4, "little") + \
        len(fields).to_bytes(4, "little") + fields + bytes(6)  # padded to 8, as read_message reads it
    with pytest.raises(early.BusError, match="malformed"):
        early.Reply(raw)
    with pytest.raises(early.BusError, match="malformed"):  # a field cut short by the message's end
        early.Reply(raw[:20])


def test_own_on_a_bus_then_adopted_by_dbus_fast(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first connection owns the name, a second is refused (not queued); the first, handed to
    dbus-fast, calls the bus and is sent the call a client made to the name before the hand-over;
    messages early read besides its replies reach the bus's handlers first."""
    bus = PrivateBus(tmp_path)
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", bus.address)
    try:
        first = early.own("org.libvirt.EarlyTest", system=False)
        assert first is not None and first.owner and first.unique_name.startswith(":")
        second = early.own("org.libvirt.EarlyTest", system=False)
        assert second is not None and not second.owner and second.reply == 3  # EXISTS
        second.close()
        stray = early.method_call(9, "Stray")
        first.others.insert(0, stray)

        async def scenario() -> tuple[list[str], str, list[str]]:
            client = await MessageBus(bus_address=bus.address).connect()
            # sent before the hand-over: it waits in the socket
            pending = asyncio.ensure_future(client.call(Message(
                destination="org.libvirt.EarlyTest", path="/org/libvirt/Test", interface="org.libvirt.Connect",
                member="ListDomains", signature="u", body=[0])))
            await asyncio.sleep(0.05)
            adopted = MessageBus(bus_address=first.address, negotiate_unix_fd=True)
            seen: list[str] = []
            adopted.add_message_handler(lambda m: seen.append(m.member) and None)
            calls = EarlyCalls(adopted)
            adopt(adopted, first)
            owner = await adopted.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                               interface="org.freedesktop.DBus", member="GetNameOwner",
                                               signature="s", body=["org.libvirt.EarlyTest"]))
            while not calls.calls:
                await asyncio.sleep(0.01)
            held = [m.member for m in calls.calls]
            calls.release(lambda m: adopted.send(Message.new_method_return(m, "ao", [["/x"]])))
            answer = await asyncio.wait_for(pending, 10)
            assert answer.body == [["/x"]]
            adopted.disconnect()
            client.disconnect()
            return seen, owner.body[0], held

        seen, owner, held = asyncio.run(scenario())
        assert seen[0] == "Stray" and owner == first.unique_name and held == ["ListDomains"]
    finally:
        bus.stop()


def test_own_leaves_other_buses_to_dbus_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", "tcp:host=127.0.0.1,port=9")
    assert early.own("org.libvirt", system=False) is None  # nothing connected, nothing requested
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS")
    assert early.own("org.libvirt", system=False) is None
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=/nonexistent/bus")
    with pytest.raises(FileNotFoundError):
        early.own("org.libvirt", system=True)


def test_command_lines() -> None:
    args = parse_args(["--session"])
    assert (args.session, args.system, args.threads, args.verbose) == (True, False, 4, False)
    args = parse_args(["-v", "--system"])
    assert (args.session, args.system, args.verbose) == (False, True, True)
    assert parse_args(["--session", "-t", "2"]).threads == 2  # argparse's
    for bad in (["--session", "--system"], ["--session", "--session", "--bogus"], ["-t", "0"]):
        with pytest.raises(SystemExit):
            parse_args(bad)


def test_nothing_heavy_before_the_name_is_owned() -> None:
    """Up to the request of the name, the service imports neither asyncio, dbus-fast, argparse,
    logging nor typing (each one a large share of a start that a waiting client pays)."""
    code = ("import sys\n"
            "from pyvirt.dbus import main\n"
            "main.parse_args(['--session'])\n"
            "print(sorted(m for m in ('asyncio', 'dbus_fast', 'argparse', 'logging', 'typing', 'socket', 'enum')"
            " if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
