"""Own ``org.libvirt`` on the bus with nothing but the interpreter's builtins, before asyncio and
dbus-fast are imported.

Why: a client that starts the service waits for the name to be owned (libvirt-dbus's own test
harness gives it one second; Cockpit's bridge and systemd's D-Bus activation wait too).  Importing
asyncio and dbus-fast is ~220 M instructions, three quarters of pyvirt-dbus's start, so a name
requested only after them came 0.1 s after exec on a quiet host and 1-2 s on a loaded one.  Here
the process connects to the bus's unix socket, authenticates (EXTERNAL, with unix descriptor
passing, as dbus-fast does), sends ``Hello`` and ``RequestName`` and reads their two replies: a
few hundred microseconds of work, with ``_socket`` (a C module) as the only import.  The socket is
then handed to dbus-fast (:func:`pyvirt.dbus.claim.adopt`), which goes on from there as after its
own ``connect()``; calls that arrive meanwhile stay in the socket until the service reads them.

Only what this module can do fully is done here: a bus address other than ``unix:path=`` /
``unix:abstract=``, or an authentication the bus answers otherwise than expected, gives ``None``
before anything is requested, and dbus-fast's own ``connect()`` takes over as before.
"""

from __future__ import annotations

import _socket
import os

BUS_NAME = "org.libvirt"
#: RequestName's flag DBUS_NAME_FLAG_DO_NOT_QUEUE: a second instance is refused, never queued
DO_NOT_QUEUE = 4
#: RequestName's answers that make this connection the owner (PRIMARY_OWNER, ALREADY_OWNER)
OWNER_REPLIES = (1, 4)
#: dbus-fast's default for the system bus when DBUS_SYSTEM_BUS_ADDRESS is not set
SYSTEM_BUS_DEFAULT = "unix:path=/var/run/dbus/system_bus_socket"
#: seconds the whole exchange may take (sd-bus's and dbus-fast's method call timeout is 25 s)
TIMEOUT = 25.0
_HELLO_SERIAL, _REQUEST_SERIAL = 1, 2
_METHOD_CALL, _METHOD_RETURN, _ERROR = 1, 2, 3
_MAX_MESSAGE = 1 << 27  # the protocol's maximum message length


class BusError(OSError):
    """The bus answered Hello or RequestName with an error, or with something that is not D-Bus."""


class Owned:
    """A connection that asked the bus for a name: the socket (blocking, authenticated, Hello
    done), the unique name, RequestName's answer, and the messages the bus sent besides the two
    replies (signals such as NameAcquired, in the order they came), each one whole and unparsed."""

    def __init__(self, sock: _socket.socket, address: str, unique_name: str, reply: int,
                 others: list[bytes]) -> None:
        self.sock = sock
        self.address = address
        self.unique_name = unique_name
        self.reply = reply
        self.others = others
        self.serial = _REQUEST_SERIAL  # the last serial used on this connection

    @property
    def owner(self) -> bool:
        return self.reply in OWNER_REPLIES

    def close(self) -> None:
        self.sock.close()


def bus_address(system: bool) -> str | None:
    """The address dbus-fast would use for the system or session bus; None when the session bus has
    none in the environment (dbus-fast then looks further, e.g. X11's autolaunch)."""
    if system:
        return os.environ.get("DBUS_SYSTEM_BUS_ADDRESS") or SYSTEM_BUS_DEFAULT
    return os.environ.get("DBUS_SESSION_BUS_ADDRESS") or None


def _unescape(value: str) -> str | None:
    """A D-Bus address value with its %XX escapes decoded (None if one is malformed)."""
    if "%" not in value:
        return value
    raw, i = bytearray(), 0
    while i < len(value):
        if value[i] == "%":
            digits = value[i + 1:i + 3]
            if len(digits) != 2 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                return None
            raw.append(int(digits, 16))
            i += 3
        else:
            raw += value[i].encode()
            i += 1
    return raw.decode(errors="surrogateescape")


