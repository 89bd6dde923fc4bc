"""pyvirtd's optional TCP listener: TLS only, every client with a certificate the CA signed.

Off unless pyvirtd.conf says ``listen_tls = 1`` (or pyvirtd runs with ``--listen``, as libvirtd).
There is no way to get a TCP listener without TLS and client certificates: ``listen_tcp`` and
``tls_no_verify_certificate`` stop the daemon with a message instead.  Which DNs may connect, and
which of them only read, is daemon.access's job (a middleware on the same app the unix socket
serves).  Certificates are where pyvirt.pki says, unless ``ca_file``/``cert_file``/``key_file``/
``crl_file`` name others.
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path
from typing import Any

from aiohttp import web

from pyvirt.daemon.access import TLSPolicy
from pyvirt.daemon.config import ConfigError, DaemonConfig
from pyvirt.pki import TLSFiles, server_files

log = logging.getLogger(__name__)


class TLSSettings:
    def __init__(self, context: ssl.SSLContext, host: str, port: int, policy: TLSPolicy, files: TLSFiles) -> None:
        self.context, self.host, self.port, self.policy, self.files = context, host, port, policy, files


def settings(config: DaemonConfig, config_dir: Path, listen: bool = False) -> TLSSettings | None:
    """The listener pyvirtd.conf asks for, checked; None when there is none."""
    if config.listen_tcp:
        raise ConfigError(f"{config.path}: listen_tcp is refused: pyvirtd listens on TCP only with TLS and "
                          "client certificates (use listen_tls)")
    if config.tls_no_verify_certificate:
        raise ConfigError(f"{config.path}: tls_no_verify_certificate is refused: every TLS client must present "
                          "a certificate the CA signed")
    enabled = config.values.get("listen_tls", 1 if listen else 0)
    if not enabled:
        return None
    default = server_files(config_dir)
    files = TLSFiles(config.ca_file or default.ca, config.cert_file or default.cert,
                     config.key_file or default.key, config.crl_file or default.crl)
    missing = files.missing()
    if missing:
        raise ConfigError(f"{config.path}: listen_tls needs the CA certificate, the server certificate and its "
                          f"key; missing: {', '.join(missing)}")
    if not config.tls_port.isdigit() or not 0 < int(config.tls_port) < 65536:
        raise ConfigError(f"{config.path}: tls_port must be a port number, not {config.tls_port!r}")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED  # no certificate, no connection: checked in the handshake
    try:
        context.load_cert_chain(files.cert, files.key)
        context.load_verify_locations(files.ca)
        if files.crl:
            context.load_verify_locations(files.crl)
            context.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"{config.path}: cannot load the TLS certificates ({files.cert}, {files.key}, "
                          f"{files.ca}): {exc}") from None
    policy = TLSPolicy(config.tls_allowed_dn_list, list(config.tls_readonly_dn_list), bool(config.tls_readonly))
    return TLSSettings(context, config.listen_addr, int(config.tls_port), policy, files)


async def serve_tls(runner: web.AppRunner, tls: TLSSettings) -> Any:
    site = web.TCPSite(runner, tls.host, tls.port, ssl_context=tls.context, backlog=128)
    await site.start()
    log.info("pyvirtd listening for TLS clients on %s:%d (allowed DNs: %s; read-only DNs: %s%s)", tls.host,
             tls.port, tls.policy.allowed if tls.policy.allowed is not None else "any the CA signed",
             tls.policy.readonly, "; every client read-only" if tls.policy.all_readonly else "")
    return site
