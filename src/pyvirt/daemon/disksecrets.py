"""The secrets a guest's disks and vTPMs reference, resolved at start (libvirt's
qemuDomainSecretPrepare, qemuTPMEmulatorBuildCommandLine).

A mixin of the QEMU driver: it needs the secret driver pyvirtd installs (``secrets``).  Every
``<encryption>`` and ``<auth>`` secret is looked up before anything else of the start happens,
so a missing secret, or one without a value, fails the start with libvirt's own error and
leaves nothing behind.  The values reach QEMU as files in the guest's private 0700 directory
(0600, owned by the user QEMU runs as), named where the command line's ``secret`` objects read
them (:func:`pyvirt.qemu.argv_disks.secret_file`), and are removed as soon as QEMU has read
them: never on a command line, never in a log.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyvirt.api import no_support
from pyvirt.atomicio import remove_quietly, write_atomic

if TYPE_CHECKING:
    from pyvirt.xml.domain import Domain

# pyvirt.qemu.argv_disks (the command line's rules, with the domain model) is imported where it is
# used: a guest's start, never a fresh daemon's

#: what a disk's <auth> secret must be for its protocol (virSecretUsageType words)
_AUTH_USAGE = {"iscsi": "iscsi", "rbd": "ceph"}


class _ByUUID:
    """A secret reference by UUID alone (a vTPM's ``<encryption secret=>``)."""

    def __init__(self, uuid: str) -> None:
        self.uuid, self.usage = uuid, None


def uses_chardev_tls(dom: Domain, default_on: bool | None) -> Any:
    """The TCP character devices of `dom` (``default_on`` None), or those using TLS when
    qemu.conf's chardev_tls is ``default_on``."""
    d = dom.devices
    for dev in (*d.serials, *d.parallels, *d.channels, *d.redirdevs, *d.smartcards):
        if dev.type == "tcp" and (default_on is None or (dev.source_tls if dev.source_tls is not None
                                                         else default_on)):
            yield dev
    for rng in d.rngs:
        if rng.backend_type == "tcp" and (default_on is None or (
                rng.backend_source_tls if rng.backend_source_tls is not None else default_on)):
            yield rng


def owner(dev: Any) -> str:
    """The name a device's secret files carry: a disk's target, a TPM's or host device's alias."""
    if isinstance(dev, str):  # a secret shared by devices of a kind ("chardev")
        return dev
    return str(getattr(dev, "target_dev", None) or dev.alias or "tpm0")


class _Lookup:
    """A value the secret driver still has to give (`DiskSecrets.fetch`)."""

    __slots__ = ("ref", "usage")

    def __init__(self, usage: str, ref: Any) -> None:
        self.usage, self.ref = usage, ref


class DiskSecrets:
    """The values of one start: (disk, purpose, value) each.  A value the secret driver holds is
    a `_Lookup` until `fetch` reads it: that driver takes a lock, so a start reads its secrets in
    a worker thread, and one that references none (most guests) need not leave the event loop."""

    def __init__(self) -> None:
        self.items: list[tuple[Any, str, bytes | _Lookup]] = []
        self.written: list[Path] = []

    def lookups(self) -> bool:
        """Whether some value is still to be read from the secret driver."""
        return any(isinstance(value, _Lookup) for _, _, value in self.items)

    def fetch(self, value_of: Any) -> None:
        """Read every pending value, in order, with `value_of(usage, ref)` (the first missing
        secret raises libvirt's error, as a lookup at that point always did)."""
        self.items = [(dev, purpose, value_of(value.usage, value.ref) if isinstance(value, _Lookup) else value)
                      for dev, purpose, value in self.items]

    def write(self, guest_dir: Path, user: Any = None) -> None:
        """The files QEMU's secret objects read (0600; QEMU's user owns them)."""
        from pyvirt.qemu.argv_disks import secret_file

        for dev, purpose, value in self.items:
            assert isinstance(value, bytes), "fetch() first"
            path = Path(secret_file(str(guest_dir), owner(dev), purpose))
            write_atomic(path, value, mode=0o600, durable=False)
            self.written.append(path)
            if user is not None:
                os.chown(path, user.uid, user.gid)

    def forget(self) -> None:
        """Remove the files (QEMU has read them, or will never run) and the values."""
        for path in self.written:
            with contextlib.suppress(OSError):
                remove_quietly(path)
        self.written.clear()
        self.items.clear()


class DiskSecretsMixin:
    secrets: Any  # the SecretDriver (pyvirtd sets it), or None

    def _resolve_disk_secrets(self, dom: Domain) -> DiskSecrets:
        """Every secret `dom` references, its value read (see `_disk_secret_refs`)."""
        found = self._disk_secret_refs(dom)
        found.fetch(self._secret_value)
        return found

    def _disk_secret_refs(self, dom: Domain) -> DiskSecrets:
        """Every secret `dom` references, in the order its files are written; the values the
        secret driver holds are left to `DiskSecrets.fetch`."""
        from pyvirt.qemu.argv_disks import cookie_string, encrypted_layers, encryption_purpose

        found = DiskSecrets()
        for disk in dom.devices.disks:
            for depth, enc in encrypted_layers(disk):  # the disk's image and its backing layers'
                for ref in enc.secrets[:1]:  # more than one is refused when the argv is built
                    found.items.append((disk, encryption_purpose(depth), _Lookup("volume", ref)))
            auth = disk.disk_auth
            if auth is not None and auth.secret is not None:
                usage = _AUTH_USAGE.get(disk.source_protocol or "", auth.secret.type or "ceph")
                found.items.append((disk, "auth", _Lookup(usage, auth.secret)))
            if disk.source_cookies:  # the XML's own values, kept off QEMU's command line
                found.items.append((disk, "httpcookie", cookie_string(disk).encode()))
        nvram = dom.os.nvram if dom.os is not None else None
        if nvram is not None and nvram.type == "network" and nvram.source_auth is not None \
                and nvram.source_auth.secret is not None:  # a network variable store's credentials
            usage = _AUTH_USAGE.get(nvram.source_protocol or "", nvram.source_auth.secret.type or "ceph")
            found.items.append((nvram, "auth", _Lookup(usage, nvram.source_auth.secret)))
        tls = self._nbd_tls(dom)
        if tls is not None and tls.secret_uuid:  # the NBD client key's password (qemu.conf)
            for disk in dom.devices.disks:
                if disk.source_protocol == "nbd" and (disk.source_tls if disk.source_tls is not None
                                                      else tls.default_on):
                    found.items.append((disk, "tls", _Lookup("tls", _ByUUID(tls.secret_uuid))))
        tls = self._chardev_tls(dom)
        if tls is not None and tls.secret_uuid and any(uses_chardev_tls(dom, tls.default_on)):
            # the TCP character devices' client key password (qemu.conf), one file for all
            found.items.append(("chardev", "tls", _Lookup("tls", _ByUUID(tls.secret_uuid))))
        for hd in dom.devices.hostdevs:  # an iSCSI LUN given as a SCSI host device: its CHAP secret
            auth = hd.source_auth if hd.type == "scsi" else None
            if auth is not None and auth.secret is not None:
                found.items.append((hd, "auth", _Lookup("iscsi", auth.secret)))
        for tpm in dom.devices.tpms:
            uuid = tpm.backend_encryption_secret
            if uuid and tpm.backend_type == "emulator":
                found.items.append((tpm, "vtpm", _Lookup("vtpm", _ByUUID(uuid))))
        return found

    def _nbd_tls(self, dom: Domain) -> Any:
        """qemu.conf's NBD TLS settings (daemon.qemuconf.NbdTLS), read only for guests with NBD disks."""
        if not any(d.source_protocol == "nbd" for d in dom.devices.disks):
            return None
        from pyvirt.daemon.qemuconf import nbd_tls

        return nbd_tls(self.paths.config)  # type: ignore[attr-defined]

    def _chardev_tls(self, dom: Domain) -> Any:
        """qemu.conf's chardev TLS settings, read only for guests with a TCP character device."""
        if not any(True for _ in uses_chardev_tls(dom, None)):
            return None
        from pyvirt.daemon.qemuconf import chardev_tls

        return chardev_tls(self.paths.config)  # type: ignore[attr-defined]

    def _secret_value(self, usage: str, ref: Any) -> bytes:
        """libvirt's virSecretGetSecretString: by UUID or usage, the usage type checked."""
        if self.secrets is None:
            raise no_support("virSecretLookupByUUID" if ref.uuid else "virSecretLookupByUsage")
        value: bytes = self.secrets.secret_value(usage, ref.uuid, ref.usage)
        return value
