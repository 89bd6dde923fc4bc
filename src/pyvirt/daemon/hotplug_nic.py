"""Network interfaces of running guests: hot-plug, unplug, link state and traffic counters.

As libvirt's QEMU driver: a new NIC is completed as define would (MAC, PCI address, alias) once,
so the live and the persistent copies share its MAC; a tap NIC's tap is opened by pyvirtd and
handed to QEMU over the monitor (SCM_RIGHTS + getfd) where a start passes it on the command line;
netdev_add and device_add take the very JSON of -netdev and -device (pyvirt.qemu.hotplug).  An
unplug removes the backend when QEMU's DEVICE_DELETED comes (daemon.hotplug).  Both emit libvirt's
device-added / device-removed events.  Which NIC an XML names is libvirt's virDomainNetFindIdx
rule: by MAC when one is given, by PCI address when one is given, else the only one there is.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import os
from typing import TYPE_CHECKING, Any

from pyvirt.api import DeviceAddedEvent, ErrorCode, ErrorDomain, PyvirtError
from pyvirt.daemon import hotplug, model
from pyvirt.daemon.hotplug import Backend, probe_device, with_device
from pyvirt.daemon.records import DomainRecord
from pyvirt.xml.errors import XMLError
from pyvirt.xml.nictypes import TAP_NIC_TYPES

if TYPE_CHECKING:
    from pyvirt.xml.domain import Domain

log = logging.getLogger(__name__)

#: libvirt's counters, in virDomainInterfaceStats' order; a tap's rx is the guest's tx
IFSTAT_FIELDS = ("rx_bytes", "rx_packets", "rx_errs", "rx_drop", "tx_bytes", "tx_packets", "tx_errs", "tx_drop")
_SYSFS_OF = {"rx_bytes": "tx_bytes", "rx_packets": "tx_packets", "rx_errs": "tx_errors", "rx_drop": "tx_dropped",
             "tx_bytes": "rx_bytes", "tx_packets": "rx_packets", "tx_errs": "rx_errors", "tx_drop": "rx_dropped"}


def _missing(message: str) -> PyvirtError:
    return PyvirtError(f"device not found: {message}", ErrorCode.DEVICE_MISSING, ErrorDomain.DOMAIN)


def find_nic(dom: Domain, probe: Any) -> Any:
    """libvirt's virDomainNetFindIdx: the one NIC matching the probe's MAC and PCI address."""
    addr = probe.address
    pci = (addr.domain, addr.bus, addr.slot, addr.function) if addr is not None and addr.type == "pci" else None
    mac = (probe.mac_address or "").lower() or None
    found = []
    for nic in dom.devices.interfaces:
        if mac and (nic.mac_address or "").lower() != mac:
            continue
        if pci and (nic.address is None or (nic.address.domain, nic.address.bus, nic.address.slot,
                                            nic.address.function) != pci):
            continue
        found.append(nic)
    if len(found) > 1:
        raise PyvirtError("operation failed: " + (f"multiple devices matching MAC address {mac} found" if mac
                                                  else "multiple matching devices found"),
                          ErrorCode.OPERATION_FAILED, ErrorDomain.DOMAIN)
    if not found:
        if mac:
            raise _missing(f"no device matching MAC address {mac} found")
        raise _missing("no matching device found")
    return found[0]


def nic_by_name(dom: Domain, device: str) -> Any:
    """libvirt's virDomainNetFind: a NIC by MAC address or host-side device name."""
    for nic in dom.devices.interfaces:
        if (nic.mac_address or "").lower() == device.lower() or (nic.target_dev and nic.target_dev == device):
            return nic
    raise PyvirtError(f"invalid argument: '{device}' is not a known interface", ErrorCode.INVALID_ARG,
                      ErrorDomain.DOMAIN)


