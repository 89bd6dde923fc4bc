"""The remote Connection: pyvirtd's HTTP API over its unix socket, standard library only.

For qemu:///session a missing daemon is started on demand (as libvirt's virsh does), with a
lock so that two clients starting at once start one daemon.

Every ``pyvirt`` command imports this module, so it imports only what one request needs:
``subprocess``/``fcntl`` (spawning), ``select`` (console reads), ``socket`` (streams) and
``pyvirt.paths`` (pathlib, dataclasses, tempfile) load when those paths run;
the socket's place comes from :mod:`pyvirt.rundir`, which :mod:`pyvirt.paths` uses too.
"""

from __future__ import annotations

import os
import time

from pyvirt.api import (
    Connection,
    ConsoleStream,
    DomainEvent,
    DomainInfo,
    ErrorCode,
    ErrorDomain,
    ListFilter,
    NodeInfo,
    PyvirtError,
)
from pyvirt.client import wire
from pyvirt.client.remote_storage import StorageClientMixin
from pyvirt.rundir import ensure_private_dir, socket_path

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from pyvirt.paths import StatePaths

SPAWN_TIMEOUT = 20.0

_q = wire.quote
_SOL_SOCKET, _SO_KEEPALIVE = 1, 9  # <sys/socket.h> on Linux, without importing socket



class RemoteConsole(ConsoleStream):
    def __init__(self, ws: wire.WebSocket) -> None:
        self.ws = ws
        self._pending = b""

    def read(self, size: int = 4096, timeout: float | None = None) -> bytes:
        if not self._pending:
            if timeout is not None and not self.ws.buf:
                import select

                ready, _, _ = select.select([self.ws.sock], [], [], timeout)
                if not ready:
                    raise TimeoutError("no console output")
            data = self.ws.recv()
            if data is None:
                return b""
            self._pending = data
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def write(self, data: bytes) -> None:
        self.ws.send(data)

    def close(self) -> None:
        self.ws.close()

    def fileno(self) -> int:
        return self.ws.sock.fileno()

    def has_buffered(self) -> bool:
        return bool(self._pending or self.ws.buf)


class EventStream:
    """Subscribed on construction, so no event between subscribing and the next call is lost."""

    def __init__(self, sock_path: str, dom: str | None, timeout: float | None) -> None:
        target = "/v1/events" + (f"?domain={_q(dom)}" if dom else "")
        self.deadline = None if timeout is None else time.monotonic() + timeout
        self.sock, buffered = wire.open_stream(sock_path, target, None)
        self.buf = buffered
        self._read_until(b": subscribed\n\n")

    def _read_until(self, marker: bytes) -> bytes | None:
        while marker not in self.buf:
            remaining = None if self.deadline is None else self.deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                return None
            if not data:
                return None
            self.buf += data
        chunk, _, self.buf = self.buf.partition(marker)
        return chunk

    def __iter__(self) -> Iterator[DomainEvent]:
        try:
            while True:
                chunk = self._read_until(b"\n\n")
                if chunk is None:
                    return
                for line in chunk.decode().splitlines():
                    if line.startswith("data: "):
                        yield DomainEvent.from_dict(wire.loads(line[6:]))
        finally:
            self.close()

    def close(self) -> None:
        self.sock.close()