def unix_targets(address: str) -> list[str | bytes] | None:
    """The sockets of a bus address, to try in order (a path, or bytes for an abstract name); None
    when any entry is another transport or form, which is left to dbus-fast as a whole."""
    targets: list[str | bytes] = []
    for entry in address.split(";"):
        if not entry:
            continue
        transport, _, rest = entry.partition(":")
        if transport != "unix":
            return None
        options: dict[str, str] = {}
        for option in rest.split(","):
            key, sep, value = option.partition("=")
            decoded = _unescape(value)
            if not sep or decoded is None:
                return None
            options[key] = decoded
        if "path" in options:
            targets.append(options["path"])
        elif "abstract" in options:
            targets.append(b"\0" + options["abstract"].encode())
        else:
            return None
    return targets or None


def _pad(n: int, align: int) -> int:
    return -n % align


def _string(value: str) -> bytes:
    data = value.encode()
    return len(data).to_bytes(4, "little") + data + b"\0"


def method_call(serial: int, member: str, signature: str = "", body: bytes = b"") -> bytes:
    """A little-endian method call to the bus itself (org.freedesktop.DBus on its own path)."""
    fields = bytearray()
    for code, sig, value in ((1, "o", "/org/freedesktop/DBus"), (2, "s", "org.freedesktop.DBus"),
                             (3, "s", member), (6, "s", "org.freedesktop.DBus")) + (
                                ((8, "g", signature),) if signature else ()):
        fields += bytes(_pad(len(fields), 8))  # each field is a struct: 8-aligned
        fields += bytes((code, 1, ord(sig), 0))  # the code, then the variant's signature
        fields += _string(value) if sig != "g" else bytes((len(value),)) + value.encode() + b"\0"
    head = b"l" + bytes((_METHOD_CALL, 0, 1)) + len(body).to_bytes(4, "little") + serial.to_bytes(4, "little")
    head += len(fields).to_bytes(4, "little") + fields
    return head + bytes(_pad(len(head), 8)) + body


def request_name_body(name: str, flags: int) -> bytes:
    data = _string(name)
    return data + bytes(_pad(len(data), 4)) + flags.to_bytes(4, "little")


class Reply:
    """What this module reads of a message: its type, reply serial, error name, and body."""

    def __init__(self, raw: bytes) -> None:
        try:
            self._parse(raw)
        except IndexError:  # a field that runs past the message: not what a bus sends
            raise BusError("the bus sent a malformed message header") from None

    def _parse(self, raw: bytes) -> None:
        order = "little" if raw[0:1] == b"l" else "big"
        self.order = order
        self.type = raw[1]
        fields_len = int.from_bytes(raw[12:16], order)  # type: ignore[arg-type]
        self.reply_serial = 0
        self.error_name = ""
        pos, end = 16, 16 + fields_len
        if len(raw) < end:
            raise IndexError(end)
        while pos < end:
            pos += _pad(pos, 8)
            if pos + 4 > end:  # each field is at least code, signature length, type, NUL
                raise IndexError(pos)
            code, sig_len = raw[pos], raw[pos + 1]
            sig = raw[pos + 2:pos + 2 + sig_len]
            pos += 3 + sig_len
            if sig in (b"s", b"o"):
                pos += _pad(pos, 4)
                size = int.from_bytes(raw[pos:pos + 4], order)  # type: ignore[arg-type]
                value: object = raw[pos + 4:pos + 4 + size].decode(errors="replace")
                pos += 5 + size
            elif sig == b"g":
                size = raw[pos]
                value = raw[pos + 1:pos + 1 + size].decode(errors="replace")
                pos += 2 + size
            elif sig == b"u":
                pos += _pad(pos, 4)
                value = int.from_bytes(raw[pos:pos + 4], order)  # type: ignore[arg-type]
                pos += 4
            else:
                raise BusError(f"the bus sent a header field of type {sig!r}")
            if code == 5:
                self.reply_serial = value  # type: ignore[assignment]
            elif code == 4:
                self.error_name = value  # type: ignore[assignment]
        self.body = raw[end + _pad(end, 8):]

    def first_string(self) -> str:
        size = int.from_bytes(self.body[0:4], self.order)  # type: ignore[arg-type]
        return self.body[4:4 + size].decode(errors="replace")

    def first_uint32(self) -> int:
        return int.from_bytes(self.body[0:4], self.order)  # type: ignore[arg-type]


