"""qemu.conf: the QEMU driver's settings, in libvirt's syntax and names (``CONFIG/qemu.conf``,
``/etc/pyvirt/qemu.conf`` for the system daemon).

One table for the whole file, so every reader (the QEMU user of daemon/qemuuser.py, the migration
TLS of daemon/migration_tls.py, SPICE TLS of the guests' displays) accepts the others' settings and any other name still stops with
the file, line and setting named.  The file is read when a setting is needed, so a change applies
to the next guest start or migration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

#: the user a system daemon run by root runs QEMU as when qemu.conf names none (libvirt's
#: libvirt-qemu; the Makefile's deps creates it)
DEFAULT_USER = "pyvirt-qemu"
#: setting -> (type, default): libvirt's names; the TLS directories default as pki.py says
SETTINGS: dict[str, tuple[type, Any]] = {
    "user": (str, DEFAULT_USER),
    "group": (str, ""),                 # "": the user's primary group
    "dynamic_ownership": (int, 1),      # chown what QEMU opens to its user, given back at stop
    "default_tls_x509_cert_dir": (str, None),
    "default_tls_x509_verify": (int, 1),
    "migrate_tls_x509_cert_dir": (str, None),
    "migrate_tls_x509_verify": (int, None),   # unset: default_tls_x509_verify
    "migrate_tls_force": (int, 0),
    "spice_tls": (int, 0),              # SPICE displays may have a tlsPort (off, as in libvirt)
    "spice_tls_x509_cert_dir": (str, None),   # unset: default_tls_x509_cert_dir
    "default_tls_x509_secret_uuid": (str, None),  # the secret holding the client keys' password
    "nbd_tls": (int, 0),                # NBD disks without a tls attribute use TLS
    "nbd_tls_x509_cert_dir": (str, None),     # unset: default_tls_x509_cert_dir
    "nbd_tls_x509_secret_uuid": (str, None),  # unset: default_tls_x509_secret_uuid
    "chardev_tls": (int, 0),            # TCP character devices without a tls attribute use TLS
    "chardev_tls_x509_cert_dir": (str, None),     # unset: default_tls_x509_cert_dir
    "chardev_tls_x509_verify": (int, None),       # unset: default_tls_x509_verify
    "chardev_tls_x509_secret_uuid": (str, None),  # unset: default_tls_x509_secret_uuid
    "backup_tls_x509_cert_dir": (str, None),  # pull backups' NBD server with <server tls='yes'>
    "backup_tls_x509_verify": (int, None),    # unset: default_tls_x509_verify
    "backup_tls_x509_secret_uuid": (str, None),  # unset: default_tls_x509_secret_uuid
}
_BOOLEANS = ("dynamic_ownership", "default_tls_x509_verify", "migrate_tls_x509_verify", "migrate_tls_force",
             "spice_tls", "nbd_tls", "chardev_tls", "chardev_tls_x509_verify", "backup_tls_x509_verify")
_DIRECTORIES = ("default_tls_x509_cert_dir", "migrate_tls_x509_cert_dir", "spice_tls_x509_cert_dir",
                "nbd_tls_x509_cert_dir", "chardev_tls_x509_cert_dir", "backup_tls_x509_cert_dir")


def config_error(msg: str) -> PyvirtError:
    return PyvirtError(f"configuration error: {msg}", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)


def load(config_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Every setting's value (the defaults where the file says nothing, or there is no file);
    a malformed file, a boolean that is not 0/1 or a certificate directory that does not exist
    raise a configuration error naming the file (libvirt's virQEMUDriverConfigValidate)."""
    from pyvirt.daemon.config import ConfigError, parse

    path = Path(config_dir) / "qemu.conf"
    try:
        text = path.read_text()
    except FileNotFoundError:
        text = ""
    try:
        values = parse(text, str(path), SETTINGS).values
    except ConfigError as exc:
        raise config_error(str(exc)) from None
    for name in _BOOLEANS:
        if values.get(name, 0) not in (0, 1):
            raise config_error(f"{path}: {name} must be 0 or 1, not {values[name]}")
    for name in _DIRECTORIES:
        if name in values and not os.path.isdir(values[name]):
            raise config_error(f"{path}: {name} directory '{values[name]}' does not exist")
    return {name: values.get(name, default) for name, (_kind, default) in SETTINGS.items()}


@dataclass(frozen=True)
class MigrateTLS:
    """Where a migration's TLS certificates are and how they are checked."""

    directory: str
    verify: bool     # the destination checks the source's client certificate
    force: bool      # migrations without TLS are refused


