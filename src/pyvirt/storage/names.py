"""Name checks for pools and volumes: a name becomes a file name, so it must stay one.

Refused: empty, '/' (libvirt's rule, in its words), NUL and other control characters, '.',
'..', a leading '-' (would read as an option to qemu-img or lvcreate), a leading '.' (hidden:
the driver's own temp files start with one), and names over 255 bytes.
"""

from __future__ import annotations

from pyvirt.api import ErrorCode
from pyvirt.storage.errors import invalid_arg, storage_error


def check_name(name: object, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise invalid_arg(f"{what} name must be a non-empty string")
    if "/" in name:  # libvirt's own rule and words (virStorageVolDefParseXML / virStoragePoolDefParseXML)
        raise storage_error(f"volume name '{name}' cannot contain '/'" if what == "storage volume"
                            else f"name {name} cannot contain '/'", ErrorCode.XML_ERROR)
    if name in (".", "..") or name.startswith("."):
        raise invalid_arg(f"{what} name '{name}' must not start with '.'")
    if name.startswith("-"):
        raise invalid_arg(f"{what} name '{name}' must not start with '-'")
    if len(name.encode()) > 255:
        raise invalid_arg(f"{what} name is longer than 255 bytes")
    if any(ord(c) < 32 for c in name):  # NUL included
        raise invalid_arg(f"{what} name {name!r} must not contain control characters")
    return name