class RemoteConnection(StorageClientMixin, Connection):
    def __init__(self, uri: str, readonly: bool = False, autostart: bool | None = None) -> None:
        """`autostart`: start a daemon when none answers; by default only for session URIs."""
        self.uri = uri
        self.readonly = readonly
        self._paths: StatePaths | None = None
        self.sock_path = socket_path(uri)
        if autostart is None:
            autostart = uri.rstrip("/").endswith("/session")
        self._ensure_daemon(autostart)

    @property
    def paths(self) -> StatePaths:
        """The daemon's state paths (loaded on first use: only spawning needs them)."""
        if self._paths is None:
            from pyvirt.paths import state_paths

            self._paths = state_paths(self.uri)
        return self._paths

    # ------------------------------------------------------------------ transport
    def _daemon_answers(self) -> bool:
        try:
            wire.open_unix_fast(self.sock_path, 2.0).close()
            return True
        except wire.PeerNotTrusted as exc:
            raise PyvirtError(f"Failed to connect socket to '{self.sock_path}': {exc}", ErrorCode.NO_CONNECT,
                              ErrorDomain.RPC) from None
        except OSError:
            return False

    def _ensure_daemon(self, autostart: bool) -> None:
        if self._daemon_answers():
            return
        if not autostart:
            raise PyvirtError(f"Failed to connect socket to '{self.sock_path}': no pyvirtd is running for "
                              f"{self.uri}; start it with: pyvirtd --uri {self.uri}",
                              ErrorCode.NO_CONNECT, ErrorDomain.RPC)
        self._spawn_daemon()

    def _spawn_daemon(self) -> None:
        import fcntl
        import select
        import subprocess
        import sys

        try:
            ensure_private_dir(self.paths.runtime)
            lock_fd = os.open(self.paths.runtime / "pyvirtd-spawn.lock",
                              os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise PyvirtError(f"Failed to start pyvirtd for {self.uri}: {exc}", ErrorCode.NO_CONNECT,
                              ErrorDomain.RPC) from None
        with open(lock_fd, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if self._daemon_answers():
                return
            self.paths.log.mkdir(parents=True, exist_ok=True, mode=0o700)
            log_path = self.paths.log / "pyvirtd.log"
            read_fd, write_fd = os.pipe()
            cmd = [sys.executable, "-m", "pyvirt.daemon.main", "--uri", self.uri, "--ready-fd", str(write_fd),
                   "--log-file", str(log_path)]
            with open(os.devnull, "rb") as devnull:
                subprocess.Popen(cmd, stdin=devnull, stdout=devnull, stderr=devnull, start_new_session=True,
                                 pass_fds=(write_fd,), close_fds=True)
            os.close(write_fd)
            ready, _, _ = select.select([read_fd], [], [], SPAWN_TIMEOUT)
            os.close(read_fd)
            if not ready or not self._daemon_answers():
                raise PyvirtError(f"Failed to start pyvirtd for {self.uri} (see {log_path})",
                                  ErrorCode.NO_CONNECT, ErrorDomain.RPC)

    def _call(self, method: str, target: str, payload: Any = None, mutating: bool = False) -> Any:
        if mutating and self.readonly:
            raise PyvirtError("operation forbidden: read only access prevents this operation",
                              ErrorCode.OPERATION_DENIED, ErrorDomain.NONE)
        try:
            status, body = wire.request(self.sock_path, method, target, payload)
        except (OSError, ValueError) as exc:
            raise PyvirtError(f"Cannot talk to pyvirtd at '{self.sock_path}': {exc}", ErrorCode.NO_CONNECT,
                              ErrorDomain.RPC) from exc
        if isinstance(body, dict) and "error" in body:
            raise PyvirtError.from_dict(body["error"])
        if status >= 400 or not isinstance(body, dict):
            raise PyvirtError(f"internal error: unexpected reply {status} from pyvirtd", ErrorCode.RPC,
                              ErrorDomain.RPC)
        return body.get("result")

    def _dom(self, dom: str) -> str:
        return f"/v1/domains/{_q(dom)}"

    def _act(self, dom: str, action: str, **body: Any) -> Any:
        return self._call("POST", f"{self._dom(dom)}/{action}", body, mutating=True)

    # ------------------------------------------------------------------ connection / host
    def close(self) -> None:
        pass

    def get_uri(self) -> str:
        return self.uri

    def _host(self) -> dict[str, Any]:
        return self._call("GET", "/v1/host")

    def get_hostname(self) -> str:
        return self._host()["hostname"]

    def get_version(self) -> dict[str, Any]:
        version = self._host()["version"]
        return {k: tuple(v) if isinstance(v, list) else v for k, v in version.items()}

    def get_capabilities(self) -> str:
        return self._call("GET", "/v1/host/capabilities")

    def get_domain_capabilities(self, emulator: str | None = None, arch: str | None = None,
                                machine: str | None = None, virttype: str | None = None) -> str:
        params = {k: v for k, v in (("emulator", emulator), ("arch", arch), ("machine", machine),
                                    ("virttype", virttype)) if v}
        query = ("?" + wire.urlencode(params)) if params else ""
        return self._call("GET", "/v1/host/domcapabilities" + query)

    def node_info(self) -> NodeInfo:
        return NodeInfo(**self._host()["nodeinfo"])

    # ------------------------------------------------------------------ domains
    def list_domains(self, flt: ListFilter | None = None) -> list[DomainInfo]:
        params: dict[str, str] = {}
        if flt is not None:
            for key in ("active", "persistent", "autostart"):
                value = getattr(flt, key)
                if value is not None:
                    params[key] = "1" if value else "0"
            if flt.states:
                params["states"] = ",".join(str(int(s)) for s in flt.states)
        query = ("?" + wire.urlencode(params)) if params else ""
        table = self._call("GET", "/v1/domains" + query)
        if isinstance(table, list):  # a pyvirtd from before the {fields, rows} form (still running)
            return [DomainInfo.from_dict(d) for d in table]
        fields, rows = table["fields"], table["rows"]
        if tuple(fields) == DomainInfo._fields:
            return [DomainInfo(*row) for row in rows]
        return [DomainInfo.from_dict(dict(zip(fields, row, strict=True))) for row in rows]

    def domain_xml_to_native(self, native_format: str, xml: str) -> str:
        return self._call("POST", "/v1/xml-to-native", {"format": native_format, "xml": xml})

    def lookup_domain(self, ref: str) -> DomainInfo:
        return DomainInfo.from_dict(self._call("GET", self._dom(ref)))

    def define_xml(self, xml: str, validate: bool = False) -> DomainInfo:
        return DomainInfo.from_dict(self._call("POST", "/v1/domains", {"xml": xml, "validate": validate},
                                               mutating=True))

    def undefine(self, dom: str, *, managed_save: bool = False, nvram: bool = False, keep_nvram: bool = False,
                 snapshots_metadata: bool = False) -> None:
        self._call("DELETE", self._dom(dom), mutating=True)

    def get_xml(self, dom: str, *, inactive: bool = False, security_info: bool = False) -> str:
        query = wire.urlencode({"inactive": int(inactive), "security_info": int(security_info)})
        return self._call("GET", f"{self._dom(dom)}/xml?{query}")

    def set_autostart(self, dom: str, autostart: bool) -> None:
        self._act(dom, "autostart", enable=autostart)

    def set_memory(self, dom: str, kib: int, *, live: bool = False, config: bool = False,
                   maximum: bool = False) -> None:
        self._act(dom, "setmem", kib=kib, live=live, config=config, maximum=maximum)

    def set_vcpus(self, dom: str, count: int, *, live: bool = False, config: bool = False,
                  maximum: bool = False) -> None:
        self._act(dom, "setvcpus", count=count, live=live, config=config, maximum=maximum)

    def set_metadata(self, dom: str, kind: str, value: str | None, *, live: bool = False,
                     config: bool = False) -> None:
        self._act(dom, "metadata", kind=kind, value=value, live=live, config=config)

    def rename(self, dom: str, new_name: str) -> None:
        self._act(dom, "rename", name=new_name)

    @staticmethod
    def _refuse_autodestroy(autodestroy: bool) -> None:
        """Each request is its own connection here, so "destroy when this client goes away" has no
        connection to follow yet: refuse it rather than start a guest that outlives its owner."""
        if autodestroy:
            raise PyvirtError("Operation not supported: --autodestroy is not supported by pyvirtd yet",
                              ErrorCode.ARGUMENT_UNSUPPORTED, ErrorDomain.QEMU)

    def create_xml(self, xml: str, *, paused: bool = False, autodestroy: bool = False,
                   validate: bool = False) -> DomainInfo:
        self._refuse_autodestroy(autodestroy)
        return DomainInfo.from_dict(self._call("POST", "/v1/domains-create",
                                               {"xml": xml, "paused": paused, "validate": validate},
                                               mutating=True))

    def start(self, dom: str, *, paused: bool = False, autodestroy: bool = False,
              force_boot: bool = False) -> DomainInfo:
        """`force_boot` (discard a managed save) is a no-op: pyvirtd keeps no managed saves yet."""
        self._refuse_autodestroy(autodestroy)
        return DomainInfo.from_dict(self._act(dom, "start", paused=paused))

    def shutdown(self, dom: str, mode: str | None = None) -> None:
        self._act(dom, "shutdown", mode=mode)

    def reboot(self, dom: str, mode: str | None = None) -> None:
        self._act(dom, "reboot", mode=mode)

    def reset(self, dom: str) -> None:
        self._act(dom, "reset")

    def destroy(self, dom: str, *, graceful: bool = False) -> None:
        self._act(dom, "destroy", graceful=graceful)

    def suspend(self, dom: str) -> None:
        self._act(dom, "suspend")

    def resume(self, dom: str) -> None:
        self._act(dom, "resume")

    def get_info(self, dom: str) -> DomainInfo:
        return self.lookup_domain(dom)

    def memory_stats(self, dom: str) -> dict[str, int]:
        return self._call("GET", f"{self._dom(dom)}/memstats")

    def domain_stats(self, doms: list[str] | None = None, groups: list[str] | None = None
                     ) -> list[dict[str, Any]]:
        params = {k: ",".join(v) for k, v in (("domains", doms), ("groups", groups)) if v}
        query = ("?" + wire.urlencode(params)) if params else ""
        return self._call("GET", "/v1/domain-stats" + query)

    def display_uri(self, dom: str, kind: str | None = None) -> str:
        query = ("?" + wire.urlencode({"type": kind})) if kind else ""
        return self._call("GET", f"{self._dom(dom)}/display{query}")

    def interface_addresses(self, dom: str, source: str = "lease") -> list[dict[str, Any]]:
        return self._call("GET", f"{self._dom(dom)}/ifaddr?" + wire.urlencode({"source": source}))

    def send_key(self, dom: str, codeset: str, holdtime: int, keycodes: list[int]) -> None:
        kind = {"linux": "number", "qnum": "qcode"}.get(codeset, "number")
        keys = [{"type": kind, "data": k} for k in keycodes]
        self._act(dom, "sendkey", keys=keys, holdtime=holdtime)

    # ------------------------------------------------------------------ streams
    def events(self, dom: str | None = None, timeout: float | None = None) -> Iterator[DomainEvent]:
        return iter(EventStream(self.sock_path, dom, timeout))

    def subscribe(self, dom: str | None = None, timeout: float | None = None) -> EventStream:
        """Like events(), but the subscription is live as soon as this returns."""
        return EventStream(self.sock_path, dom, timeout)

    def open_console(self, dom: str, *, force: bool = False, safe: bool = False,
                     history: bool = False) -> RemoteConsole:
        query = wire.urlencode({"force": int(force), "history": int(history)})
        try:
            ws = wire.WebSocket.connect(self.sock_path, f"{self._dom(dom)}/console?{query}")
        except wire.WireError as exc:
            body = exc.args[1] if len(exc.args) > 1 else None
            if isinstance(body, dict) and "error" in body:
                raise PyvirtError.from_dict(body["error"]) from None
            raise PyvirtError(f"cannot open console: {exc}", ErrorCode.INTERNAL_ERROR) from exc
        try:  # noqa: SIM105 - contextlib is not loaded on this path
            ws.sock.setsockopt(_SOL_SOCKET, _SO_KEEPALIVE, 1)
        except OSError:
            pass
        return RemoteConsole(ws)
