"""The host's network plumbing a virtual network needs: bridges, addresses, tap devices, routes.

Everything goes through iproute2 (``ip``) with argument lists, never a shell, and every failure
names the command and what it said.  Tap devices are created by opening /dev/net/tun (so the
fd can be handed to QEMU) and vanish when the last holder of the fd, QEMU, exits.
"""

from __future__ import annotations

import fcntl
import ipaddress
import json
import os
import re
import struct
import subprocess
from collections.abc import Sequence

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

#: IFNAMSIZ - 1: the longest interface name Linux accepts
IFNAME_MAX = 15
_IFNAME = re.compile(r"^[A-Za-z0-9_.:+-]{1,15}$")
_TUNSETIFF = 0x400454CA
_IFF_TAP, _IFF_NO_PI, _IFF_VNET_HDR = 0x0002, 0x1000, 0x4000


def net_error(message: str, code: int = ErrorCode.INTERNAL_ERROR) -> PyvirtError:
    return PyvirtError(message, code, ErrorDomain.NETWORK)


def run(argv: Sequence[str], *, input: str | None = None, check: bool = True) -> str:  # noqa: A002
    """Run a host tool; its stderr becomes the error message (bounded)."""
    try:
        proc = subprocess.run(list(argv), input=input, capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise net_error(f"internal error: {argv[0]} is not installed (needed for virtual networks)") from None
    except subprocess.TimeoutExpired:
        raise net_error(f"internal error: {' '.join(argv[:3])} timed out") from None
    if check and proc.returncode != 0:
        err = (proc.stderr or proc.stdout).strip()[-500:]
        raise net_error(f"internal error: {' '.join(argv[:4])} failed: {err}")
    return proc.stdout


def check_ifname(name: str, what: str) -> None:
    """A name the kernel accepts and that cannot read as an option or a path."""
    if len(name) > IFNAME_MAX:
        raise net_error(f"unsupported configuration: {what} name '{name}' is longer than {IFNAME_MAX} "
                        "characters", ErrorCode.CONFIG_UNSUPPORTED)
    if not _IFNAME.match(name) or name.startswith("-") or name in (".", ".."):
        raise net_error(f"unsupported configuration: invalid {what} name '{name}'", ErrorCode.CONFIG_UNSUPPORTED)


def link_names() -> set[str]:
    """Names of every interface of this network namespace (from netlink: /sys may show another
    namespace's view when the caller entered this one without remounting it)."""
    try:
        entries = json.loads(run(["ip", "-j", "link", "show"]) or "[]")
    except json.JSONDecodeError:
        return set()
    return {entry.get("ifname", "") for entry in entries}


def link_exists(name: str) -> bool:
    return name in link_names()


def bridge_create(name: str, *, mac: str | None, mtu: int | None, stp: bool, delay: int) -> None:
    argv = ["ip", "link", "add", "name", name]
    if mac:
        argv += ["address", mac]
    if mtu:
        argv += ["mtu", str(mtu)]
    # forward_delay is in centiseconds; STP on needs the kernel's minimum of 2 s to take effect
    argv += ["type", "bridge", "stp_state", "1" if stp else "0", "forward_delay", str(max(delay, 0) * 100)]
    run(argv)


def link_delete(name: str) -> None:
    if link_exists(name):
        run(["ip", "link", "delete", "dev", name], check=False)


def link_up(name: str) -> None:
    run(["ip", "link", "set", "dev", name, "up"])


def addr_add(dev: str, address: str, prefix: int, peer: str | None = None) -> None:
    run(["ip", "addr", "add", f"{address}/{prefix}", *(["peer", peer] if peer else []), "dev", dev])


def route_add(dev: str, destination: str, gateway: str, metric: int | None = None) -> None:
    """A static route via a gateway on `dev` (a network's ``<route>``); it goes with the device."""
    run(["ip", "route", "add", destination, "via", gateway, "dev", dev, *(["metric", str(metric)] if metric else [])])


def routes() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Destinations of the routes this namespace already has (for overlap checks)."""
    out: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for family in ("-4", "-6"):
        try:
            entries = json.loads(run(["ip", "-j", family, "route", "show"], check=False) or "[]")
        except json.JSONDecodeError:
            continue
        for entry in entries:
            dst = entry.get("dst", "")
            if dst in ("", "default"):
                continue
            try:
                out.append(ipaddress.ip_network(dst, strict=False))
            except ValueError:
                continue
    return out


def set_sysctl(path: str, value: str) -> None:
    """Write /proc/sys/...; quietly skipped where the namespace forbids it (the rules still apply)."""
    try:
        with open(f"/proc/sys/{path}", "w", encoding="ascii") as fh:
            fh.write(value)
    except OSError:
        pass


def open_tap(name: str, *, vnet_hdr: bool = True) -> int:
    """Create tap `name` and return its fd (inheritable by QEMU).  It goes when the fd's last holder does."""
    check_ifname(name, "tap device")
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    flags = _IFF_TAP | _IFF_NO_PI | (_IFF_VNET_HDR if vnet_hdr else 0)
    try:
        fcntl.ioctl(fd, _TUNSETIFF, struct.pack("16sH", name.encode(), flags))
    except OSError as exc:
        os.close(fd)
        raise net_error(f"internal error: cannot create tap device '{name}': {exc.strerror}") from None
    return fd


_SIOCETHTOOL = 0x8946
_ETHTOOL_GCOALESCE, _ETHTOOL_SCOALESCE = 0x0E, 0x0F
#: struct ethtool_coalesce: cmd and 22 more u32; rx_max_coalesced_frames is the third
_COALESCE_WORDS, _RX_FRAMES = 23, 2


def _ethtool_coalesce(name: str, words: list[int]) -> list[int]:
    """One SIOCETHTOOL coalesce request on interface `name` (words[0] is the command)."""
    import array
    import socket

    check_ifname(name, "interface")
    buf = array.array("I", words)
    address, _ = buf.buffer_info()
    ifreq = struct.pack("16sP", name.encode(), address) + bytes(16)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        fcntl.ioctl(sock.fileno(), _SIOCETHTOOL, ifreq)
    return buf.tolist()


def set_coalesce(name: str, rx_frames: int) -> None:
    """A NIC's ``<coalesce><rx><frames max=>`` on its host tap (virNetDevSetCoalesce: the other
    parameters zero), errors in libvirt's words."""
    words = [0] * _COALESCE_WORDS
    words[0], words[_RX_FRAMES] = _ETHTOOL_SCOALESCE, rx_frames
    try:
        _ethtool_coalesce(name, words)
    except OSError as exc:
        raise net_error(f"Cannot set coalesce info on '{name}': {exc.strerror}", ErrorCode.SYSTEM_ERROR) from None


def rx_coalesce_frames(name: str) -> int:
    """The interface's current rx-frames coalescing (ETHTOOL_GCOALESCE)."""
    words = [0] * _COALESCE_WORDS
    words[0] = _ETHTOOL_GCOALESCE
    return _ethtool_coalesce(name, words)[_RX_FRAMES]


def attach_to_bridge(tap: str, bridge: str, mtu: int | None = None) -> None:
    argv = ["ip", "link", "set", "dev", tap, "master", bridge]
    if mtu:
        argv += ["mtu", str(mtu)]
    run([*argv, "up"])


def free_name(prefix: str, taken: set[str], suffix: str = "") -> str:
    """The first ``prefixNsuffix`` not in `taken` (vnet0, vnet1, ... / virbr0, virbr1, ...)."""
    n = 0
    while f"{prefix}{n}{suffix}" in taken:
        n += 1
    return f"{prefix}{n}{suffix}"
