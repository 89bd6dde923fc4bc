"""libvirt's device alias scheme (virtio-disk0, ide0-0-0, net0, serial0, pci.1, usb, ...).

Aliases are start-time defaults, as USB ports are (:func:`pyvirt.xml.defaults.assign_usb_ports`):
libvirt names devices when the guest starts (qemuAssignDeviceAliases), so only the live XML shows
them.  :func:`device_aliases` computes them without touching the domain (the argv builder reads
them that way); :func:`assign_aliases` writes them into a live definition.
"""

from __future__ import annotations

from typing import Any

from .pciaddr import is_q35


def device_aliases(domain: Any) -> dict[int, str]:
    """``{id(device): alias}`` for every device: its own alias, else libvirt's name for it."""
    out: dict[int, str] = {}
    devs = domain.devices

    def put(dev: Any, name: str) -> None:
        out[id(dev)] = getattr(dev, "alias", None) or name

    for disk in devs.disks:
        put(disk, disk_alias(disk, domain))
    q35 = is_q35(domain)
    for c in devs.controllers:
        idx = c.index or 0
        if c.type == "pci":
            name = ("pcie.0" if c.model == "pcie-root" else "pci") if idx == 0 else f"pci.{idx}"
        elif c.type == "usb":
            name = "usb" if idx == 0 else f"usb{idx}"
        elif c.type in ("ide", "sata"):
            name = controller_alias_ide_sata(c.type, idx, q35)
        else:
            name = f"{c.type}{idx}"
        put(c, name)
    for prefix, items in (("fs", devs.filesystems), ("net", devs.interfaces), ("smartcard", devs.smartcards),
                          ("serial", devs.serials),
                          ("parallel", devs.parallels), ("channel", devs.channels),
                          ("input", devs.inputs), ("tpm", devs.tpms), ("sound", devs.sounds),
                          ("video", devs.videos), ("hostdev", devs.hostdevs),
                          ("redir", devs.redirdevs), ("hub", devs.hubs), ("watchdog", devs.watchdogs), ("rng", devs.rngs),
                          ("panic", devs.panics), ("shmem", devs.shmems),
                          ("iommu", [devs.iommu] if devs.iommu is not None else [])):
        for n, dev in enumerate(items):
            put(dev, f"{prefix}{n}")
    for n, con in enumerate(devs.consoles):
        if n == 0 and (con.target_type in (None, "serial")) and devs.serials:
            put(con, out[id(devs.serials[0])])
        else:
            put(con, f"console{n}")
    if devs.memballoon is not None:
        put(devs.memballoon, "balloon0")
    if devs.vsock is not None:
        put(devs.vsock, "vsock0")
    # libvirt names a (NV)DIMM by its slot, virtio-mem/-pmem devices by their position among them
    counts: dict[str, int] = {}
    for mem in devs.memories:
        if mem.model in ("dimm", "nvdimm"):
            slot = mem.address.slot if mem.address is not None and mem.address.slot is not None else 0
            put(mem, f"{mem.model}{slot}")
        else:
            prefix = (mem.model or "").replace("-", "")
            put(mem, f"{prefix}{counts.get(prefix, 0)}")
            counts[prefix] = counts.get(prefix, 0) + 1
    return out


def assign_aliases(domain: Any) -> None:
    """Give every device without an alias libvirt's name for it (a live definition at start)."""
    aliases = device_aliases(domain)
    for dev in all_devices(domain):
        if dev.alias is None:
            dev.alias = aliases[id(dev)]


def all_devices(domain: Any) -> list[Any]:
    """Every device of the domain that carries an alias."""
    devs = domain.devices
    singles = [d for d in (devs.memballoon, devs.iommu, devs.vsock) if d is not None]
    return [*devs.disks, *devs.controllers, *devs.filesystems, *devs.interfaces, *devs.smartcards, *devs.serials,
            *devs.parallels, *devs.channels, *devs.consoles, *devs.inputs, *devs.tpms, *devs.sounds,
            *devs.videos, *devs.hostdevs, *devs.redirdevs, *devs.hubs, *devs.watchdogs, *devs.rngs, *devs.panics,
            *devs.shmems, *devs.memories, *singles]


def controller_alias_ide_sata(type_: str, index: int, q35: bool) -> str:
    """libvirt's qemuAssignDeviceControllerAlias: the i440fx's built-in IDE and the q35's built-in
    AHCI (SATA index 0) are QEMU's ``ide``; any other IDE/SATA controller is TYPE+INDEX
    (an AHCI added to an i440fx guest is ``sata0``)."""
    if index == 0 and ((type_ == "ide" and not q35) or (type_ == "sata" and q35)):
        return "ide"
    return f"{type_}{index}"


def disk_alias(disk: Any, domain: Any) -> str:
    addr = disk.address
    bus = disk.target_bus
    if bus in ("ide", "sata", "scsi", "fdc") and addr is not None and addr.type == "drive":
        if bus == "scsi":
            model = next((c.model for c in domain.devices.controllers
                          if c.type == "scsi" and (c.index or 0) == (addr.controller or 0)), None)
            if model == "lsilogic":  # qemuAssignDeviceDiskAlias: only LSI Logic has no target level
                return f"scsi{addr.controller or 0}-{addr.bus or 0}-{addr.unit or 0}"
            return f"scsi{addr.controller or 0}-{addr.bus or 0}-{addr.target or 0}-{addr.unit or 0}"
        return f"{bus}{addr.controller or 0}-{addr.bus or 0}-{addr.unit or 0}"
    idx = dev_index(disk.target_dev or "")
    if bus == "virtio":
        return f"virtio-disk{idx}"
    if bus == "usb":
        return f"usb-disk{idx}"
    return f"{bus}-disk{idx}"


def dev_index(dev: str) -> int:
    """'vda' -> 0, 'sdaa' -> 26 (libvirt's virDiskNameToIndex)."""
    for prefix in ("xvd", "ubd", "hd", "sd", "vd", "fd"):
        if dev.startswith(prefix):
            dev = dev[len(prefix):]
            break
    n = 0
    for ch in dev:
        if not ch.isalpha():
            break
        n = n * 26 + (ord(ch) - ord("a") + 1)
    return max(n - 1, 0)
