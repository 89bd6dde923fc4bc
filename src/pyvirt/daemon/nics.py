"""Guest NICs on virtual networks and host bridges: the tap devices pyvirtd opens for QEMU.

For ``<interface type='network'>`` the network driver names the bridge (and refuses a network
that is not running, in libvirt's words); ``type='bridge'`` names it directly.  Each NIC gets a
tap device (``vnetN``, or its ``<target dev>``) attached to that bridge; QEMU receives the open
fd, so the tap lives exactly as long as QEMU does: a guest's end removes it, and a pyvirtd
crash leaves it (and the guest's connectivity) untouched.

Session daemons cannot create taps or bridges.  A ``network`` NIC there falls back to QEMU's
user-mode networking with a logged explanation, as libvirt's session mode would need root for
anything else; a ``bridge`` NIC gets its tap from QEMU's setuid bridge helper, as libvirt's
session mode does (``network/bridge_helper.py``), and is refused where the helper is missing.
"""

from __future__ import annotations

import contextlib
import logging
import os
from typing import TYPE_CHECKING, Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.network import bridge_helper
from pyvirt.xml.nictypes import TAP_NIC_TYPES

if TYPE_CHECKING:
    from pyvirt.xml.domain import Domain

log = logging.getLogger(__name__)


def session_fallback(dom: Domain) -> list[str]:
    """Session mode: `network` NICs become user-mode ones (messages say so); `bridge` NICs need
    the bridge helper."""
    return [note for nic in dom.devices.interfaces if (note := session_nic(nic))]


def session_nic(nic: Any) -> str | None:
    """One NIC of a session guest (at start or hot-plugged): the note when it changed."""
    if nic.type == "network":
        note = (f"interface {nic.mac_address or nic.alias}: network '{nic.source_network}' needs "
                "qemu:///system (root) for its bridge; this session guest uses user-mode networking")
        nic.type, nic.source_network = "user", None
        return note
    if nic.type == "ethernet" and nic.target_managed is not False:
        raise PyvirtError("unsupported configuration: interface type='ethernet' needs qemu:///system to create "
                          "its tap device (a session guest may use an existing tap: <target dev=... "
                          "managed='no'/>)", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)
    if nic.type == "bridge" and not bridge_helper.available():
        raise PyvirtError(f"unsupported configuration: interface type='bridge' (bridge "
                          f"'{nic.source_bridge}') needs qemu:///system or QEMU's bridge helper "
                          f"{bridge_helper.HELPER}: session daemons cannot create tap devices",
                          ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)
    return None


def open_taps(dom: Domain, networks: Any) -> dict[str, list[int]]:
    """One tap per network/bridge NIC, attached and up; {alias: [fd]}.  All or nothing."""
    from pyvirt.network import hostnet

    fds: dict[str, list[int]] = {}
    if not any(nic.type in TAP_NIC_TYPES for nic in dom.devices.interfaces):
        return fds
    try:
        taken = hostnet.link_names()
        for nic in dom.devices.interfaces:
            if nic.type in TAP_NIC_TYPES:
                fd = open_tap(nic, networks, taken)
                fds[nic.alias or nic.target_dev] = [fd]
    except BaseException:
        close_all(fds)
        raise
    return fds