def migrate_tls(config_dir: str | os.PathLike[str]) -> MigrateTLS:
    """libvirt's rules: migrate_tls_x509_cert_dir, else the migration directory of pki.py if it
    exists, else default_tls_x509_cert_dir (itself defaulting to CONFIG/pki/qemu); the verify
    flag likewise falls back to default_tls_x509_verify."""
    from pyvirt import pki

    conf = load(config_dir)
    default_dir = conf["default_tls_x509_cert_dir"] or pki.qemu_tls_dir(config_dir)
    directory = conf["migrate_tls_x509_cert_dir"] or pki.migrate_tls_dir(config_dir, default_dir)
    verify = conf["migrate_tls_x509_verify"]
    return MigrateTLS(directory, bool(conf["default_tls_x509_verify"] if verify is None else verify),
                      bool(conf["migrate_tls_force"]))


@dataclass(frozen=True)
class BackupTLS:
    """The certificates of a pull backup's NBD server with ``<server tls='yes'>``."""

    directory: str
    verify: bool     # clients must present a certificate of the CA
    secret_uuid: str | None  # the secret holding the server key's password


def backup_tls(config_dir: str | os.PathLike[str]) -> BackupTLS:
    """libvirt's backup_tls_x509_* settings, each falling back as migrate_tls's do (the
    service's own pki directory, else default_tls_x509_cert_dir; default_tls_x509_verify;
    default_tls_x509_secret_uuid)."""
    from pyvirt import pki

    conf = load(config_dir)
    default_dir = conf["default_tls_x509_cert_dir"] or pki.qemu_tls_dir(config_dir)
    directory = conf["backup_tls_x509_cert_dir"] or pki.migrate_tls_dir(config_dir, default_dir, "backup")
    verify = conf["backup_tls_x509_verify"]
    return BackupTLS(str(directory), bool(conf["default_tls_x509_verify"] if verify is None else verify),
                     conf["backup_tls_x509_secret_uuid"] or conf["default_tls_x509_secret_uuid"])


def spice_tls_x509_dir(config_dir: str | os.PathLike[str]) -> str | None:
    """SPICE's certificate directory (ca-cert.pem, server-cert.pem, server-key.pem) when
    ``spice_tls = 1``, else None: a tlsPort is then refused, as libvirt does.  Unset, the
    directory is default_tls_x509_cert_dir's (itself defaulting as pki.py says)."""
    from pyvirt import pki

    conf = load(config_dir)
    if not conf["spice_tls"]:
        return None
    return str(conf["spice_tls_x509_cert_dir"] or conf["default_tls_x509_cert_dir"] or pki.qemu_tls_dir(config_dir))


def host_render_node(dri: str = "/dev/dri") -> str | None:
    """The host's first DRM render node (libvirt's virHostGetDRMRenderNode), or None."""
    try:
        names = sorted(n for n in os.listdir(dri) if n.startswith("renderD"))
    except OSError:
        return None
    return os.path.join(dri, names[0]) if names else None


@dataclass
class NbdTLS:
    """qemu.conf's TLS for NBD disks (or character devices): on by default or not, the
    certificates' directory, whether the peer is verified, and the secret (UUID) holding the
    client key's password."""

    default_on: bool
    directory: str
    verify: bool
    secret_uuid: str | None


def nbd_tls(config_dir: str | os.PathLike[str]) -> NbdTLS:
    """libvirt's nbd_tls* settings, each falling back to its default_tls_x509_* one."""
    from pyvirt import pki

    conf = load(config_dir)
    directory = conf["nbd_tls_x509_cert_dir"] or conf["default_tls_x509_cert_dir"] or pki.qemu_tls_dir(config_dir)
    return NbdTLS(bool(conf["nbd_tls"]), str(directory), bool(conf["default_tls_x509_verify"]),
                  conf["nbd_tls_x509_secret_uuid"] or conf["default_tls_x509_secret_uuid"])


def chardev_tls(config_dir: str | os.PathLike[str]) -> NbdTLS:
    """libvirt's chardev_tls* settings (TCP character devices), each falling back to its
    default_tls_x509_* one."""
    from pyvirt import pki

    conf = load(config_dir)
    directory = conf["chardev_tls_x509_cert_dir"] or conf["default_tls_x509_cert_dir"] or pki.qemu_tls_dir(config_dir)
    verify = conf["chardev_tls_x509_verify"]
    return NbdTLS(bool(conf["chardev_tls"]), str(directory),
                  bool(conf["default_tls_x509_verify"] if verify is None else verify),
                  conf["chardev_tls_x509_secret_uuid"] or conf["default_tls_x509_secret_uuid"])
