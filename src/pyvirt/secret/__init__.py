"""Secrets (libvirt's virSecret): values that unlock disks, TLS keys and vTPM state, kept by pyvirtd."""

from __future__ import annotations

#: the base64 alphabet
_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def glib_b64decode(text: str | bytes) -> bytes:
    """g_base64_decode: characters outside the alphabet are skipped, '=' ends a group.  What a
    user pastes (with newlines) decodes as it does for virsh, and a stored value file as
    libvirt's virSecretLoadValue reads it (a hand-written one may end with a newline)."""
    data = text.encode("latin-1", "replace") if isinstance(text, str) else text
    out = bytearray()
    acc = bits = 0
    for byte in data:
        ch = chr(byte)
        if ch == "=":
            acc = bits = 0  # padding: the group's spare bits are dropped
            continue
        index = _B64.find(ch)
        if index < 0:
            continue
        acc = (acc << 6) | index
        bits += 6
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
            acc &= (1 << bits) - 1
    return bytes(out)
