"""Host network interfaces and node devices, read from sysfs as libvirt's udev backends see them.

Read-only: what `virsh iface-list` / `nodedev-list` (and Cockpit's host device and "direct
attachment" pickers) show.  Interfaces are every entry of /sys/class/net (up when IFF_UP is set);
node devices are the `computer` root, the PCI functions and the network interfaces, named as
libvirt names them (pci_DDDD_BB_SS_F, net_IFACE_MAC), with the XML fields libvirt fills from
the same sysfs files.  Values from sysfs reach the XML only through lxml elements and
pyvirt.xml's writer (escaped).
"""

from __future__ import annotations

import os
from pathlib import Path

from pyvirt.api import ErrorCode, ErrorDomain, InterfaceInfo, NodeDeviceInfo, PyvirtError
from pyvirt.xml.lazy_etree import etree as ET

SYS = Path("/sys")
MAX_READ = 4096


def read_sysfs(path: Path) -> str:
    """A sysfs attribute's value (bounded, stripped; "" when it cannot be read)."""
    try:
        with open(path) as handle:
            return handle.read(MAX_READ).strip()
    except OSError:
        return ""


def _up(net: Path) -> bool:
    try:
        return bool(int(read_sysfs(net / "flags") or "0", 16) & 1)  # IFF_UP
    except ValueError:
        return False


def list_interfaces(sys: Path = SYS) -> list[InterfaceInfo]:
    out = []
    for net in sorted((sys / "class/net").iterdir()) if (sys / "class/net").is_dir() else ():
        out.append(InterfaceInfo(net.name, read_sysfs(net / "address"), _up(net)))
    return out


def _no_interface(name: str) -> PyvirtError:
    return PyvirtError(f"Interface not found: couldn't find interface named '{name}'",
                       ErrorCode.NO_INTERFACE, ErrorDomain.INTERFACE)


def _tostring(root: ET._Element) -> str:
    """libvirt's layout (single quotes, two-space indent), by the one XML writer of pyvirt.xml."""
    from pyvirt.xml.mapping import to_text

    return to_text(root)


def interface_xml(name: str, sys: Path = SYS) -> str:
    """libvirt's udev backend: type ethernet or bridge (with its ports), MAC, link state/speed."""
    net = sys / "class/net" / name
    if "/" in name or name in ("", ".", "..") or not net.is_dir():
        raise _no_interface(name)
    bridge = (net / "bridge").is_dir()
    root = ET.Element("interface", type="bridge" if bridge else "ethernet", name=name)
    ET.SubElement(root, "start", mode="none")
    if not bridge:
        ET.SubElement(root, "mac", address=read_sysfs(net / "address"))
    link = {"state": read_sysfs(net / "operstate") or "unknown"}
    speed = read_sysfs(net / "speed")
    if speed.isdigit():
        link = {"speed": speed, **link}
    ET.SubElement(root, "link", link)
    if bridge:
        ports = ET.SubElement(root, "bridge")
        for port in sorted(p.name for p in (net / "brif").iterdir()) if (net / "brif").is_dir() else ():
            ET.SubElement(ports, "interface", type="ethernet", name=port)
    return _tostring(root)


# ----------------------------------------------------------------------------- node devices
def _pci_name(address: str) -> str:
    return "pci_" + address.replace(":", "_").replace(".", "_")


def _pci_parent(device: Path) -> str:
    parent = device.resolve().parent.name
    return _pci_name(parent) if parent.count(":") == 2 and "." in parent else "computer"


def _net_name(name: str, mac: str) -> str:
    return f"net_{name}_{mac.replace(':', '_')}" if mac else f"net_{name}"


def node_devices(sys: Path = SYS) -> dict[str, tuple[str, str, Path, str]]:
    """libvirt name -> (parent, capability type, sysfs path, key: PCI address or interface name)."""
    out: dict[str, tuple[str, str, Path, str]] = {"computer": ("", "system", sys / "devices", "")}
    pci = sys / "bus/pci/devices"
    for dev in sorted(pci.iterdir()) if pci.is_dir() else ():
        out[_pci_name(dev.name)] = (_pci_parent(dev), "pci", dev.resolve(), dev.name)
    nets = sys / "class/net"
    for net in sorted(nets.iterdir()) if nets.is_dir() else ():
        device = net / "device"
        parent = _pci_name(device.resolve().name) if device.exists() and (pci / device.resolve().name).exists() \
            else "computer"
        out[_net_name(net.name, read_sysfs(net / "address"))] = (parent, "net", net.resolve(), net.name)
    hosts = sys / "class/scsi_host"
    for host in sorted(hosts.iterdir(), key=_host_number) if hosts.is_dir() else ():
        number = host.name[4:]
        if host.name.startswith("host") and number.isdigit():
            out[f"scsi_host{number}"] = (_pci_ancestor(host.resolve()), "scsi_host", host.resolve(), number)
    return out


def _host_number(host: Path) -> int:
    digits = host.name[4:]
    return int(digits) if digits.isdigit() else -1


def _pci_ancestor(path: Path) -> str:
    """The nearest PCI function above a device (libvirt's udev backend names its nearest known
    ancestor as the parent), else the computer."""
    for parent in path.parents:
        if parent.name.count(":") == 2 and "." in parent.name and (parent / "vendor").exists():
            return _pci_name(parent.name)
    return "computer"


