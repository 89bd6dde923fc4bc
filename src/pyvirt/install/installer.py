"""Install media and the install/final XML pair (virtinst's Installer).

An install with a phase (cdrom, network boot, kernel/initrd) boots once from XML that
points at the media with on_reboot=destroy, and is defined with the final XML that boots
from disk; imports have only the final XML.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass

from lxml import etree

from pyvirt.install.defaults import disk_defaults, set_defaults
from pyvirt.install.guest import Guest
from pyvirt.install.xmltree import child, set_text, to_string


@dataclass
class Installer:
    cdrom: str | None = None
    location: str | None = None
    bootdev: str | None = None
    kernel: str | None = None
    initrd: str | None = None
    kernel_args: str | None = None
    no_install: bool = False
    cloudinit: bool = False
    _cdrom_added: bool = False

    def has_install_phase(self) -> bool:
        if self.no_install:
            return False
        return bool(self.cdrom or self.bootdev or self.location or self.kernel)

    def options_specified(self) -> bool:
        return self.no_install or self.has_install_phase()

    def _can_set_bootorder(self, g: Guest) -> bool:
        return (not g.is_container() and g.root.find("os/kernel") is None
                and not g.root.xpath("devices/*/boot[@order]"))

    @staticmethod
    def _boot_order(g: Guest, bootdev: str) -> list[str]:
        order = [bootdev]
        if any(d.get("device", "disk") == "disk" for d in g.devs("disk")) and "hd" not in order:
            order.append("hd")
        return order

    def _postinstall_bootdev(self, g: Guest) -> str:
        if self.cdrom and self.no_install:
            return "cdrom"
        if self.bootdev:
            if any(d.get("device", "disk") == "disk" for d in g.devs("disk")):
                return "hd"
            return self.bootdev
        disks = g.devs("disk")
        device = disks[0].get("device") if disks else None
        return {"cdrom": "cdrom", "floppy": "fd"}.get(device or "", "hd")

    def _add_cdrom(self, g: Guest) -> None:
        if not self.cdrom:
            return
        self._cdrom_added = True
        disk = etree.Element("disk", type="file", device="cdrom")
        if g.ci.is_qemu():
            from pyvirt.install.opts.disk import _find_volume, _volume_format
            pool, vol = _find_volume(g.ci.conn, self.cdrom)
            drv = child(disk, "driver", name="qemu")
            fmt = _volume_format(g.ci.conn, pool, vol) if vol else ("raw" if os.path.exists(self.cdrom) else None)
            if fmt:
                drv.set("type", fmt)
        child(disk, "source", file=self.cdrom)
        existing = g.devs("disk")
        for d in existing:
            if d.get("device") == "cdrom":
                d.addprevious(disk)
                return
        g.add_device(disk)

    def set_install_defaults(self, g: Guest) -> None:
        self._add_cdrom(g)
        if not g.root.findall("os/boot") and self._can_set_bootorder(g):
            g.add_boot(self._boot_order(g, self._postinstall_bootdev(g)))
        for key, val in (("kernel", self.kernel), ("initrd", self.initrd)):
            if val and self.no_install:
                set_text(g.os, key, val)
        g.set_metadata_osinfo()
        set_defaults(g)
        for disk in g.devs("disk"):
            disk_defaults(g, disk)
        if g.root.find("memory") is None and g.root.find("currentMemory") is not None:
            cur = g.root.find("currentMemory")
            mem = set_text(g.root, "memory", cur.text)
            del mem

    def build_xml(self, g: Guest) -> tuple[str | None, str]:
        final = copy.deepcopy(g.root)
        if not (self.has_install_phase() or self.cloudinit):
            return None, to_string(final)
        initial = copy.deepcopy(g.root)
        ig = _Shadow(g, initial)
        set_text(initial, "on_reboot", "destroy")
        if self.kernel and not self.no_install:
            set_text(initial.find("os"), "kernel", self.kernel)
            if self.initrd:
                set_text(initial.find("os"), "initrd", self.initrd)
            if self.kernel_args:
                set_text(initial.find("os"), "cmdline", self.kernel_args)
        if self.bootdev and self._can_set_bootorder(ig):
            ig.add_boot(self._boot_order(ig, self.bootdev))
        else:
            ig.add_boot([])
        if self.cloudinit:
            child(initial.find("os"), "smbios", mode="sysinfo")
        if self._cdrom_added and not g.osinfo.is_windows():
            for d in final.findall("devices/disk"):
                src = d.find("source")
                if d.get("device") == "cdrom" and src is not None and src.get("file") == self.cdrom:
                    d.remove(src)
                    break
        return to_string(initial), to_string(final)


class _Shadow(Guest):
    """A Guest view over another tree (the install-time copy)."""

    def __init__(self, g: Guest, root: etree._Element) -> None:  # noqa: D107
        self.__dict__.update(g.__dict__)
        self.root = root
