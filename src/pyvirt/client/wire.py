"""Just enough HTTP/1.1 and WebSocket over a unix socket, with the standard library only.

`http.client` pulls in `email` and `ssl` (tens of milliseconds); the CLI's hot path cannot pay
that for a request of a few hundred bytes.  One request per connection (Connection: close)
keeps the parser trivial: read to EOF, split head from body, de-chunk if needed.

Import cost is part of every ``pyvirt`` command, so this module loads nothing slow at import:
``socket`` (which loads ``enum`` and ``selectors``), ``json`` (which loads ``re`` and compiles
patterns) and ``urllib.parse`` each cost several ms of CPU.  It uses the C halves they wrap
(``_socket``, ``_json``) directly, with ``json`` as the fallback on interpreters without ``_json``,
and imports ``base64``/``struct`` only when a WebSocket is opened.
"""

from __future__ import annotations

import _socket
import os
import sys

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
    """json.dumps(value) with its default separators, ASCII output."""
    global _encoder
    if _encoder is None:
        try:
            import _json

            _encoder = _json.make_encoder(None, _no_default, _json.encode_basestring_ascii, None,
                                          ": ", ", ", False, False, True)
        except (ImportError, AttributeError):
            import json

            return json.dumps(value)
    return "".join(_encoder(value, 0))


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
    if uid not in (0, os.geteuid()):
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


def _request_head(method: str, target: str, extra: dict[str, str], length: int | None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: pyvirtd"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    pos = 0
    while True:
        end = body.index(b"\r\n", pos)
        size = int(body[pos:end].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += body[end + 2:end + 2 + size]
        pos = end + 2 + size + 2


def request(path: str, method: str, target: str, payload: Any = None,
            timeout: float | None = 300.0) -> tuple[int, Any]:
    """One JSON request; returns (HTTP status, decoded JSON body)."""
    body = b"" if payload is None else dumps(payload).encode()
    headers = {"Connection": "close", "Accept": "application/json"}
    if payload is not None:
        headers["Content-Type"] = "application/json"
    sock = open_unix_fast(path, timeout)
    try:
        sock.sendall(_request_head(method, target, headers, len(body)) + body)
        chunks = []
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    finally:
        sock.close()
    raw = b"".join(chunks)
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        raise WireError(f"truncated response from {path}")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    hdrs = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in header_lines)}
    if hdrs.get("transfer-encoding", "").lower() == "chunked":
        rest = _dechunk(rest)
    try:
        return status, loads(rest) if rest else None
    except ValueError as exc:
        raise WireError(f"non-JSON response ({status}) from {path}: {rest[:200]!r}") from exc


def _read_head(sock: _socket.socket) -> tuple[int, bytes]:
    """Read a response head, returning (status, bytes already read past it)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(4096)
        if not data:
            raise WireError("connection closed before the response head")
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    status = int(head.split(b"\r\n", 1)[0].split()[1])
    return status, rest


def _read_error_body(sock: _socket.socket, rest: bytes) -> Any:
    data = rest
    while True:
        more = sock.recv(65536)
        if not more:
            break
        data += more
    try:
        return loads(data)
    except ValueError:
        try:
            return loads(_dechunk(data))
        except (ValueError, IndexError):
            return None


def open_stream(path: str, target: str, timeout: float | None) -> tuple[_socket.socket, bytes]:
    """GET a streamed response (Server-Sent Events); returns the socket and its buffered bytes."""
    sock = open_unix(path, timeout)
    sock.sendall(_request_head("GET", target, {"Accept": "text/event-stream", "Connection": "close"}, None))
    status, rest = _read_head(sock)
    if status != 200:
        body = _read_error_body(sock, rest)
        sock.close()
        raise WireError(f"HTTP {status}", body)
    return sock, rest


class WebSocket:
    """A client WebSocket (RFC 6455) over an already connected socket: masked frames out."""

    def __init__(self, sock: _socket.socket, buffered: bytes) -> None:
        self.sock = sock
        self.buf = bytearray(buffered)
        self.closed = False

    @classmethod
    def connect(cls, path: str, target: str, timeout: float | None = 30.0) -> WebSocket:
        import base64

        sock = open_unix(path, timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(_request_head("GET", target, {"Upgrade": "websocket", "Connection": "Upgrade",
                                                   "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}, None))
        status, rest = _read_head(sock)
        if status != 101:
            body = _read_error_body(sock, rest)
            sock.close()
            raise WireError(f"HTTP {status}", body)
        return cls(sock, rest)

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

        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack(">BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            head = struct.pack(">BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack(">BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
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
