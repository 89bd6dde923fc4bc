"""TLS for the migration and NBD storage-copy streams (``migrate --tls``), as libvirt does it.

Each side's QEMU gets a ``tls-creds-x509`` object reading the directory qemu.conf names
(daemon/qemuconf.py, pki.py): the destination's is the server endpoint (it checks the source's
client certificate when ``migrate_tls_x509_verify``), the source's the client endpoint (it always
checks the destination's certificate against the CA and the host name it connects to).  The
migration parameter ``tls-creds`` makes QEMU's migration channel TLS; the same object goes to the
destination's ``nbd-server-start`` and to the source's NBD client nodes of the disk mirrors.

``migrate_tls_force`` in qemu.conf refuses a migration without TLS on either side (libvirt's
rule; a tunnelled migration travels inside the daemons' connection and is exempt).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError, operation_invalid

#: the QOM id of the credentials object in a migrating QEMU
ALIAS = "pyvirt_migrate_tls0"

Qmp = Callable[..., Awaitable[Any]]


def check_allowed(config_dir: Path, tls: bool, tunnelled: bool = False) -> None:
    """migrate_tls_force: refuse a migration that would travel without TLS."""
    from pyvirt.daemon.qemuconf import migrate_tls

    if not tls and not tunnelled and migrate_tls(config_dir).force:
        raise operation_invalid("this pyvirtd instance allows migration only with --tls "
                                "(migrate_tls_force in qemu.conf)")


def hostname_of(address: dict[str, Any]) -> str:
    """The name the source checks the destination's certificate against: the host it connects
    to, or "localhost" for a unix socket (which only ever reaches this machine)."""
    return str(address["host"]) if address.get("type") == "inet" else "localhost"


async def enable(qmp: Qmp, run: Any, config_dir: Path, endpoint: str, hostname: str | None = None) -> str:
    """Create the credentials object for `endpoint` ("server": destination, "client": source)
    and point QEMU's migration at it; returns the object's id (for the NBD server or nodes).
    Certificates missing from the directory are named before QEMU is asked."""
    from pyvirt import pki
    from pyvirt.daemon.qemuconf import migrate_tls

    conf = migrate_tls(config_dir)
    missing = pki.missing_qemu_files(conf.directory, endpoint)
    if missing:
        raise PyvirtError(f"operation failed: migration with TLS needs {', '.join(missing)} in "
                          f"'{conf.directory}' (qemu.conf migrate_tls_x509_cert_dir)",
                          ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)
    with contextlib.suppress(PyvirtError):  # one left by an earlier migration of this QEMU
        await qmp(run, "object-del", {"id": ALIAS})
    await qmp(run, "object-add", {"qom-type": "tls-creds-x509", "id": ALIAS, "dir": conf.directory,
                                  "endpoint": endpoint, "verify-peer": conf.verify if endpoint == "server" else True})
    params: dict[str, Any] = {"tls-creds": ALIAS}
    if hostname is not None:
        params["tls-hostname"] = hostname
    await qmp(run, "migrate-set-parameters", params)
    return ALIAS


async def disable(qmp: Qmp, run: Any) -> None:
    """Plain migrations again for this QEMU (after a TLS one failed, or arrived): the parameters
    cleared and the object gone.  Best effort: the QEMU may be on its way out."""
    with contextlib.suppress(PyvirtError):
        await qmp(run, "migrate-set-parameters", {"tls-creds": "", "tls-hostname": ""})
    with contextlib.suppress(PyvirtError):
        await qmp(run, "object-del", {"id": ALIAS})
