"""Just enough HTTP/1.1 and WebSocket over a unix socket, with the standard library only.

`http.client` pulls in `email` and `ssl` (tens of milliseconds); the CLI's hot path cannot pay
that for a request of a few hundred bytes.  A client keeps one connection alive for all its
calls (:class:`HTTPConnection`); every read is bounded (:class:`Reader`: head, body and
WebSocket frame sizes), so a misbehaving peer gets a clear error, not this process's memory.

Import cost is part of every ``pyvirt`` command, so this module loads nothing slow at import:
``socket`` (which loads ``enum`` and ``selectors``), ``json`` (which loads ``re`` and compiles
patterns) and ``urllib.parse`` each cost several ms of CPU.  It uses the C halves they wrap
(``_socket``, ``_json``) directly, with ``json`` as the fallback on interpreters without ``_json``,
and imports ``base64``/``struct`` only when a WebSocket is opened.
"""

from __future__ import annotations

import _socket
import sys
from posix import geteuid, urandom  # not os: see pyvirt.lightos

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from socket import socket as PySocket
    from typing import Any


class WireError(OSError):
    pass


# ---------------------------------------------------------------- JSON through the C accelerator
class _DecodeContext:
    """What ``_json.make_scanner`` reads off a JSONDecoder: json.loads' defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}[name]


_scanner: Any = None
_encoder: Any = None


def loads(data: bytes | str) -> Any:
    """json.loads for the replies pyvirtd sends (UTF-8 JSON); raises ValueError on bad input."""
    global _scanner
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    if _scanner is None:
        try:
            import _json

            _scanner = _json.make_scanner(_DecodeContext())
        except (ImportError, AttributeError):
            import json

            _scanner = json.JSONDecoder().scan_once
    start = len(text) - len(text.lstrip())
    try:
        value, end = _scanner(text, start)
    except StopIteration as exc:
        raise ValueError(f"Expecting value at {exc.value}") from None
    if text[end:].strip():
        raise ValueError(f"Extra data at {end}")
    return value


def dumps(value: Any) -> str:
    """json.dumps(value) with its default separators, ASCII output.  A flat object of plain
    values (what most requests carry: flags, names) is written here, as json.dumps writes it,
    without loading the ``_json`` extension before the request leaves (~0.7M instructions)."""
    global _encoder
    if type(value) is dict:
        flat = _flat_object(value)
        if flat is not None:
            return flat
    if _encoder is None:
        try:
            import _json

            _encoder = _json.make_encoder(None, _no_default, _json.encode_basestring_ascii, None,
                                          ": ", ", ", False, False, True)
        except (ImportError, AttributeError):
            import json

            return json.dumps(value)
    return "".join(_encoder(value, 0))


def _plain_string(text: str) -> bool:
    """Whether json.dumps writes `text` as it is between its quotes (printable ASCII, no quote or
    backslash: nothing to escape)."""
    return text.isascii() and text.isprintable() and '"' not in text and "\\" not in text


def _flat_object(obj: dict[Any, Any]) -> str | None:
    """json.dumps(obj) for an object whose keys and values need no escaping (strings as
    `_plain_string` says, bools, None, ints); None for anything else (the encoder writes it)."""
    parts = []
    for key, val in obj.items():
        kind = type(val)
        if type(key) is not str or not _plain_string(key):
            return None
        if kind is bool:
            text = "true" if val else "false"
        elif val is None:
            text = "null"
        elif kind is int:
            text = str(val)
        elif kind is str and _plain_string(val):
            text = f'"{val}"'
        else:
            return None
        parts.append(f'"{key}": {text}')
    return "{" + ", ".join(parts) + "}"


def _no_default(obj: Any) -> Any:
    raise TypeError(f"Object of type {obj.__class__.__name__} is not JSON serializable")


# ---------------------------------------------------------------- URLs without urllib.parse
_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def quote(value: str) -> str:
    """urllib.parse.quote(value, safe=""): a path segment or query value, percent-encoded."""
    raw = value.encode("utf-8")
    if all(b in _SAFE for b in raw):
        return value
    return "".join(chr(b) if b in _SAFE else f"%{b:02X}" for b in raw)


def urlencode(params: dict[str, Any]) -> str:
    """urllib.parse.urlencode for flat str/int values (spaces become %20, which servers accept)."""
    return "&".join(f"{quote(str(k))}={quote(str(v))}" for k, v in params.items())


# ---------------------------------------------------------------- HTTP over a unix socket
def open_unix(path: str, timeout: float | None = 30.0) -> PySocket:
    """A connected ``socket.socket`` for streams (events, consoles, volume transfers)."""
    import socket

    return _connect(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM), path, timeout)


def open_unix_fast(path: str, timeout: float | None = 30.0) -> _socket.socket:
    """A connected ``_socket.socket``: the C type ``socket.socket`` subclasses, with the methods
    one request needs (sendall, recv, close) but without importing ``socket`` (enum, selectors)."""
    return _connect(_socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM), path, timeout)


class PeerNotTrusted(PermissionError):
    """The socket is served by a process of another user: talking to it could leak what we send."""


_SOL_SOCKET, _SO_PEERCRED = 1, 17  # <sys/socket.h> on Linux


def _check_peer(sock: Any, path: str) -> None:
    """Accept only a daemon running as us or as root (SO_PEERCRED: the listener's credentials).

    A socket path under a world-writable directory could have been bound by another local
    user; the kernel's record of who listens is the one fact that cannot be faked.
    """
    cred = sock.getsockopt(_SOL_SOCKET, _SO_PEERCRED, 12)  # struct ucred: pid, uid, gid
    uid = int.from_bytes(cred[4:8], sys.byteorder)
    if uid not in (0, geteuid()):
        raise PeerNotTrusted(f"{path} is served by a process of uid {uid}, not by this user or root; "
                             "refusing to talk to it")


def _connect(sock: Any, path: str, timeout: float | None) -> Any:
    sock.settimeout(timeout)
    try:
        sock.connect(path)
        _check_peer(sock, path)
    except OSError:
        sock.close()
        raise
    return sock


def dial(endpoint: Any, timeout: float | None, fast: bool = False) -> Any:
    """A connected stream socket to pyvirtd: `endpoint` is a unix socket's path or a transport
    (pyvirt.client.transport: ssh, tls) that opens one; `fast` picks ``_socket`` for a path."""
    if isinstance(endpoint, str):
        return (open_unix_fast if fast else open_unix)(endpoint, timeout)
    return endpoint.open(timeout, fast)


def _request_head(method: str, target: str, extra: dict[str, str], length: int | None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: pyvirtd"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


# ---------------------------------------------------------------- bounded reading
#: what a well-behaved pyvirtd never exceeds; a peer that does is refused, not followed
MAX_HEAD = 64 << 10        # a response head
MAX_BODY = 256 << 20       # a JSON reply (a listing of 100 000 domains is ~25 MiB)
MAX_FRAME = 16 << 20       # one WebSocket frame (console output comes in pieces of a few KiB)


class Reader:
    """Bytes from a socket with a buffer, every read bounded: the peer decides nothing about how
    much memory this process spends."""

    def __init__(self, sock: Any, buffered: bytes = b"") -> None:
        self.sock = sock
        self.buf = bytearray(buffered)

    def _more(self, what: str) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise WireError(f"connection closed by pyvirtd in the middle of {what}")
        self.buf += data

    def head(self) -> tuple[int, dict[str, str]]:
        """A response head: (status, lower-case headers); WireError if it is malformed or too big."""
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            if len(self.buf) > MAX_HEAD:
                raise WireError(f"response head larger than {MAX_HEAD} bytes: not a pyvirtd reply")
            if not self.buf:
                data = self.sock.recv(65536)
                if not data:
                    raise ConnectionClosed("connection closed before the response head")
                self.buf += data
                continue
            self._more("a response head")
        if end > MAX_HEAD:
            raise WireError(f"response head larger than {MAX_HEAD} bytes: not a pyvirtd reply")
        head = bytes(self.buf[:end]).decode("latin-1")
        del self.buf[:end + 4]
        status_line, *lines = head.split("\r\n")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not (parts[1].isdigit() and len(parts[1]) == 3):
            raise WireError(f"malformed status line from pyvirtd: {status_line[:80]!r}")
        headers = {}
        for line in lines:
            name, sep, value = line.partition(":")
            if not sep:
                raise WireError(f"malformed header line from pyvirtd: {line[:80]!r}")
            headers[name.strip().lower()] = value.strip()
        return int(parts[1]), headers

    def exactly(self, n: int, what: str) -> bytes:
        while len(self.buf) < n:
            self._more(what)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def line(self, what: str) -> bytes:
        while True:
            end = self.buf.find(b"\r\n")
            if end >= 0:
                out = bytes(self.buf[:end])
                del self.buf[:end + 2]
                return out
            if len(self.buf) > 1024:
                raise WireError(f"malformed {what}: line too long")
            self._more(what)

    def body(self, headers: dict[str, str], limit: int | None = None) -> bytes:
        """The body the head announces (Content-Length, chunked, or up to EOF), at most `limit`
        bytes (MAX_BODY by default)."""
        limit = MAX_BODY if limit is None else limit
        if headers.get("transfer-encoding", "").lower() == "chunked":
            out = bytearray()
            while True:
                size_text = self.line("chunked body").split(b";")[0].strip()
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise WireError(f"malformed chunk size from pyvirtd: {size_text[:20]!r}") from None
                if size == 0:
                    self.line("chunked body")  # the empty trailer
                    return bytes(out)
                if len(out) + size > limit:
                    raise WireError(f"reply body larger than {limit} bytes: refusing it")
                out += self.exactly(size, "a chunked body")
                self.line("chunked body")
        length_text = headers.get("content-length")
        if length_text is not None:
            if not length_text.isdigit():
                raise WireError(f"malformed Content-Length from pyvirtd: {length_text[:20]!r}")
            length = int(length_text)
            if length > limit:
                raise WireError(f"reply body of {length} bytes is larger than {limit}: refusing it")
            return self.exactly(length, "a reply body")
        while True:  # no length: the body ends with the connection
            data = self.sock.recv(65536)
            if not data:
                out = bytes(self.buf)
                self.buf.clear()
                return out
            self.buf += data
            if len(self.buf) > limit:
                raise WireError(f"reply body larger than {limit} bytes: refusing it")


class ConnectionClosed(WireError):
    """The peer closed before answering at all (a kept-alive connection it had already dropped)."""


def _decode(status: int, body: bytes, path: str) -> Any:
    try:
        return loads(body) if body else None
    except ValueError as exc:
        raise WireError(f"non-JSON response ({status}) from {path}: {body[:200]!r}") from exc


class HTTPConnection:
    """One kept-alive connection to pyvirtd for all of a client's calls.  A call on a reused
    connection that the daemon closed while it was idle (nothing answered) is sent again once
    on a fresh one."""

    def __init__(self, path: Any, timeout: float | None = 300.0) -> None:
        self.path = path  # a unix socket's path or a transport (see dial)
        self.timeout = timeout
        self.sock: Any = None
        self.reader: Reader | None = None

    def request(self, method: str, target: str, payload: Any = None,
                headers: dict[str, str] | None = None, waits: bool = False) -> tuple[int, Any]:
        """One JSON request; (HTTP status, decoded JSON body).  `waits`: the reply comes when a
        long job ends (a p2p migration), so it is awaited without the read timeout."""
        body = b"" if payload is None else dumps(payload).encode()
        extra = {"Accept": "application/json", **(headers or {})}
        if payload is not None:
            extra["Content-Type"] = "application/json"
        data = _request_head(method, target, extra, len(body)) + body
        for attempt in (0, 1):
            reused = self.sock is not None
            if not reused:
                self.sock = dial(self.path, self.timeout, fast=True)
                self.reader = Reader(self.sock)
            assert self.reader is not None
            try:
                self.sock.settimeout(None if waits else self.timeout)
                self.sock.sendall(data)
                status, hdrs = self.reader.head()
                reply = self.reader.body(hdrs)
            except (ConnectionClosed, BrokenPipeError, ConnectionResetError):
                self.close()
                if reused and attempt == 0:
                    continue
                raise
            except BaseException:
                self.close()  # the connection is in an unknown state: never reuse it
                raise
            if hdrs.get("connection", "").lower() == "close" or "content-length" not in hdrs:
                self.close()
            return status, _decode(status, reply, self.path)
        raise WireError("unreachable")

    def adopt(self, sock: Any) -> None:
        """Send the next request on `sock`, already connected (the client's check that pyvirtd
        answers), instead of dialling again: one connection per command, not two. It counts as
        reused, so a close by the daemon before the request is answered by one fresh dial."""
        self.close()
        sock.settimeout(self.timeout)
        self.sock, self.reader = sock, Reader(sock)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        self.sock = self.reader = None


def request(path: Any, method: str, target: str, payload: Any = None,
            timeout: float | None = 300.0) -> tuple[int, Any]:
    """One JSON request on a connection of its own; returns (HTTP status, decoded JSON body)."""
    conn = HTTPConnection(path, timeout)
    try:
        return conn.request(method, target, payload, {"Connection": "close"})
    finally:
        conn.close()


def read_head(sock: Any, buffered: bytes = b"") -> tuple[int, dict[str, str], Reader]:
    """A response head on a stream's socket: (status, headers, the reader holding what followed)."""
    reader = Reader(sock, buffered)
    status, headers = reader.head()
    return status, headers, reader


def read_error(reader: Reader, headers: dict[str, str]) -> Any:
    """A refused stream's error body (JSON), or None if it is not one."""
    try:
        return loads(reader.body(headers, 1 << 20))
    except (ValueError, OSError):
        return None


def _open_get(path: Any, target: str, headers: dict[str, str], want: int,
              timeout: float | None) -> tuple[Any, bytes]:
    """GET a stream (`want`: its success status); the socket and the bytes read past the head.
    A refusal is a WireError carrying the daemon's error object."""
    sock = dial(path, timeout)
    try:
        sock.sendall(_request_head("GET", target, headers, None))
        status, hdrs, reader = read_head(sock)
        if status != want:
            raise WireError(f"HTTP {status}", read_error(reader, hdrs))
    except BaseException:
        sock.close()
        raise
    return sock, bytes(reader.buf)


def open_stream(path: Any, target: str, timeout: float | None) -> tuple[Any, bytes]:
    """GET a streamed response (Server-Sent Events); returns the socket and its buffered bytes."""
    return _open_get(path, target, {"Accept": "text/event-stream", "Connection": "close"}, 200, timeout)


class WebSocket:
    """A client WebSocket (RFC 6455) over an already connected socket: masked frames out."""

    def __init__(self, sock: _socket.socket, buffered: bytes) -> None:
        self.sock = sock
        self.buf = bytearray(buffered)
        self.closed = False

    @classmethod
    def connect(cls, path: Any, target: str, timeout: float | None = 30.0) -> WebSocket:
        import base64

        key = base64.b64encode(urandom(16)).decode()
        sock, buffered = _open_get(path, target, {"Upgrade": "websocket", "Connection": "Upgrade",
                                                  "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"},
                                   101, timeout)
        return cls(sock, buffered)

    def _fill(self, n: int) -> bool:
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                return False
            self.buf += data
        return True

    def recv(self) -> bytes | None:
        """The next data frame's payload; None when the peer closed."""
        import struct

        while not self.closed:
            if not self._fill(2):
                self.closed = True
                return None
            b0, b1 = self.buf[0], self.buf[1]
            opcode, length, pos = b0 & 0x0F, b1 & 0x7F, 2
            if length == 126:
                if not self._fill(4):
                    return None
                length, pos = struct.unpack(">H", self.buf[2:4])[0], 4
            elif length == 127:
                if not self._fill(10):
                    return None
                length, pos = struct.unpack(">Q", self.buf[2:10])[0], 10
            if b1 & 0x80:
                raise WireError("pyvirtd sent a masked WebSocket frame (servers must not mask)")
            if length > MAX_FRAME:
                raise WireError(f"WebSocket frame of {length} bytes is larger than {MAX_FRAME}: refusing it")
            if not self._fill(pos + length):
                self.closed = True
                return None
            payload = bytes(self.buf[pos:pos + length])
            del self.buf[:pos + length]
            if opcode in (0x0, 0x1, 0x2):
                return payload
            if opcode == 0x8:
                self.closed = True
                return None
            if opcode == 0x9:
                self._send(0xA, payload)
        return None

    def _send(self, opcode: int, payload: bytes) -> None:
        import struct

        mask = urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack(">BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            head = struct.pack(">BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack(">BBQ", 0x80 | opcode, 0x80 | 127, n)
        # one big-integer XOR instead of a Python loop per byte (a tunnelled migration sends MiBs)
        key = (mask * (n // 4 + 1))[:n]
        masked = (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(n, "little")
        self.sock.sendall(head + mask + masked)

    def send(self, payload: bytes) -> None:
        self._send(0x2, payload)

    def close(self) -> None:
        if not self.closed:
            try:  # noqa: SIM105 - contextlib is not loaded on this path
                self._send(0x8, b"\x03\xe8")
            except OSError:
                pass
            self.closed = True
        self.sock.close()
