"""Where a connection URI leads and how to open a byte stream there: the one place URIs are parsed.

libvirt's remote URIs are ``driver[+transport]://[user@][host][:port]/path[?param=value&...]``:

* ``qemu:///system``, ``qemu+unix:///system?socket=PATH``: pyvirtd's unix socket on this host;
* ``qemu+ssh://[user@]host[:port]/system``: the system ``ssh`` command runs ``pyvirt-ssh-helper``
  on the remote host (libvirt runs ``virt-ssh-helper`` the same way), which joins its stdin and
  stdout to the remote pyvirtd's unix socket; pyvirtd's HTTP protocol then travels through ssh;
* ``qemu+tls://host[:port]/system`` (and ``qemu://host/system``, whose default transport is TLS
  as in libvirt): a TCP connection to pyvirtd's optional TLS listener, with a client certificate.

Every stream (HTTP calls, events, consoles, the client session, volume transfers) asks its
transport for a fresh connected socket (:meth:`open`), so the rest of the client never knows
which transport it rides.  A URI parameter this module does not know is refused, never dropped.

Standard library only and cheap to import: the plain local case is on every command's hot path;
``subprocess``, ``socket`` and ``ssl`` load only when a remote transport is used.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

    from pyvirt.api import PyvirtError

TLS_PORT = 16514  # libvirtd's listen_tls port
#: parameters each transport understands (libvirt's names; pyvirt adds none)
PARAMS = {
    "unix": {"socket", "mode"},
    "ssh": {"socket", "keyfile", "no_verify", "no_tty", "command", "known_hosts", "netcat", "proxy"},
    "tls": {"pkipath", "no_verify", "tls_priority"},
}
HELPER = "pyvirt-ssh-helper"


def uri_error(uri: str, message: str) -> PyvirtError:
    from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError  # only a refused URI loads it

    return PyvirtError(f"invalid connection URI '{uri}': {message}", ErrorCode.INVALID_ARG, ErrorDomain.NONE)


def unquote(text: str) -> str:
    """Percent-decoding (urllib.parse.unquote without importing it).  '+' stays a '+', as
    libvirt's URI parser keeps it (a key file's path may hold one)."""
    if "%" not in text:
        return text
    raw = bytearray()
    i = 0
    data = text.encode("utf-8")
    while i < len(data):
        if data[i] == 0x25 and _is_hex(data[i + 1:i + 3]):
            raw.append(int(data[i + 1:i + 3], 16))
            i += 3
        else:
            raw.append(data[i])
            i += 1
    return raw.decode("utf-8", "replace")


def _is_hex(pair: bytes) -> bool:
    return len(pair) == 2 and all(c in b"0123456789abcdefABCDEF" for c in pair)


class ParsedURI:
    """A connection URI's parts.  `local_uri` is what the serving pyvirtd calls itself
    (``qemu:///system`` or ``qemu:///session``)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        scheme, sep, rest = uri.partition("://")
        if not sep:
            raise uri_error(uri, "expected driver[+transport]://[user@][host][:port]/path")
        driver, _, transport = scheme.partition("+")
        if driver != "qemu":
            raise uri_error(uri, f"unsupported driver '{driver}' (pyvirtd serves qemu:// URIs)")
        rest, _, query = rest.partition("?")
        authority, slash, path = rest.partition("/")
        self.path = "/" + path if slash else ""
        userinfo, at, hostport = authority.rpartition("@")
        self.user = unquote(userinfo) if at else None
        self.host, self.port = _split_host(uri, hostport)
        self.transport = transport or ("tls" if self.host else "unix")
        if self.transport not in PARAMS:
            raise uri_error(uri, f"unsupported transport '{self.transport}' (pyvirt knows unix, ssh and tls)")
        if self.path.rstrip("/") not in ("/system", "/session"):
            raise uri_error(uri, f"unsupported path '{self.path or '/'}': expected /system or /session")
        self.kind = self.path.strip("/")
        self.local_uri = f"qemu:///{self.kind}"
        self.params: dict[str, str] = {}
        for item in query.split("&") if query else ():
            name, _, value = item.partition("=")
            name = unquote(name)
            if name not in PARAMS[self.transport]:
                known = ", ".join(sorted(PARAMS[self.transport]))
                raise uri_error(uri, f"unsupported parameter '{name}' for the {self.transport} transport "
                                     f"(supported: {known})")
            self.params[name] = unquote(value)
        if self.transport == "unix" and (self.host or self.user or self.port):
            raise uri_error(uri, "the unix transport takes no host, user or port")
        if self.transport in ("ssh", "tls") and not self.host:
            raise uri_error(uri, f"the {self.transport} transport needs a host")

    def flag(self, name: str) -> bool:
        """A libvirt boolean parameter: present with a non-zero value."""
        value = self.params.get(name)
        return value is not None and value not in ("", "0")

    def transport_object(self) -> Transport:
        if self.transport == "ssh":
            return SSHTransport(self)
        if self.transport == "tls":
            from pyvirt.client.tls import TLSTransport

            return TLSTransport(self)
        from pyvirt.rundir import socket_path

        return UnixTransport(self.params.get("socket") or socket_path(self.local_uri))


def _split_host(uri: str, hostport: str) -> tuple[str | None, int | None]:
    if hostport.startswith("["):  # [IPv6]:port
        host, _, after = hostport[1:].partition("]")
        port_text = after[1:] if after.startswith(":") else ""
    else:
        host, _, port_text = hostport.partition(":")
    port = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise uri_error(uri, f"invalid port '{port_text}'")
        port = int(port_text)
    return (unquote(host) or None), port


class Transport:
    """Opens connected stream sockets to one pyvirtd.  `local`: a unix socket on this host (the
    client may start a session daemon there and check who serves it)."""

    local = False

    def open(self, timeout: float | None, fast: bool = False) -> Any:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return self.describe()

    def diagnostics(self) -> str:
        """What the transport's helper said (ssh's complaints), to add to an error."""
        return ""

    def close(self) -> None:
        """Release what open() started (helper processes)."""


class UnixTransport(Transport):
    local = True

    def __init__(self, path: str) -> None:
        self.path = path

    def open(self, timeout: float | None, fast: bool = False) -> Any:
        from pyvirt.client import wire

        return (wire.open_unix_fast if fast else wire.open_unix)(self.path, timeout)

    def describe(self) -> str:
        return self.path


class SSHTransport(Transport):
    """One ``ssh`` process per stream, its stdin and stdout one end of a socketpair: the socket
    the caller gets behaves as a connected stream to the remote pyvirtd."""

    def __init__(self, uri: ParsedURI) -> None:
        self.uri = uri
        self.procs: list[Any] = []
        self._stderr: list[Any] = []

    def argv(self) -> list[str]:
        """The ssh command line, as libvirt builds it from the same parameters."""
        import shlex

        p = self.uri.params
        if p.get("proxy", "native") not in ("native", "auto"):
            raise uri_error(self.uri.uri, f"proxy={p['proxy']} is not supported: the remote side runs "
                                          f"{HELPER} (proxy=native)")
        cmd = [p.get("command") or "ssh"]
        if self.uri.port:
            cmd += ["-p", str(self.uri.port)]
        if self.uri.user:
            cmd += ["-l", self.uri.user]
        if p.get("keyfile"):
            cmd += ["-i", p["keyfile"]]
        cmd += ["-T", "-e", "none", "-o", "ForwardX11=no", "-o", "ForwardAgent=no"]
        if self.uri.flag("no_tty"):
            cmd += ["-o", "BatchMode=yes"]
        if self.uri.flag("no_verify"):
            cmd += ["-o", "StrictHostKeyChecking=no"]
        if p.get("known_hosts"):
            cmd += ["-o", f"UserKnownHostsFile={p['known_hosts']}"]
        remote = [p.get("netcat") or HELPER]
        if p.get("socket"):
            remote += ["--socket", p["socket"]]
        remote.append(self.uri.local_uri)
        assert self.uri.host is not None
        return [*cmd, "--", self.uri.host, " ".join(shlex.quote(a) for a in remote)]

    def open(self, timeout: float | None, fast: bool = False) -> Any:
        import socket
        import subprocess
        import tempfile

        argv = self.argv()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        err = tempfile.TemporaryFile()  # noqa: SIM115 - read by diagnostics(), closed by close()
        try:
            proc = subprocess.Popen(argv, stdin=theirs, stdout=theirs, stderr=err, start_new_session=True,
                                    close_fds=True)
        except OSError as exc:
            from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

            ours.close()
            err.close()
            raise PyvirtError(f"Cannot run '{argv[0]}' for {self.uri.uri}: {exc}", ErrorCode.NO_CONNECT,
                              ErrorDomain.RPC) from None
        finally:
            theirs.close()
        self.procs.append(proc)
        self._stderr.append(err)
        ours.settimeout(timeout)
        return ours

    def describe(self) -> str:
        who = f"{self.uri.user}@" if self.uri.user else ""
        port = f":{self.uri.port}" if self.uri.port else ""
        return f"ssh {who}{self.uri.host}{port}"

    def diagnostics(self) -> str:
        lines: list[str] = []
        for err in self._stderr:
            err.seek(0)
            text = err.read(4096).decode("utf-8", "replace").strip()
            lines += [line for line in text.splitlines() if line and not line.startswith("Warning: Permanently")]
        return "; ".join(lines[-3:])

    def close(self) -> None:
        import subprocess

        for proc in self.procs:
            try:
                proc.wait(2)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for err in self._stderr:
            err.close()
        self.procs, self._stderr = [], []


def open_target(uri: str) -> tuple[ParsedURI, Transport]:
    parsed = ParsedURI(uri)
    return parsed, parsed.transport_object()


def is_remote_uri(uri: str) -> bool:
    """A URI the remote client serves (qemu, any transport)."""
    return uri.startswith("qemu:") or uri.startswith("qemu+")