class NicHotplugMixin:
    """The <interface> half of attach/detach/update_device, and interface_stats, for QemuDriver."""

    # lookup, _running, _targets, _commit, _qmp, caps, events and networks come from QemuDriver

    async def _attach_nic(self, rec: DomainRecord, el: Any, live: bool, config: bool) -> None:
        from pyvirt.xml.defaults import random_mac

        if el.find("mac") is None:  # one MAC for the live and the persistent copy
            from lxml import etree

            el.insert(0, etree.Element("mac", address=random_mac()))
        plugged = None
        async with rec.lock:
            targets = self._targets(rec, live, config)
            new_config = new_live = None
            for current in targets:
                changed = with_device(current, el, inactive=current is rec.config)
                if current is rec.config:
                    new_config = changed
                else:
                    new_live = changed
            if new_live is not None:
                plugged = new_live.devices.interfaces[-1]  # appended last
                try:
                    await self._plug_nic(rec, new_live, plugged)
                except BaseException:
                    if rec.run is not None and plugged.alias in rec.run.unplugging:
                        # QEMU refused a later step and the guest has not let the new device go
                        # yet: it stays in the live XML (seen, its alias taken) until its
                        # DEVICE_DELETED completes the removal, as a detach's would
                        self._commit(rec, live=new_live, applied=True)
                    raise
            self._commit(rec, config=new_config, live=new_live, applied=True)
        if plugged is not None:
            self.events.emit_device(DeviceAddedEvent, rec.name, rec.uuid, plugged.alias or "", rec.id)

    async def _plug_nic(self, rec: DomainRecord, live: Domain, nic: Any) -> None:
        from pyvirt.daemon import nics
        from pyvirt.qemu.hotplug import nic_plug
        from pyvirt.xml.defaults import assign_start_defaults

        run = self._running(rec)
        caps = await self.caps()
        if self.networks is None:
            note = nics.session_nic(nic)  # as at start: session NICs use user-mode networking
            if note:
                log.warning("%s: %s", rec.name, note)
        assign_start_defaults(live)  # the new NIC's alias, as at start
        fd = fd_name = None
        filtered = False
        if nic.type in TAP_NIC_TYPES:
            fd = await asyncio.to_thread(nics.open_tap, nic, self.networks)
            fd_name = f"fd-{nic.alias}"
        try:
            if nic.filterref is not None:
                filtered = await asyncio.to_thread(nics.filter_nic, live, nic, self.nwfilters, rec.uuid)
            try:
                netdev, device = nic_plug(live, nic, caps, fd_name)
            except XMLError as exc:
                raise model.xml_error(exc) from exc
            undo: list[tuple[str, dict[str, Any]]] = []  # what QEMU was given, undone in reverse on failure
            try:
                if fd is not None:
                    assert run.qmp is not None
                    run.qmp.send_fd_scm(fd)
                    await self._qmp(run, "getfd", {"fdname": fd_name})
                    undo.append(("closefd", {"fdname": fd_name}))
                await self._qmp(run, "netdev_add", netdev)
                undo[-1:] = [("netdev_del", {"id": netdev["id"]})]  # the netdev holds the fd now
                await self._qmp(run, "device_add", device)
                undo.append(("device_del", {"id": device["id"]}))
                if nic.link_state == "down":
                    await self._qmp(run, "set_link", {"name": nic.alias, "up": False})
            except BaseException:
                # the attach failed: QEMU keeps nothing of it (a device the live XML does not show
                # could be neither seen nor detached, and the next NIC would take its alias).  A
                # device_add QEMU took is gone only when the guest lets it go (DEVICE_DELETED):
                # its backend goes after it, now or, with a guest slow to release it, then
                for command, args in reversed(undo):
                    with contextlib.suppress(Exception):
                        if command == "device_del":
                            if not await self._device_del(run, nic.alias, hotplug.DETACH_WAIT):
                                run.unplugging[nic.alias] = {"netdev": netdev["id"],
                                                             "tap": nic.target_dev if filtered else None}
                                log.info("%s: device %s of a failed attach is removed when the guest "
                                         "releases it", rec.name, nic.alias)
                                break
                        else:
                            await self._qmp(run, command, args)
                raise
        except BaseException:
            if filtered and nic.alias not in run.unplugging:  # the tap goes with our fd: so do its rules
                await asyncio.to_thread(self.nwfilters.unbind, nic.target_dev)
            raise
        finally:
            if fd is not None:
                os.close(fd)  # QEMU holds its own copy now (or never will: the tap goes with ours)

    async def _detach_nic(self, rec: DomainRecord, el: Any, live: bool, config: bool) -> None:
        probe = probe_device(el, "interfaces")
        await self._detach_from(rec, live, config, "interfaces", lambda current: find_nic(current, probe))

    async def _nic_backend(self, rec: DomainRecord, nic: Any) -> Backend:
        """A NIC's backend: its netdev (the tap goes with QEMU's fd) and its filter binding."""
        return {"netdev": f"host{nic.alias}", "tap": nic.target_dev}

    async def _update_nic(self, rec: DomainRecord, el: Any, live: bool, config: bool) -> None:
        """What libvirt changes on a NIC in place here: its link state (QMP set_link when live).
        Any other difference is refused, naming it, as libvirt refuses what it cannot change."""
        probe = probe_device(el, "interfaces")
        async with rec.lock:
            targets = self._targets(rec, live, config)
            new_config = new_live = None
            for current in targets:
                nic = find_nic(current, probe)
                for field in ("type", "model_type", "source_network", "source_bridge"):
                    if getattr(probe, field) is not None and getattr(probe, field) != getattr(nic, field):
                        what = field.replace("_type", "").replace("source_", "source ")
                        raise PyvirtError(f"Operation not supported: cannot modify network device {what} setting",
                                          ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
                changed = copy.deepcopy(current)
                mine = changed.devices.interfaces[current.devices.interfaces.index(nic)]
                mine.link_state = None if probe.link_state in (None, "up") else probe.link_state
                if current is rec.config:
                    new_config = model.parse_definition(changed.to_xml(inactive=True, security_info=True))
                else:
                    if (nic.link_state or "up") != (probe.link_state or "up"):
                        await self._qmp(self._running(rec), "set_link",
                                        {"name": nic.alias, "up": (probe.link_state or "up") == "up"})
                    new_live = changed
            self._commit(rec, config=new_config, live=new_live, applied=True)

    async def set_nic_links(self, rec: DomainRecord) -> None:
        """At start, before the guest runs: links the XML sets down (libvirt does the same)."""
        assert rec.run is not None and rec.live is not None
        for nic in rec.live.devices.interfaces:
            if nic.link_state == "down":
                await self._qmp(rec.run, "set_link", {"name": nic.alias, "up": False})

    def interface_parameters(self, dom: str, device: str, live: bool = False, config: bool = False) -> dict[str, int]:
        """domiftune: the NIC's <bandwidth> in the definition asked for."""
        from pyvirt.xml.tunables import bandwidth_params

        rec = self.lookup(dom)
        return bandwidth_params(nic_by_name(self._one(rec, live, config), device).bandwidth)  # type: ignore[attr-defined]

    async def set_interface_parameters(self, dom: str, device: str, params: dict[str, int], live: bool = False,
                                       config: bool = False) -> None:
        """domiftune --inbound/--outbound: the running guest's tap gets the new limits with tc first
        (network/bandwidth.py: libvirt's qdiscs), then the definitions change."""
        from pyvirt.network import bandwidth
        from pyvirt.xml.tunables import BANDWIDTH_PARAMS, set_bandwidth

        for name, value in params.items():
            if name not in BANDWIDTH_PARAMS:
                raise PyvirtError(f"argument unsupported: parameter '{name}' not supported",
                                  ErrorCode.ARGUMENT_UNSUPPORTED, ErrorDomain.NONE)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise PyvirtError(f"invalid argument: invalid value for parameter '{name}'", ErrorCode.INVALID_ARG,
                                  ErrorDomain.NONE)
        rec = self.lookup(dom)
        async with rec.lock:
            targets = self._targets(rec, live, config)
            for target in targets:
                nic_by_name(target, device)  # each copy must have it, before anything changes
            if rec.live is not None and any(t is rec.live for t in targets):
                nic = copy.deepcopy(nic_by_name(rec.live, device))
                if nic.type not in TAP_NIC_TYPES or not nic.target_dev:  # virNetDevSupportsBandwidth
                    raise PyvirtError(f"unsupported configuration: setting bandwidth on interfaces of type "
                                      f"'{nic.type}' is not implemented yet", ErrorCode.CONFIG_UNSUPPORTED,
                                      ErrorDomain.QEMU)
                set_bandwidth(nic, params)
                await asyncio.to_thread(bandwidth.apply, nic.target_dev, nic.bandwidth)
            self._change(rec, targets, lambda target: set_bandwidth(nic_by_name(target, device), params))

    async def interface_stats(self, dom: str, device: str) -> dict[str, int]:
        """The host side of a NIC's tap, seen from the guest (rx and tx swapped), as libvirt."""
        rec = self.lookup(dom)
        self._running(rec)
        nic = nic_by_name(rec.current(), device)
        if nic.type not in TAP_NIC_TYPES or not nic.target_dev:
            raise PyvirtError(f"Operation not supported: interface '{device}' (type='{nic.type}') has no host "
                              "device to count its traffic on (QEMU's user-mode network keeps no counters)",
                              ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.QEMU)
        from pyvirt.network.hostnet import check_ifname

        check_ifname(nic.target_dev, "interface")
        out: dict[str, int] = {}
        base = f"/sys/class/net/{nic.target_dev}/statistics"
        for key in IFSTAT_FIELDS:
            try:
                with open(os.path.join(base, _SYSFS_OF[key])) as handle:
                    out[key] = int(handle.read(64).strip())
            except (OSError, ValueError) as exc:
                raise PyvirtError(f"internal error: cannot read the counters of '{nic.target_dev}': {exc}",
                                  ErrorCode.INTERNAL_ERROR, ErrorDomain.QEMU) from exc
        return out