def _read_exactly(sock: _socket.socket, size: int) -> bytes:
    buf = bytearray(size)
    view, got = memoryview(buf), 0
    while got < size:
        n = sock.recv_into(view[got:], size - got)
        if not n:
            raise BusError("the bus closed the connection")
        got += n
    return bytes(buf)


def read_message(sock: _socket.socket) -> bytes:
    """One whole message, and not a byte more: what follows stays in the socket for dbus-fast."""
    head = _read_exactly(sock, 16)
    if head[0:1] not in (b"l", b"B") or head[3] != 1:
        raise BusError("the bus sent something that is not a D-Bus message")
    order = "little" if head[0:1] == b"l" else "big"
    body_len = int.from_bytes(head[4:8], order)  # type: ignore[arg-type]
    fields_len = int.from_bytes(head[12:16], order)  # type: ignore[arg-type]
    rest = fields_len + _pad(16 + fields_len, 8) + body_len
    if rest > _MAX_MESSAGE:
        raise BusError("the bus sent a message longer than the protocol allows")
    return head + _read_exactly(sock, rest)


def _line(sock: _socket.socket) -> bytes:
    """One line of the authentication (the bus says nothing until asked, so a line never runs on)."""
    data = b""
    while not data.endswith(b"\r\n"):
        chunk = sock.recv(512)
        if not chunk:
            raise BusError("the bus closed the connection during authentication")
        data += chunk
        if len(data) > 16384:
            raise BusError("the bus sent an authentication line too long")
    return data


def _connect(targets: list[str | bytes]) -> _socket.socket:
    error: OSError | None = None
    for target in targets:
        sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        sock.settimeout(TIMEOUT)
        try:
            sock.connect(target)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    assert error is not None
    raise error


def _authenticate(sock: _socket.socket) -> bool:
    """EXTERNAL with this process's uid, then unix descriptor passing (the service both answers and
    takes descriptors); False when the bus answers either otherwise than expected."""
    sock.sendall(b"\0AUTH EXTERNAL " + str(os.geteuid()).encode().hex().encode() + b"\r\n")
    if not _line(sock).startswith(b"OK "):
        return False
    sock.sendall(b"NEGOTIATE_UNIX_FD\r\n")
    return _line(sock).startswith(b"AGREE_UNIX_FD")


def own(name: str, system: bool, flags: int = DO_NOT_QUEUE) -> Owned | None:
    """Connect to the bus, say Hello and request `name`; the connection and the bus's answer, or
    None (nothing requested, the connection closed) when the address or the authentication is
    not one this module handles.  OSError: no bus to connect to, or the bus failed the exchange."""
    address = bus_address(system)
    targets = unix_targets(address) if address else None
    if not targets:
        return None
    assert address is not None
    sock = _connect(targets)
    try:
        if not _authenticate(sock):
            sock.close()
            return None
        # BEGIN, Hello and RequestName in one write: the bus handles them in order
        sock.sendall(b"BEGIN\r\n" + method_call(_HELLO_SERIAL, "Hello")
                     + method_call(_REQUEST_SERIAL, "RequestName", "su", request_name_body(name, flags)))
        unique_name, reply, others = "", None, []
        while reply is None:
            raw = read_message(sock)
            msg = Reply(raw)
            if msg.type in (_METHOD_RETURN, _ERROR) and msg.reply_serial in (_HELLO_SERIAL, _REQUEST_SERIAL):
                if msg.type == _ERROR:
                    what = "Hello" if msg.reply_serial == _HELLO_SERIAL else f"RequestName({name})"
                    raise BusError(f"the bus refused {what}: {msg.error_name}")
                if msg.reply_serial == _HELLO_SERIAL:
                    unique_name = msg.first_string()
                else:
                    reply = msg.first_uint32()
            else:
                others.append(raw)
        if not unique_name:
            raise BusError("the bus answered RequestName before Hello")
    except BaseException:
        sock.close()
        raise
    return Owned(sock, address, unique_name, reply, others)