def open_tap(nic: Any, networks: Any, taken: set[str] | None = None) -> int:
    """A tap for one network/bridge NIC (start or hot-plug), attached to its bridge and up; its
    name goes into the NIC's <target dev> (the live XML shows it, as libvirt's does)."""
    from pyvirt.network import hostnet

    vnet_hdr = (nic.model_type or "").startswith("virtio")
    if nic.type == "bridge" and networks is None:  # a session daemon: the helper makes the tap
        hostnet.check_ifname(nic.source_bridge or "", "bridge")
        fd, nic.target_dev = bridge_helper.open_tap(nic.source_bridge or "", vnet_hdr=vnet_hdr)
        return fd
    taken = hostnet.link_names() if taken is None else taken
    mtu = nic.mtu_size
    if nic.type == "ethernet":
        return _ethernet_tap(nic, taken, vnet_hdr)
    if nic.type == "network":
        if networks is None:
            raise PyvirtError("unsupported configuration: no network driver in this daemon",
                              ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)
        bridge, net_mtu = networks.bridge_for(nic.source_network or "")
        mtu = mtu or net_mtu
    else:
        bridge = nic.source_bridge or ""
        hostnet.check_ifname(bridge, "bridge")
        if bridge not in taken:
            raise PyvirtError(f"Cannot get interface MTU on '{bridge}': No such device",
                              ErrorCode.SYSTEM_ERROR, ErrorDomain.QEMU)
    name = nic.target_dev if nic.target_dev and not nic.target_dev.startswith("vnet") else None
    name = name or hostnet.free_name("vnet", taken)
    fd = hostnet.open_tap(name, vnet_hdr=vnet_hdr)
    taken.add(name)
    try:
        hostnet.attach_to_bridge(name, bridge, mtu)
        if nic.coalesce_rx_frames:
            hostnet.set_coalesce(name, nic.coalesce_rx_frames)
    except BaseException:
        os.close(fd)
        raise
    nic.target_dev = name
    return fd


def _ethernet_tap(nic: Any, taken: set[str], vnet_hdr: bool) -> int:
    """``type='ethernet'``: a tap on no bridge (libvirt's qemuInterfaceEthernetConnect).  A
    managed one is created (its <target dev>, or the next vnetN) and set up; an unmanaged one
    (``<target managed='no'>``) must exist and is only opened."""
    from pyvirt.network import hostnet

    if nic.target_managed is False:
        if not nic.target_dev:
            raise PyvirtError("unsupported configuration: target dev must be supplied when managed='no'",
                              ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)
        hostnet.check_ifname(nic.target_dev, "tap device")
        if nic.target_dev not in taken:
            raise PyvirtError(f"Unable to get index for interface {nic.target_dev}: No such device",
                              ErrorCode.SYSTEM_ERROR, ErrorDomain.QEMU)
        return hostnet.open_tap(nic.target_dev, vnet_hdr=vnet_hdr)
    name = nic.target_dev if nic.target_dev and not nic.target_dev.startswith("vnet") else None
    if name is not None:
        hostnet.check_ifname(name, "tap device")
    name = name or hostnet.free_name("vnet", taken)
    fd = hostnet.open_tap(name, vnet_hdr=vnet_hdr)
    taken.add(name)
    try:
        hostnet.link_up(name)
        _host_side_addresses(nic, name)
        if nic.script_path:
            _run_script(nic.script_path, name)
    except BaseException:
        os.close(fd)
        raise
    nic.target_dev = name
    return fd


def _host_side_addresses(nic: Any, tap: str) -> None:
    """virNetDevIPInfoAddToDev: the <source><ip>s on the tap, then the <source><route>s through it."""
    from pyvirt.network import hostnet

    for ip in nic.source_ips:
        prefix = ip.prefix if ip.prefix is not None else (128 if ":" in (ip.address or "") else 32)
        hostnet.addr_add(tap, ip.address or "", prefix, ip.peer)
    for route in nic.source_routes:
        prefix = route.prefix if route.prefix is not None else (128 if ":" in (route.address or "") else 32)
        hostnet.route_add(tap, f"{route.address}/{prefix}", route.gateway or "", route.metric)


