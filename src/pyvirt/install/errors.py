"""virt-install's fatal error and the install-method hint, shared by the flow and the CLI.

Kept in install/ so the flow never imports the CLI module (the CLI prints these errors and
turns them into exit codes; the flow only raises them)."""

from __future__ import annotations

INSTALL_METHODS = "--location URL, --cdrom CD/ISO, --pxe, --import, --boot hd|cdrom|..."


class Fail(Exception):
    """A virt-install fatal error: printed as 'ERROR    msg', exit 1."""


def volume_not_created(name: str, exc: Exception) -> RuntimeError:
    """virtinst's StorageVolume.install wraps every failure to create (or clone) a volume so,
    the driver's message quoted."""
    return RuntimeError(f"Couldn't create storage volume '{name}': '{exc}'")
