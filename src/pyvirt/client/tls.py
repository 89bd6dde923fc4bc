"""qemu+tls://host[:port]/system: a TCP connection to pyvirtd's TLS listener with a client
certificate (files where pyvirt.pki says, or in ``?pkipath=DIR`` as libvirt's URIs allow).

The server's certificate must be signed by the same CA and name the URI's host (``no_verify=1``
skips both checks, libvirt's meaning of it).  Loaded only for TLS URIs: ``ssl`` is heavy.
"""

from __future__ import annotations

import os
import socket
import ssl
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.client.transport import TLS_PORT, ParsedURI, Transport
from pyvirt.pki import client_files


def client_config_dir() -> str:
    """The client's own config dir (root: /etc/pyvirt; others: ~/.config/pyvirt), as libvirt picks
    /etc/pki or ~/.pki by the client's privilege, not by the URI."""
    from pyvirt.paths import state_paths

    return str(state_paths("qemu:///system" if os.geteuid() == 0 else "qemu:///session").config)


class TLSTransport(Transport):
    def __init__(self, uri: ParsedURI) -> None:
        self.uri = uri
        self.port = uri.port or TLS_PORT
        self._context: ssl.SSLContext | None = None
        self._error = ""

    def context(self) -> ssl.SSLContext:
        if self._context is None:
            files = client_files(client_config_dir(), self.uri.params.get("pkipath"))
            missing = files.missing()
            if missing:
                raise PyvirtError(f"Cannot connect to {self.uri.uri}: TLS needs the CA certificate and a client "
                                  f"certificate with its key; missing: {', '.join(missing)}",
                                  ErrorCode.NO_CONNECT, ErrorDomain.RPC)
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            try:
                ctx.load_verify_locations(files.ca)
                ctx.load_cert_chain(files.cert, files.key)
            except (ssl.SSLError, OSError) as exc:
                raise PyvirtError(f"Cannot load the TLS certificates for {self.uri.uri}: {exc}",
                                  ErrorCode.NO_CONNECT, ErrorDomain.RPC) from None
            if self.uri.flag("no_verify"):
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
            if self.uri.params.get("tls_priority"):
                raise PyvirtError("tls_priority is a GnuTLS priority string; pyvirt's TLS (OpenSSL) has no "
                                  "equivalent: remove it from the URI", ErrorCode.ARGUMENT_UNSUPPORTED,
                                  ErrorDomain.RPC)
            self._context = ctx
        return self._context

    def open(self, timeout: float | None, fast: bool = False) -> Any:
        ctx = self.context()
        assert self.uri.host is not None
        try:
            raw = socket.create_connection((self.uri.host, self.port), timeout=timeout)
        except OSError as exc:
            self._error = ""
            raise PyvirtError(f"unable to connect to server at '{self.uri.host}:{self.port}': {exc}",
                              ErrorCode.NO_CONNECT, ErrorDomain.RPC) from None
        try:
            sock = ctx.wrap_socket(raw, server_hostname=self.uri.host)
        except (ssl.SSLError, OSError) as exc:
            raw.close()
            raise PyvirtError(f"TLS handshake with {self.uri.host}:{self.port} failed: {exc}",
                              ErrorCode.AUTH_FAILED, ErrorDomain.RPC) from None
        return sock

    def describe(self) -> str:
        return f"tls {self.uri.host}:{self.port}"

    def diagnostics(self) -> str:
        # TLS 1.3 checks the client's certificate after the client's side of the handshake: a
        # refusal shows up as the server closing the connection on the first request
        return "pyvirtd may have refused this client's certificate (not signed by its CA, or revoked)"