def _run_script(script: str, tap: str) -> None:
    """virNetDevRunEthernetScript: the interface's <script> with the tap's name, which must
    succeed for the guest to start (an absolute path; its output bounded into the error)."""
    import subprocess

    if not os.path.isabs(script):
        raise PyvirtError(f"unsupported configuration: interface script '{script}' must be an absolute path",
                          ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.QEMU)
    try:
        proc = subprocess.run([script, tap], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PyvirtError(f"internal error: Cannot run interface script {script}: {exc}",
                          ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU) from None
    if proc.returncode != 0:
        raise PyvirtError(f"internal error: Child process ({script} {tap}) unexpected exit status "
                          f"{proc.returncode}: {proc.stderr.strip()[-400:]}", ErrorCode.INTERNAL_ERROR,
                          ErrorDomain.QEMU)


def apply_bandwidth(dom: Domain) -> None:
    """At start, once the taps exist: each tap NIC's <bandwidth> set with tc (libvirt applies it
    there too; a user-mode NIC has no host device, and libvirt ignores its <bandwidth>)."""
    from pyvirt.network import bandwidth

    for nic in dom.devices.interfaces:
        if nic.bandwidth is not None and nic.type in TAP_NIC_TYPES and nic.target_dev:
            bandwidth.apply(nic.target_dev, nic.bandwidth)


def apply_filters(dom: Domain, nwfilters: Any, owner_uuid: str) -> None:
    """At start, once the taps exist: each NIC's ``<filterref>`` applied to its tap as a filter
    binding (libvirt's qemuProcessFiltersInstantiate).  All or nothing: on an error the bindings
    made so far go again."""
    done: list[str] = []
    try:
        for nic in dom.devices.interfaces:
            if filter_nic(dom, nic, nwfilters, owner_uuid):
                done.append(nic.target_dev)
    except BaseException:
        for port in done:
            nwfilters.unbind(port)
        raise


def filter_nic(dom: Domain, nic: Any, nwfilters: Any, owner_uuid: str) -> bool:
    """One NIC's ``<filterref>`` (start or hot-plug) bound to its tap; False when it has none.
    libvirt filters tap NICs only: a user-mode NIC's filter is left unapplied there, and
    pyvirt's rules act on bridge ports, so a tap on no bridge (type='ethernet') is refused."""
    ref = nic.filterref
    if ref is None:
        return False
    if nic.type not in TAP_NIC_TYPES or not nic.target_dev:
        log.warning("%s: interface %s (type='%s') has no host device: its network filter '%s' is not applied "
                    "(as libvirt)", dom.name, nic.mac_address or nic.alias, nic.type, ref.filter)
        return False
    if nwfilters is None:
        raise PyvirtError("this function is not supported by the connection driver: virNWFilterBindingCreateXML "
                          f"(network filter '{ref.filter}' of interface {nic.target_dev}: only qemu:///system "
                          "has network filters)", ErrorCode.NO_SUPPORT, ErrorDomain.NWFILTER)
    if nic.type == "ethernet":
        raise PyvirtError(f"unsupported configuration: network filter '{ref.filter}' on interface type='ethernet' "
                          f"({nic.target_dev}): pyvirt applies network filters to bridge ports (type 'network' or "
                          "'bridge')", ErrorCode.CONFIG_UNSUPPORTED, ErrorDomain.NWFILTER)
    if not ref.filter:
        raise PyvirtError("XML error: <filterref> without a filter attribute", ErrorCode.XML_ERROR, ErrorDomain.DOMAIN)
    from pyvirt.nwfilter.binding import Binding

    params = [(p.name or "", p.value or "") for p in ref.parameters]
    nwfilters.bind(Binding(dom.name, owner_uuid, nic.target_dev, (nic.mac_address or "").lower(), ref.filter,
                           params, linkdev=None))
    return True


def close_all(fds: dict[str, list[int]]) -> None:
    """pyvirtd's copies: once QEMU holds the taps, closing these leaves them to QEMU alone."""
    for group in fds.values():
        for fd in group:
            with contextlib.suppress(OSError):
                os.close(fd)


def lease_addresses(dom: Domain, networks: Any) -> list[dict[str, Any]]:
    """`domifaddr --source lease`: each network NIC's DHCP leases from its network's dnsmasq."""
    if networks is None:
        return []
    out = []
    for i, nic in enumerate(dom.devices.interfaces):
        if nic.type != "network" or not nic.mac_address:
            continue
        with contextlib.suppress(PyvirtError):
            leases = networks.network_dhcp_leases(nic.source_network or "", nic.mac_address)
            addrs = [{"type": "ipv6" if lease["type"] == 1 else "ipv4", "addr": lease["ipaddr"],
                      "prefix": lease["prefix"]} for lease in leases]
            if addrs:
                out.append({"name": nic.target_dev or nic.alias or f"net{i}", "hwaddr": nic.mac_address.lower(),
                            "addrs": addrs})
    return out