def _wwn(value: str) -> str:
    """A sysfs WWN (0x2000…) as libvirt writes it: hex digits without the 0x."""
    return value[2:] if value.startswith("0x") else value


def fc_host(number: str, sys: Path = SYS) -> dict[str, str] | None:
    """The Fibre Channel facts of SCSI host `number`, None when it has no FC port: wwnn, wwpn,
    fabric_wwn, and max_vports/vports when it can create vHBAs (vport_ops)."""
    fc = sys / "class/fc_host" / f"host{number}"
    if not fc.is_dir():
        return None
    out = {"wwnn": _wwn(read_sysfs(fc / "node_name")), "wwpn": _wwn(read_sysfs(fc / "port_name")),
           "fabric_wwn": _wwn(read_sysfs(fc / "fabric_name"))}
    if (fc / "vport_create").exists():
        out.update(max_vports=read_sysfs(fc / "max_npiv_vports") or "0",
                   vports=read_sysfs(fc / "npiv_vports_inuse") or "0")
    return out


def _caps(cap: str, key: str, sys: Path) -> list[str]:
    """A device's capabilities as virNodeDeviceListCaps: a SCSI host with an FC port adds
    fc_host (and vport_ops when it can create vHBAs)."""
    if cap != "scsi_host":
        return [cap]
    fc = fc_host(key, sys)
    return ["scsi_host"] + ([] if fc is None else ["fc_host"] + (["vport_ops"] if "vports" in fc else []))


def lookup_scsi_host_by_wwn(wwnn: str, wwpn: str, sys: Path = SYS) -> NodeDeviceInfo:
    """nodeDeviceLookupSCSIHostByWWN: the SCSI host whose FC port has both names."""
    for name, (_parent, cap, _path, key) in node_devices(sys).items():
        fc = fc_host(key, sys) if cap == "scsi_host" else None
        if fc is not None and fc["wwnn"] == wwnn and fc["wwpn"] == wwpn:
            return lookup_node_device(name, sys)
    raise PyvirtError(f"Node device not found: no node device with matching wwnn '{wwnn}' and wwpn '{wwpn}'",
                      ErrorCode.NO_NODE_DEVICE, ErrorDomain.NODEDEV)


def list_node_devices(sys: Path = SYS) -> list[NodeDeviceInfo]:
    # as libvirt's udev backend: present devices are active, not persistent, not autostarted; the
    # "computer" root is both
    return [NodeDeviceInfo(name, parent, _caps(cap, key, sys), True, name == "computer", name == "computer")
            for name, (parent, cap, _p, key) in node_devices(sys).items()]


def _no_device(name: str) -> PyvirtError:
    return PyvirtError(f"Node device not found: no node device with matching name '{name}'",
                       ErrorCode.NO_NODE_DEVICE, ErrorDomain.NODEDEV)


def lookup_node_device(name: str, sys: Path = SYS) -> NodeDeviceInfo:
    for dev in list_node_devices(sys):
        if dev.name == name:
            return dev
    raise _no_device(name)


def node_device_xml(name: str, sys: Path = SYS) -> str:
    found = node_devices(sys).get(name)
    if found is None:
        raise _no_device(name)
    parent, cap, path, key = found
    root = ET.Element("device")
    ET.SubElement(root, "name").text = name
    ET.SubElement(root, "path").text = str(path)
    if parent:
        ET.SubElement(root, "parent").text = parent
    driver = path / "driver"
    if driver.exists():
        ET.SubElement(ET.SubElement(root, "driver"), "name").text = os.path.basename(os.path.realpath(driver))
    capability = ET.SubElement(root, "capability", type=cap)
    if cap == "pci":
        domain, bus, slot_fn = key.split(":")
        slot, function = slot_fn.split(".")
        ET.SubElement(capability, "class").text = read_sysfs(path / "class")
        for tag, value in (("domain", domain), ("bus", bus), ("slot", slot), ("function", function)):
            ET.SubElement(capability, tag).text = str(int(value, 16))
        ET.SubElement(capability, "product", id=read_sysfs(path / "device"))
        ET.SubElement(capability, "vendor", id=read_sysfs(path / "vendor"))
    elif cap == "net":
        ET.SubElement(capability, "interface").text = key
        ET.SubElement(capability, "address").text = read_sysfs(path / "address")
        ET.SubElement(capability, "link", state=read_sysfs(path / "operstate") or "unknown")
        ET.SubElement(capability, "capability", type="80203")
    elif cap == "scsi_host":
        ET.SubElement(capability, "host").text = key
        ET.SubElement(capability, "unique_id").text = read_sysfs(path / "unique_id") or "0"
        fc = fc_host(key, sys)
        if fc is not None:
            fc_cap = ET.SubElement(capability, "capability", type="fc_host")
            for tag in ("wwnn", "wwpn", "fabric_wwn"):
                ET.SubElement(fc_cap, tag).text = fc[tag]
            if "vports" in fc:
                ops = ET.SubElement(capability, "capability", type="vport_ops")
                ET.SubElement(ops, "max_vports").text = fc["max_vports"]
                ET.SubElement(ops, "vports").text = fc["vports"]
    return _tostring(root)
