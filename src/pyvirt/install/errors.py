"""virt-install's fatal error and the install-method hint, shared by the flow and the CLI.

Kept in install/ so the flow never imports the CLI module (the CLI prints these errors and
turns them into exit codes; the flow only raises them)."""

from __future__ import annotations

INSTALL_METHODS = "--location URL, --cdrom CD/ISO, --pxe, --import, --boot hd|cdrom|..."


class Fail(Exception):
    """A virt-install fatal error: printed as 'ERROR    msg', exit 1."""
